/**
 * Through the import engine: floating times in a provider's data are read in the calendar owner's
 * time zone (users.time_zone), for ICS feeds and CalDAV resources alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCalendar } from '../../connections/import-engine.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import { loadConfig } from '../../platform/config.ts';
import { testEnv } from '../harness/platform.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { seedConnection } from '../support/seed.ts';

let orm: Orm;
let feeds: IcsServer;
let radicale: Radicale;
const config = loadConfig(testEnv({ SYNC_WINDOW_PAST_DAYS: '0', SYNC_WINDOW_FUTURE_DAYS: '40' }), {
  generateSecrets: false,
});
const MARCH_1 = new Date('2025-03-01T06:00:00Z');

beforeAll(async () => {
  [orm, feeds, radicale] = await Promise.all([
    createOrm({ databaseUrl: config.DATABASE_URL! }),
    startIcsServer(),
    startRadicale({ users: [{ username: 'floating', password: 'floating-pw' }] }),
  ]);
});
afterAll(async () => {
  await orm?.close();
  await feeds?.stop();
  await radicale?.stop();
});

const FLOATING_EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Calbridge//Tests//EN',
  'BEGIN:VEVENT',
  'UID:floating@test',
  'DTSTAMP:20250101T000000Z',
  'DTSTART:20250305T090000',
  'DTEND:20250305T100000',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

async function ownedBy(calendarId: string, timeZone: string): Promise<void> {
  await orm.em
    .fork()
    .execute(
      'update users set time_zone = ? where id = (select user_id from provider_calendars where id = ?)',
      [timeZone, calendarId],
    );
}

async function importedStarts(calendarId: string): Promise<string[]> {
  const rows = await orm.em
    .fork()
    .execute<{ start_at: Date }[]>(
      'select start_at from imported_events where calendar_id = ? order by start_at',
      [calendarId],
    );
  return rows.map((r) => new Date(r.start_at).toISOString());
}

describe("floating times in the owner's time zone", () => {
  it('ICS: the same feed gives each owner 09:00 in their own zone', async () => {
    feeds.setFeed('/floating.ics', FLOATING_EVENT);
    const url = feeds.url('/floating.ics');
    const expected: Record<string, string> = {
      'America/New_York': '2025-03-05T14:00:00.000Z',
      'Asia/Tokyo': '2025-03-05T00:00:00.000Z',
    };
    for (const [zone, start] of Object.entries(expected)) {
      const { calendarId } = await seedConnection(orm, config, {
        provider: 'ics',
        serverUrl: url,
        credentials: { url },
        externalId: 'ics:feed',
      });
      await ownedBy(calendarId, zone);
      await syncCalendar(orm.em, config, calendarId, { now: MARCH_1 });
      expect(await importedStarts(calendarId)).toEqual([start]);
    }
  });

  it('CalDAV: a floating resource is read in the owner zone', async () => {
    const collection = await radicale.createCalendar('floating', 'floating-pw', 'floating', {
      displayName: 'Floating',
    });
    await radicale.putEvent(collection, 'floating', 'floating-pw', 'floating.ics', FLOATING_EVENT);
    const { calendarId } = await seedConnection(orm, config, {
      provider: 'caldav',
      serverUrl: radicale.url,
      credentials: { username: 'floating', password: 'floating-pw' },
      externalId: collection,
    });
    await ownedBy(calendarId, 'Europe/Berlin');
    await syncCalendar(orm.em, config, calendarId, { now: MARCH_1 });
    expect(await importedStarts(calendarId)).toEqual(['2025-03-05T08:00:00.000Z']);
  });
});
