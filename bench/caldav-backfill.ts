/**
 * CalDAV backfill from two server implementations, Radicale and Xandikos: 2,000 events in one
 * calendar, imported into PostgreSQL through the real CalDAV adapter and sync engine, against the
 * time of ONE raw calendar-query REPORT returning every object's calendar-data over the same window
 * (fetched and read, not parsed). Goal: backfill ≤ 1.5× the raw REPORT on both servers. Also the
 * incremental sync that finds nothing changed. Each time is the median of a few runs (the machine is
 * shared), after one warm-up read that the servers need to load (Radicale) or index (Xandikos) their
 * storage, measured apart. Prints one JSON object per server and line.
 */

import { openProvider } from '../connections/credentials.ts';
import { importWindow, syncCalendar } from '../connections/import-engine.ts';
import { createCalDavProvider } from '../providers/caldav/adapter.ts';
import { basicUtc } from '../providers/caldav/slices.ts';
import { calendarScenario } from '../test/support/calendar-scenario.ts';
import { generateIcsEvent } from '../test/support/generate-ics.ts';
import { startRadicale } from '../test/support/radicale.ts';
import { seedConnection } from '../test/support/seed.ts';
import { startXandikos } from '../test/support/xandikos.ts';
import { benchDatabase, round } from './support.ts';

export type CalDavServerKind = 'radicale' | 'xandikos';

const USER = { username: 'bench', password: 'bench-pw' };
const RUNS = 5;

interface BenchServer {
  url: string;
  collection: string;
  stop(): Promise<void>;
}

/** A server with `events` half-hour events, ten a day from today. */
async function seededServer(kind: CalDavServerKind, events: number): Promise<BenchServer> {
  const { at } = calendarScenario();
  const items = Array.from({ length: events }, (_, i) => {
    const start = at(Math.floor(i / 10), 8 + (i % 10), 0, 'UTC');
    return {
      name: `bulk-${i}.ics`,
      ics: generateIcsEvent({
        uid: `bulk-${i}@bench`,
        summary: `Event ${i}`,
        start,
        end: new Date(start.getTime() + 1_800_000),
      }),
    };
  });
  // Written straight into the servers' storage: their PUTs grow slower with the collection's size.
  if (kind === 'radicale') {
    const radicale = await startRadicale({ users: [USER] });
    const collection = await radicale.createCalendar(USER.username, USER.password, 'bulk', {
      displayName: 'Bulk',
    });
    await radicale.seedEvents(collection, items);
    return { url: radicale.url, collection, stop: () => radicale.stop() };
  }
  const xandikos = await startXandikos({ user: USER });
  const collection = await xandikos.createCalendar('bulk', { displayName: 'Bulk' });
  await xandikos.seedEvents(collection, items);
  return { url: xandikos.url, collection, stop: () => xandikos.stop() };
}

/** One calendar-query REPORT with calendar-data over the window: status checked, body read whole. */
function rawReport(collection: string, window: { start: Date; end: Date }): Promise<number> {
  return timedDavRequest(
    collection,
    'REPORT',
    '1',
    '<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
      '<d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">' +
      `<c:time-range start="${basicUtc(window.start.getTime())}" end="${basicUtc(window.end.getTime())}"/>` +
      '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>',
    /VEVENT/,
  );
}

/**
 * The PROPFIND of the collection's sync-token (with what the adapter asks alongside), which a full
 * sync must have read before its listing begins (docs/PROVIDERS.md): with the raw REPORT, the floor
 * of a backfill's time.
 */
function rawTokenRead(collection: string): Promise<number> {
  return timedDavRequest(
    collection,
    'PROPFIND',
    '0',
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/>' +
      '<d:supported-report-set/><d:resourcetype/></d:prop></d:propfind>',
    /sync-token/,
  );
}

/** One raw DAV request as the bench user, timed until its whole body is read; a 207 carrying `expect`. */
async function timedDavRequest(
  collection: string,
  method: 'REPORT' | 'PROPFIND',
  depth: '0' | '1',
  body: string,
  expect: RegExp,
): Promise<number> {
  const started = performance.now();
  const response = await fetch(collection, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`,
      Depth: depth,
      'Content-Type': 'application/xml; charset=utf-8',
    },
    body,
  });
  const text = await response.text();
  if (response.status !== 207 || !expect.test(text)) {
    throw new Error(`The raw ${method} answered ${response.status}`);
  }
  return performance.now() - started;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function benchCalDavBackfill(kind: CalDavServerKind, events = 2000) {
  const db = await benchDatabase();
  const server = await seededServer(kind, events);
  try {
    const window = importWindow(
      new Date(),
      db.config.SYNC_WINDOW_PAST_DAYS,
      db.config.SYNC_WINDOW_FUTURE_DAYS,
    );
    const serverColdReadMs = await rawReport(server.collection, window);
    await rawReport(server.collection, window);
    // The first sync-token Radicale hands out records the state of every object: warm that up too,
    // with a timeout a loaded machine cannot miss.
    const patient = createCalDavProvider(
      { provider: 'caldav', serverUrl: server.url, credentials: { ...USER } },
      { requestTimeoutMs: 300_000, userAgent: 'Calbridge-bench/1.0' },
    );
    for await (const _page of patient.fetchChanges({
      calendar: { externalId: server.collection },
      window,
      cursor: null,
      known: new Map(),
    }));

    const credentials = { username: USER.username, password: USER.password };
    // Fetching alone, without the database: what the adapter adds to the raw REPORT.
    const provider = openProvider(db.config, { provider: 'caldav', serverUrl: server.url, credentials });
    const fetchOnly = async () => {
      const started = performance.now();
      for await (const _page of provider.fetchChanges({
        calendar: { externalId: server.collection },
        window,
        cursor: null,
        known: new Map(),
      }));
      return performance.now() - started;
    };
    const backfill = async () => {
      const { calendarId } = await seedConnection(db.orm, db.config, {
        provider: 'caldav',
        serverUrl: server.url,
        credentials,
        externalId: server.collection,
      });
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, db.config, calendarId);
      const ms = performance.now() - started;
      return { ms, calendarId, imported: result.eventCount };
    };
    const noChange = async (calendarId: string) => {
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, db.config, calendarId);
      if (result.mode !== 'incremental' || result.upserted !== 0) {
        throw new Error(`The no-change sync was ${result.mode} with ${result.upserted} upserts`);
      }
      return performance.now() - started;
    };

    // Interleaved, so that load from elsewhere on the machine weighs on both sides of each ratio.
    const samples = {
      raw: [] as number[],
      fetch: [] as number[],
      backfill: [] as number[],
      ratio: [] as number[],
      token: [] as number[],
      floor: [] as number[],
    };
    const incremental: number[] = [];
    let imported = 0;
    for (let i = 0; i < RUNS; i++) {
      const raw = await rawReport(server.collection, window);
      const run = await backfill();
      samples.raw.push(raw);
      samples.backfill.push(run.ms);
      samples.ratio.push(run.ms / raw);
      samples.fetch.push(await fetchOnly());
      const token = await rawTokenRead(server.collection);
      samples.token.push(token);
      samples.floor.push((token + raw) / raw);
      incremental.push(await noChange(run.calendarId));
      imported = run.imported;
    }
    const backfillMs = median(samples.backfill);

    return {
      benchmark: `caldav_backfill_${kind}`,
      server: kind,
      events,
      imported,
      backfillMs: round(backfillMs),
      rawReportMs: round(median(samples.raw)),
      backfillToRawReport: round(median(samples.ratio), 2),
      bestBackfillToRawReport: round(Math.min(...samples.backfill) / Math.min(...samples.raw), 2),
      goalBackfillToRawReport: 1.5,
      fetchOnlyMs: round(median(samples.fetch)),
      syncTokenReadMs: round(median(samples.token)),
      floorBackfillToRawReport: round(median(samples.floor), 2),
      eventsPerSecond: round((imported / backfillMs) * 1000, 0),
      incrementalNoChangeMs: round(median(incremental)),
      runs: RUNS,
      serverColdReadMs: round(serverColdReadMs),
    };
  } finally {
    await server.stop();
    await db.drop();
  }
}

if (import.meta.main) {
  const events = Number(process.argv[2] ?? 2000);
  for (const kind of ['radicale', 'xandikos'] as const) {
    console.log(JSON.stringify(await benchCalDavBackfill(kind, events)));
  }
}
