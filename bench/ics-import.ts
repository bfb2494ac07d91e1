/**
 * ICS parse + import of a 5,000-event feed served over local HTTP, into PostgreSQL through the real
 * sync engine. Prints JSON. Goal on the reference machine (2 cores): ≥ 2,000 events/s.
 */

import { openProvider } from '../connections/credentials.ts';
import { importWindow, syncCalendar } from '../connections/import-engine.ts';
import { expandICalendar } from '../ical/normalize.ts';
import { generateIcsFeed } from '../test/support/generate-ics.ts';
import { startIcsServer } from '../test/support/ics-server.ts';
import { seedConnection } from '../test/support/seed.ts';
import { benchDatabase, round } from './support.ts';

export async function benchIcsImport(events = 5000) {
  const db = await benchDatabase();
  const feeds = await startIcsServer();
  try {
    const feed = generateIcsFeed(events, { start: new Date(), seed: 7 });
    feeds.setFeed('/bench.ics', feed);
    const window = importWindow(
      new Date(),
      db.config.SYNC_WINDOW_PAST_DAYS,
      db.config.SYNC_WINDOW_FUTURE_DAYS,
    );

    const parseStart = performance.now();
    const parsed = expandICalendar(feed, window);
    const parseMs = performance.now() - parseStart;

    const provider = openProvider(db.config, {
      provider: 'ics',
      serverUrl: null,
      credentials: { url: feeds.url('/bench.ics') },
    });
    const [calendar] = await provider.listCalendars();
    const { calendarId } = await seedConnection(db.orm, db.config, {
      provider: 'ics',
      serverUrl: null,
      credentials: { url: feeds.url('/bench.ics') },
      externalId: calendar!.externalId,
    });
    const start = performance.now();
    const result = await syncCalendar(db.orm.em, db.config, calendarId);
    const importMs = performance.now() - start;

    const again = performance.now();
    await syncCalendar(db.orm.em, db.config, calendarId);
    const unchangedMs = performance.now() - again;

    return {
      benchmark: 'ics_parse_and_import',
      feedEvents: events,
      feedBytes: feed.length,
      occurrencesImported: result.eventCount,
      parseOnlyMs: round(parseMs),
      parsedUids: parsed.size,
      importMs: round(importMs),
      eventsPerSecond: round((events / importMs) * 1000, 0),
      occurrencesPerSecond: round((result.eventCount / importMs) * 1000, 0),
      unchangedFeedResyncMs: round(unchangedMs),
    };
  } finally {
    await feeds.stop();
    await db.drop();
  }
}

if (import.meta.main)
  console.log(JSON.stringify(await benchIcsImport(Number(process.argv[2] ?? 5000)), null, 2));
