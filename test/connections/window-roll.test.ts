/**
 * The rolling import window: a day later, a CalDAV series unchanged on the server still yields the
 * occurrence that has entered the window (its ETag alone must not make it "unchanged").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCalendar } from '../../connections/import-engine.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import { loadConfig } from '../../platform/config.ts';
import { testEnv } from '../harness/platform.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { seedConnection } from '../support/seed.ts';

let orm: Orm;
let radicale: Radicale;
const config = loadConfig(testEnv({ SYNC_WINDOW_PAST_DAYS: '0', SYNC_WINDOW_FUTURE_DAYS: '10' }), {
  generateSecrets: false,
});

beforeAll(async () => {
  [orm, radicale] = await Promise.all([
    createOrm({ databaseUrl: config.DATABASE_URL! }),
    startRadicale({ users: [{ username: 'roll', password: 'roll-pw' }] }),
  ]);
});
afterAll(async () => {
  await orm?.close();
  await radicale?.stop();
});

const DAY = 86_400_000;

describe('rolling window', () => {
  it('imports the occurrence of an unchanged series that enters the window the next day', async () => {
    const collection = await radicale.createCalendar('roll', 'roll-pw', 'daily', { displayName: 'Daily' });
    const today = Math.floor(Date.now() / DAY) * DAY;
    await radicale.putEvent(
      collection,
      'roll',
      'roll-pw',
      'daily.ics',
      generateIcsEvent({
        uid: 'daily@t',
        summary: 'Daily',
        start: new Date(today + 12 * 3600_000),
        end: new Date(today + 13 * 3600_000),
        rrule: 'FREQ=DAILY;COUNT=30',
      }),
    );
    const { calendarId } = await seedConnection(orm, config, {
      provider: 'caldav',
      serverUrl: radicale.url,
      credentials: { username: 'roll', password: 'roll-pw' },
      externalId: collection,
    });
    const first = await syncCalendar(orm.em, config, calendarId, { now: new Date(today + 3600_000) });
    expect(first.eventCount).toBe(10);
    const sameDay = await syncCalendar(orm.em, config, calendarId, { now: new Date(today + 7200_000) });
    expect(sameDay.eventCount).toBe(10);
    const nextDay = await syncCalendar(orm.em, config, calendarId, { now: new Date(today + DAY + 3600_000) });
    // Window [today+1, today+11): occurrences on days 1..10.
    expect(nextDay.mode).toBe('full');
    expect(nextDay.eventCount).toBe(10);
    const [last] = await orm.em
      .fork()
      .execute<{ start_at: Date }[]>(
        'select max(start_at) as start_at from imported_events where calendar_id = ?',
        [calendarId],
      );
    expect(new Date(last!.start_at).toISOString()).toBe(
      new Date(today + 10 * DAY + 12 * 3600_000).toISOString(),
    );
  });

  it('does not download unchanged single events again when the window rolls, only what the move changes', async () => {
    const collection = await radicale.createCalendar('roll', 'roll-pw', 'mixed', { displayName: 'Mixed' });
    const today = Math.floor(Date.now() / DAY) * DAY;
    for (let day = 3; day <= 7; day++) {
      await radicale.putEvent(
        collection,
        'roll',
        'roll-pw',
        `single-${day}.ics`,
        generateIcsEvent({
          uid: `single-${day}@t`,
          summary: `Single ${day}`,
          start: new Date(today + day * DAY + 9 * 3600_000),
          end: new Date(today + day * DAY + 10 * 3600_000),
        }),
      );
    }
    await radicale.putEvent(
      collection,
      'roll',
      'roll-pw',
      'series.ics',
      generateIcsEvent({
        uid: 'series@t',
        summary: 'Series',
        start: new Date(today + 12 * 3600_000),
        end: new Date(today + 13 * 3600_000),
        rrule: 'FREQ=DAILY;COUNT=30',
      }),
    );
    const { calendarId } = await seedConnection(orm, config, {
      provider: 'caldav',
      serverUrl: radicale.url,
      credentials: { username: 'roll', password: 'roll-pw' },
      externalId: collection,
    });
    const first = await syncCalendar(orm.em, config, calendarId, { now: new Date(today + 3600_000) });
    expect(first.upserted).toBe(15);
    const nextDay = await syncCalendar(orm.em, config, calendarId, { now: new Date(today + DAY + 3600_000) });
    expect(nextDay.mode).toBe('full');
    expect(nextDay.eventCount).toBe(15);
    // Only the series is expanded again (its 10 occurrences in the moved window); the five single
    // events inside both windows are proven unchanged by their ETags and not fetched.
    expect(nextDay.upserted).toBe(10);
  });
});
