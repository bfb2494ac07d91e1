/**
 * The periodic full reconciliation: what an incremental cursor missed (an object created and one
 * deleted without the cursor reporting them) is repaired by the next full re-listing, and the run
 * reports what it fixed. The misses are made directly in PostgreSQL, since a real server's
 * sync-token never misses on purpose.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { calendarScenario } from '../support/calendar-scenario.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';

let platform: Platform;
let radicale: Radicale;
const scenario = calendarScenario();

beforeAll(async () => {
  [platform, radicale] = await Promise.all([
    // Polls far apart, reconciliations every 7.2 s: only a reconciliation can repair the misses.
    startPlatform({ env: { CALDAV_POLL_SECONDS: '3600', RECONCILE_HOURS: '0.002' } }),
    startRadicale({ users: [{ username: 'rec', password: 'rec-pw' }] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
});

async function importedRows(calendarId: string) {
  return platform.orm.em
    .fork()
    .execute<{ object_key: string; start_at: Date; end_at: Date }[]>(
      'select object_key, start_at, end_at from imported_events where calendar_id = ? order by start_at, object_key',
      [calendarId],
    );
}

describe('reconciliation', () => {
  it('repairs what the cursor missed and reports what it fixed', async () => {
    const work = await radicale.createCalendar('rec', 'rec-pw', 'work', { displayName: 'Work' });
    for (const o of scenario.objects) await radicale.putEvent(work, 'rec', 'rec-pw', `${o.name}.ics`, o.ics);
    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'caldav', serverUrl: radicale.url, username: 'rec', password: 'rec-pw' },
    });
    expect(created.status).toBe(201);
    const calendar = created.body.calendars.find((c: { name: string }) => c.name === 'Work');
    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: calendar.id, importForAvailability: true }] },
    });
    await eventually(
      async () =>
        (await platform.request('GET', `/v1/connections/${created.body.id}`, { token: user.token })).body
          .status === 'active',
      { what: 'the first import' },
    );
    const truth = await importedRows(calendar.id);
    expect(truth.length).toBe(scenario.expected.length);

    // A creation the cursor missed: one object we never received. A deletion it missed: a stray one.
    const missing = truth[0]!.object_key;
    const em = platform.orm.em.fork();
    await em.execute('delete from imported_events where calendar_id = ? and object_key = ?', [
      calendar.id,
      missing,
    ]);
    await em.execute('delete from synced_objects where calendar_id = ? and key = ?', [calendar.id, missing]);
    const generation = (
      await em.execute<{ g: number }[]>(
        'select full_sync_generation as g from provider_calendars where id = ?',
        [calendar.id],
      )
    )[0]!.g;
    await em.execute(
      "insert into synced_objects (calendar_id, key, etag, seen_generation) values (?, 'ghost.ics', '\"ghost\"', ?)",
      [calendar.id, generation],
    );
    await em.execute(
      `insert into imported_events (id, calendar_id, user_id, object_key, occurrence_key, uid, start_at, end_at)
       values (?, ?, ?, 'ghost.ics', '', 'ghost@t', now() + interval '1 day', now() + interval '1 day 1 hour')`,
      [randomUUID(), calendar.id, user.id],
    );

    const handle = platform.temporal.workflow.getHandle(created.body.workflowId);
    const report = await eventually(async () => (await handle.query(statusQuery)).lastReconciliation, {
      what: 'a reconciliation',
      timeoutMs: 45_000,
    });
    expect(report).toMatchObject({ changed: 1, removed: 1 });
    expect(await importedRows(calendar.id)).toEqual(truth);
  });
});
