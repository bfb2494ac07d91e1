/**
 * A poll's quick path (connections/quick-poll.ts): an unchanged feed costs one conditional GET and
 * one write that records the poll, touching no event and no synced object; anything it cannot vouch
 * for (a change, a rolled window, a calendar to purge, a connection not plainly active) is left to
 * the regular import, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCalendar } from '../../connections/import-engine.ts';
import { pollUnchanged } from '../../connections/quick-poll.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import { loadConfig } from '../../platform/config.ts';
import { testEnv } from '../harness/platform.ts';
import { generateIcsFeed } from '../support/generate-ics.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { seedConnection } from '../support/seed.ts';

let orm: Orm;
let feeds: IcsServer;
const config = loadConfig(testEnv(), { generateSecrets: false });
const DAY = 86_400_000;

beforeAll(async () => {
  [orm, feeds] = await Promise.all([createOrm({ databaseUrl: config.DATABASE_URL! }), startIcsServer()]);
});
afterAll(async () => {
  await orm?.close();
  await feeds?.stop();
});

interface State {
  cursor: { etag: string; fetchedAt: string };
  lastSyncedAt: Date;
  generation: number;
  lastSyncAt: Date | null;
  events: number;
  seenGenerations: number[];
}

async function state(connectionId: string, calendarId: string): Promise<State> {
  const em = orm.em.fork();
  const [cal] = await em.execute<
    { sync_cursor: State['cursor']; last_synced_at: Date; full_sync_generation: number }[]
  >('select sync_cursor, last_synced_at, full_sync_generation from provider_calendars where id = ?', [
    calendarId,
  ]);
  const [conn] = await em.execute<{ last_sync_at: Date | null }[]>(
    'select last_sync_at from calendar_connections where id = ?',
    [connectionId],
  );
  const [events] = await em.execute<{ n: number }[]>(
    'select count(*)::int as n from imported_events where calendar_id = ?',
    [calendarId],
  );
  const seen = await em.execute<{ seen_generation: number }[]>(
    'select distinct seen_generation from synced_objects where calendar_id = ? order by 1',
    [calendarId],
  );
  return {
    cursor: cal!.sync_cursor,
    lastSyncedAt: new Date(cal!.last_synced_at),
    generation: cal!.full_sync_generation,
    lastSyncAt: conn!.last_sync_at === null ? null : new Date(conn!.last_sync_at),
    events: events!.n,
    seenGenerations: seen.map((r) => r.seen_generation),
  };
}

/** An ICS connection, imported once and `active`, as a run leaves it after its first pass. */
async function importedFeed(feedPath: string, now: Date) {
  feeds.setFeed(feedPath, generateIcsFeed(5, { start: now, seed: 7 }));
  const ids = await seedConnection(orm, config, {
    provider: 'ics',
    serverUrl: null,
    credentials: { url: feeds.url(feedPath) },
    externalId: 'ics:feed',
  });
  await syncCalendar(orm.em, config, ids.calendarId, { now });
  await orm.em
    .fork()
    .execute("update calendar_connections set status = 'active' where id = ?", [ids.connectionId]);
  return ids;
}

const requestsTo = (feedPath: string) => feeds.requests.filter((r) => r.path === feedPath);

describe('quick poll', () => {
  it('records an unchanged feed (304) with one conditional request, leaving events and generations alone', async () => {
    const now = new Date();
    const { connectionId, calendarId } = await importedFeed('/quick-unchanged.ics', now);
    const before = await state(connectionId, calendarId);
    expect(before.events).toBeGreaterThan(0);
    feeds.requests.length = 0;

    const polled = await pollUnchanged(orm.em.fork(), config, connectionId, {
      now: new Date(now.getTime() + 1000),
    });

    expect(polled).toEqual({
      unchanged: true,
      status: 'active',
      calendars: [{ calendarId, name: 'Bench', eventCount: before.events }],
    });
    const sent = requestsTo('/quick-unchanged.ics');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['if-none-match']).toBe(before.cursor.etag);
    const after = await state(connectionId, calendarId);
    expect(after.cursor.etag).toBe(before.cursor.etag);
    expect(after.cursor.fetchedAt > before.cursor.fetchedAt).toBe(true);
    expect(after.lastSyncedAt.getTime()).toBeGreaterThan(before.lastSyncedAt.getTime());
    expect(after.lastSyncAt).not.toBeNull();
    expect(after.events).toBe(before.events);
    expect(after.generation).toBe(before.generation);
    expect(after.seenGenerations).toEqual(before.seenGenerations);

    // The regular import afterwards still takes the stored cursor as "unchanged".
    const regular = await syncCalendar(orm.em, config, calendarId, { now: new Date(now.getTime() + 2000) });
    expect(regular.eventCount).toBe(before.events);
    expect(regular.changed).toBe(0);
  });

  it('leaves a changed feed to the regular import and writes nothing', async () => {
    const now = new Date();
    const { connectionId, calendarId } = await importedFeed('/quick-changed.ics', now);
    feeds.setFeed('/quick-changed.ics', generateIcsFeed(6, { start: now, seed: 8 }));
    const before = await state(connectionId, calendarId);

    expect(await pollUnchanged(orm.em.fork(), config, connectionId, { now })).toEqual({ unchanged: false });
    expect(await state(connectionId, calendarId)).toEqual(before);

    const regular = await syncCalendar(orm.em, config, calendarId, { now });
    expect(regular.changed).toBeGreaterThan(0);
  });

  it('does not vouch for a rolled window, a calendar to purge, or a connection that is not plainly active', async () => {
    const now = new Date();
    const { connectionId, calendarId } = await importedFeed('/quick-refused.ics', now);
    const before = await state(connectionId, calendarId);
    feeds.requests.length = 0;

    // The next day: a 304 would only mean "unchanged" for yesterday's window.
    const tomorrow = new Date(now.getTime() + DAY);
    expect(await pollUnchanged(orm.em.fork(), config, connectionId, { now: tomorrow })).toEqual({
      unchanged: false,
    });

    const em = orm.em.fork();
    await em.execute(
      "update calendar_connections set status = 'error', status_reason = 'unreachable' where id = ?",
      [connectionId],
    );
    expect(await pollUnchanged(orm.em.fork(), config, connectionId, { now })).toEqual({ unchanged: false });
    await em.execute("update calendar_connections set status = 'active', status_reason = null where id = ?", [
      connectionId,
    ]);

    await em.execute('update provider_calendars set import_for_availability = false where id = ?', [
      calendarId,
    ]);
    expect(await pollUnchanged(orm.em.fork(), config, connectionId, { now })).toEqual({ unchanged: false });

    expect(requestsTo('/quick-refused.ics')).toHaveLength(0);
    expect(await state(connectionId, calendarId)).toEqual(before);
  });
});
