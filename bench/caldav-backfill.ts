/**
 * Backfill throughput from a real Radicale server: 2,000 events in one calendar, imported into
 * PostgreSQL through the real CalDAV adapter and sync engine. Prints JSON. Goal: ≥ 500 events/s.
 */

import { openProvider } from '../connections/credentials.ts';
import { importWindow, syncCalendar } from '../connections/import-engine.ts';
import { calendarScenario } from '../test/support/calendar-scenario.ts';
import { generateIcsEvent } from '../test/support/generate-ics.ts';
import { startRadicale } from '../test/support/radicale.ts';
import { seedConnection } from '../test/support/seed.ts';
import { benchDatabase, round } from './support.ts';

export async function benchCalDavBackfill(events = 2000) {
  const db = await benchDatabase();
  const radicale = await startRadicale({ users: [{ username: 'bench', password: 'bench-pw' }] });
  try {
    const collection = await radicale.createCalendar('bench', 'bench-pw', 'bulk', { displayName: 'Bulk' });
    const { at } = calendarScenario();
    // Written straight into Radicale's storage: its PUTs grow slower with collection size.
    await radicale.seedEvents(
      collection,
      Array.from({ length: events }, (_, i) => {
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
      }),
    );

    const { calendarId } = await seedConnection(db.orm, db.config, {
      provider: 'caldav',
      serverUrl: radicale.url,
      credentials: { username: 'bench', password: 'bench-pw' },
      externalId: collection,
    });
    // The files were written straight into Radicale's storage, so its first read parses all of them
    // (what a PUT would have done at write time). Measure that server-side cost apart, once.
    const provider = openProvider(db.config, {
      provider: 'caldav',
      serverUrl: radicale.url,
      credentials: { username: 'bench', password: 'bench-pw' },
    });
    const window = importWindow(
      new Date(),
      db.config.SYNC_WINDOW_PAST_DAYS,
      db.config.SYNC_WINDOW_FUTURE_DAYS,
    );
    const coldStart = performance.now();
    for await (const _page of provider.fetchChanges({
      calendar: { externalId: collection },
      window,
      cursor: null,
      known: new Map(),
    }));
    const serverColdReadMs = performance.now() - coldStart;

    const start = performance.now();
    const result = await syncCalendar(db.orm.em, db.config, calendarId);
    const backfillMs = performance.now() - start;

    const incrementalStart = performance.now();
    await syncCalendar(db.orm.em, db.config, calendarId);
    const noChangeMs = performance.now() - incrementalStart;

    return {
      benchmark: 'caldav_backfill_radicale',
      events,
      imported: result.eventCount,
      backfillMs: round(backfillMs),
      eventsPerSecond: round((result.eventCount / backfillMs) * 1000, 0),
      incrementalNoChangeMs: round(noChangeMs),
      radicaleColdCacheFirstReadMs: round(serverColdReadMs),
    };
  } finally {
    await radicale.stop();
    await db.drop();
  }
}

if (import.meta.main)
  console.log(JSON.stringify(await benchCalDavBackfill(Number(process.argv[2] ?? 2000)), null, 2));
