/**
 * Google backfill: `events` events in one calendar of the Google stand-in, imported into PostgreSQL
 * through the real import engine (syncCalendar → openStoredProvider → the Google adapter with its
 * stored grant from a real consent on the stand-in), against the adapter's fetch alone (no
 * database). Goal: ≥ 2,000 events/s. Also the incremental sync that finds nothing changed. Each
 * time is the median of a few runs. Prints one JSON object.
 */

import { importWindow, syncCalendar } from '../connections/import-engine.ts';
import { createGoogleProvider } from '../providers/google/adapter.ts';
import { linkAccount, MemoryGrant, standinSettings } from '../test/standins/google/grant.ts';
import { startGoogleStandin } from '../test/standins/google/server.ts';
import { seedConnection } from '../test/support/seed.ts';
import { benchDatabase, round } from './support.ts';

const EMAIL = 'bench@example.com';
const RUNS = 3;
const GOAL_EVENTS_PER_SECOND = 2000;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function benchGoogleBackfill(events = 10_000) {
  const db = await benchDatabase();
  const standin = await startGoogleStandin();
  try {
    const config = { ...db.config, ...standin.env };
    const window = importWindow(new Date(), config.SYNC_WINDOW_PAST_DAYS, config.SYNC_WINDOW_FUTURE_DAYS);
    standin.addAccount({ email: EMAIL });
    // Half-hour events spread evenly over the window.
    const step = Math.floor((window.end.getTime() - window.start.getTime()) / events);
    for (let i = 0; i < events; i++) {
      const start = new Date(window.start.getTime() + i * step);
      standin.putEvent(EMAIL, EMAIL, {
        summary: `Event ${i}`,
        start,
        end: new Date(start.getTime() + 1_800_000),
      });
    }
    const { credentials } = await linkAccount(standin, EMAIL);

    // Fetching alone, without the database: what the adapter and the stand-in cost.
    const provider = createGoogleProvider(
      {
        provider: 'google',
        serverUrl: null,
        credentials,
        grant: new MemoryGrant(standinSettings(standin), credentials),
      },
      {
        requestTimeoutMs: 60_000,
        userAgent: 'Calbridge-bench/1.0',
        apiUrls: { google: standin.url, microsoftGraph: '' },
      },
    );
    const fetchOnly = async () => {
      const started = performance.now();
      let fetched = 0;
      for await (const page of provider.fetchChanges({
        calendar: { externalId: EMAIL },
        window,
        cursor: null,
        known: new Map(),
      })) {
        fetched += page.upserts.length;
      }
      if (fetched !== events) throw new Error(`The adapter fetched ${fetched} of ${events} events`);
      return performance.now() - started;
    };
    const backfill = async () => {
      const { calendarId } = await seedConnection(db.orm, config, {
        provider: 'google',
        serverUrl: null,
        credentials,
        externalId: EMAIL,
      });
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, config, calendarId);
      return { ms: performance.now() - started, calendarId, imported: result.eventCount };
    };
    const noChange = async (calendarId: string) => {
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, config, calendarId);
      if (result.mode !== 'incremental' || result.upserted !== 0) {
        throw new Error(`The no-change sync was ${result.mode} with ${result.upserted} upserts`);
      }
      return performance.now() - started;
    };

    await fetchOnly(); // warm-up: module loading, JIT
    const samples = { fetch: [] as number[], backfill: [] as number[], incremental: [] as number[] };
    let imported = 0;
    for (let i = 0; i < RUNS; i++) {
      samples.fetch.push(await fetchOnly());
      const run = await backfill();
      samples.backfill.push(run.ms);
      samples.incremental.push(await noChange(run.calendarId));
      imported = run.imported;
    }
    if (imported !== events) throw new Error(`The import stored ${imported} of ${events} events`);
    const backfillMs = median(samples.backfill);
    return {
      benchmark: 'google_backfill',
      events,
      imported,
      backfillMs: round(backfillMs),
      eventsPerSecond: round((imported / backfillMs) * 1000, 0),
      goalEventsPerSecond: GOAL_EVENTS_PER_SECOND,
      fetchOnlyMs: round(median(samples.fetch)),
      fetchOnlyEventsPerSecond: round((events / median(samples.fetch)) * 1000, 0),
      incrementalNoChangeMs: round(median(samples.incremental)),
      apiRequests: standin.requests.filter((r) => r.path.startsWith('/calendar/v3/')).length,
      runs: RUNS,
    };
  } finally {
    await standin.close();
    await db.drop();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchGoogleBackfill(Number(process.argv[2] ?? 10_000))));
}
