/**
 * Microsoft 365 backfill: `events` half-hour events (forty a day) in one calendar of the Graph stand-in, imported
 * into PostgreSQL through the real adapter (calendarView delta, 500-event pages) and the sync
 * engine, with a grant from a real consent through MSAL. Also the adapter's fetch alone (no
 * database) and the incremental sync that finds nothing changed. Goal: ≥ 2,000 events/s. Each time
 * is the median of a few runs. Prints one JSON object.
 */
import { importWindow, syncCalendar } from '../connections/import-engine.ts';
import { createMicrosoftProvider } from '../providers/microsoft/adapter.ts';
import { linkAccount, memoryGrant, standinSettings } from '../test/standins/microsoft/grant.ts';
import { startMicrosoftStandin } from '../test/standins/microsoft/standin.ts';
import { trustStandinCaInProcess } from '../test/standins/tls.ts';
import { calendarScenario } from '../test/support/calendar-scenario.ts';
import { seedConnection } from '../test/support/seed.ts';
import { benchDatabase, round } from './support.ts';

const RUNS = 3;
const EMAIL = 'bench@example.com';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function benchMicrosoftBackfill(events = 10_000) {
  trustStandinCaInProcess();
  const db = await benchDatabase();
  const standin = await startMicrosoftStandin();
  try {
    const config = {
      ...db.config,
      MICROSOFT_AUTHORITY: standin.authority,
      MICROSOFT_GRAPH_URL: standin.graphUrl,
      MICROSOFT_CLIENT_ID: standin.clientId,
      MICROSOFT_CLIENT_SECRET: standin.clientSecret,
    };
    const { calendarIds } = standin.addAccount({ email: EMAIL });
    const calendarId = calendarIds[0]!;
    const { at } = calendarScenario();
    for (let i = 0; i < events; i++) {
      // Forty a day, back to back from 04:00, so that the whole set fits the import window.
      const start = at(Math.floor(i / 40), 4 + Math.floor((i % 40) / 2), (i % 2) * 30, 'UTC');
      standin.putEvent(EMAIL, calendarId, {
        subject: `Event ${i}`,
        start,
        end: new Date(start.getTime() + 1_800_000),
        timeZone: 'W. Europe Standard Time',
      });
    }
    const settings = standinSettings(standin, {
      redirectUri: `${config.PUBLIC_URL}/v1/oauth/microsoft/callback`,
    });
    const link = await linkAccount(standin, EMAIL, settings);
    const window = importWindow(new Date(), config.SYNC_WINDOW_PAST_DAYS, config.SYNC_WINDOW_FUTURE_DAYS);

    // Fetching alone, without the database: what the adapter costs over the stand-in.
    const provider = createMicrosoftProvider(
      {
        provider: 'microsoft',
        serverUrl: null,
        credentials: link.credentials,
        grant: memoryGrant(settings, link.credentials),
      },
      {
        requestTimeoutMs: 60_000,
        userAgent: 'Calbridge-bench/1.0',
        apiUrls: { google: '', microsoftGraph: standin.graphUrl },
      },
    );
    const fetchOnly = async () => {
      const started = performance.now();
      let objects = 0;
      for await (const page of provider.fetchChanges({
        calendar: { externalId: calendarId },
        window,
        cursor: null,
        known: new Map(),
      })) {
        objects += page.upserts.length;
      }
      if (objects !== events) throw new Error(`The adapter fetched ${objects} of ${events} events`);
      return performance.now() - started;
    };
    const backfill = async () => {
      const seeded = await seedConnection(db.orm, config, {
        provider: 'microsoft',
        serverUrl: null,
        credentials: link.credentials,
        externalId: calendarId,
      });
      const requestsBefore = standin.requests.length;
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, config, seeded.calendarId);
      return {
        ms: performance.now() - started,
        calendarId: seeded.calendarId,
        imported: result.eventCount,
        requests: standin.requests.length - requestsBefore,
      };
    };
    const noChange = async (id: string) => {
      const started = performance.now();
      const result = await syncCalendar(db.orm.em, config, id);
      if (result.mode !== 'incremental' || result.upserted !== 0) {
        throw new Error(`The no-change sync was ${result.mode} with ${result.upserted} upserts`);
      }
      return performance.now() - started;
    };

    await fetchOnly();
    const samples = { fetch: [] as number[], backfill: [] as number[], incremental: [] as number[] };
    let imported = 0;
    let requestsPerBackfill = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = await backfill();
      samples.backfill.push(run.ms);
      samples.fetch.push(await fetchOnly());
      samples.incremental.push(await noChange(run.calendarId));
      imported = run.imported;
      requestsPerBackfill = run.requests;
    }
    const backfillMs = median(samples.backfill);
    return {
      benchmark: 'microsoft_backfill',
      events,
      imported,
      backfillMs: round(backfillMs),
      eventsPerSecond: round((imported / backfillMs) * 1000, 0),
      goalEventsPerSecond: 2000,
      fetchOnlyMs: round(median(samples.fetch)),
      fetchOnlyEventsPerSecond: round((events / median(samples.fetch)) * 1000, 0),
      incrementalNoChangeMs: round(median(samples.incremental)),
      // Every request the stand-in saw during one backfill (Graph and any token refresh at Entra).
      requestsPerBackfill,
      runs: RUNS,
    };
  } finally {
    await standin.close();
    await db.drop();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchMicrosoftBackfill(Number(process.argv[2] ?? 10_000))));
}
