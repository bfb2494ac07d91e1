/**
 * The connection's life when requests meet work in flight: a reconnect during discovery, a removal
 * during an import, a reconnect that rotates an ICS feed's URL, and settings a provider cannot take.
 * Real API, worker, Temporal and PostgreSQL; a local feed server whose answers can be delayed.
 */
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { asFeed, calendarScenario } from '../support/calendar-scenario.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

let platform: Platform;
let feeds: IcsServer;
beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    // Short heartbeats: a cancellation reaches a running import at its next heartbeat.
    startPlatform({ env: { ICS_POLL_SECONDS: '3600', SYNC_HEARTBEAT_SECONDS: '2' } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

const scenario = calendarScenario();
const FEED = asFeed(scenario.objects, 'Team');

async function link(token: string, path: string) {
  feeds.setFeed(path, FEED);
  const created = await platform.request('POST', '/v1/connections', {
    token,
    body: { provider: 'ics', url: feeds.url(path) },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; workflowId: string; calendars: { id: string }[] };
}

const get = async (token: string, id: string) =>
  (await platform.request('GET', `/v1/connections/${id}`, { token })).body;

const requestsTo = (path: string) => feeds.requests.filter((r) => r.path === path).length;

async function history(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const h = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
  return h.events ?? [];
}

describe('connection lifecycle races', () => {
  it('does not lose a reconnect that arrives while calendars are being discovered', async () => {
    const user = await platform.createUser();
    const connection = await link(user.token, '/slow-a.ics');
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'awaiting_selection', {
      what: 'the first discovery to finish',
    });

    // The next discovery reads a feed that answers slowly; a second reconnect lands during it.
    feeds.setFeed('/slow-a.ics', FEED, { delayMs: 2500 });
    feeds.setFeed('/fast-b.ics', FEED);
    const first = await platform.request('POST', `/v1/connections/${connection.id}/reconnect`, {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/slow-a.ics') },
    });
    expect(first.status).toBe(200);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'discovering', {
      what: 'the discovery after the first reconnect',
      intervalMs: 20,
    });
    const second = await platform.request('POST', `/v1/connections/${connection.id}/reconnect`, {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/fast-b.ics') },
    });
    expect(second.status).toBe(200);
    expect((await handle.query(statusQuery)).phase).toBe('discovering');

    // The run must discover again after the one the second reconnect interrupted: a third
    // discovery, with the new credentials (a lost signal leaves it at two, waiting for a Save).
    const discoveries = () =>
      history(connection.workflowId).then(
        (events) =>
          events.filter(
            (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'discoverCalendars',
          ).length,
      );
    await eventually(async () => (await discoveries()) >= 3, {
      what: 'a discovery after the second reconnect',
    });
    await eventually(async () => (await handle.query(statusQuery)).phase === 'awaiting_selection', {
      what: 'the run to settle',
    });
    expect(await discoveries()).toBe(3);
    // Verification (access, then calendars) and the last discovery read the new URL.
    expect(requestsTo('/fast-b.ics')).toBeGreaterThanOrEqual(3);
  });

  it('keeps the calendar, its selection and its busy time when an ICS feed is reconnected with a rotated URL', async () => {
    const user = await platform.createUser();
    const connection = await link(user.token, '/token-1.ics');
    const calendarId = connection.calendars[0]!.id;
    await platform.request('PUT', `/v1/connections/${connection.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: calendarId, importForAvailability: true }] },
    });
    await eventually(async () => (await get(user.token, connection.id)).status === 'active', {
      what: 'the import',
    });
    const before = await get(user.token, connection.id);

    // The old URL stops working (the token was rotated): the connection parks.
    feeds.setFeed('/token-1.ics', 'Unauthorized', { status: 401 });
    await platform.request('POST', `/v1/connections/${connection.id}/sync`, { token: user.token, body: {} });
    await eventually(async () => (await get(user.token, connection.id)).status === 'needs_reauth', {
      what: 'needs_reauth',
    });

    feeds.setFeed('/token-2.ics', FEED);
    const reconnected = await platform.request('POST', `/v1/connections/${connection.id}/reconnect`, {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/token-2.ics') },
    });
    expect(reconnected.status).toBe(200);
    // The answer shows where the connection goes now, not the state it left.
    expect(reconnected.body.status).toBe('importing');
    expect(reconnected.body.statusReason).toBeNull();

    const after = await eventually(
      async () => {
        const c = await get(user.token, connection.id);
        return c.status === 'active' && c.calendars[0].lastSyncedAt > before.calendars[0].lastSyncedAt
          ? c
          : null;
      },
      { what: 'sync to resume with the new URL' },
    );
    expect(after.calendars).toHaveLength(1);
    expect(after.calendars[0]).toMatchObject({
      id: calendarId,
      importForAvailability: true,
      eventCount: before.calendars[0].eventCount,
    });

    // The account identity follows the URL: the new one is linked, the old one is free again.
    const again = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/token-2.ics') },
    });
    expect(again.status).toBe(409);
    feeds.setFeed('/token-1.ics', FEED);
    const old = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/token-1.ics') },
    });
    expect(old.status).toBe(201);
  });

  it('refuses to make a read-only feed outbound', async () => {
    const user = await platform.createUser();
    const connection = await link(user.token, '/read-only.ics');
    const outbound = await platform.request('PATCH', `/v1/connections/${connection.id}`, {
      token: user.token,
      body: { syncDirection: 'outbound' },
    });
    expect(outbound.status).toBe(400);
    expect(outbound.body.error.code).toBe('validation_failed');
    expect(outbound.body.error.details.fields[0].path).toBe('syncDirection');
    expect((await get(user.token, connection.id)).syncDirection).toBe('both');
    const inbound = await platform.request('PATCH', `/v1/connections/${connection.id}`, {
      token: user.token,
      body: { syncDirection: 'inbound' },
    });
    expect(inbound.status).toBe(200);
    expect(inbound.body.syncDirection).toBe('inbound');
  });

  it('cancels an import in flight when the connection is removed, and removes everything', async () => {
    const user = await platform.createUser();
    const connection = await link(user.token, '/slow-import.ics');
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'awaiting_selection', {
      what: 'discovery',
    });
    // The import's download takes far longer than the test waits.
    feeds.setFeed('/slow-import.ics', FEED, { delayMs: 60_000 });
    await platform.request('PUT', `/v1/connections/${connection.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: connection.calendars[0]!.id, importForAvailability: true }] },
    });
    await eventually(async () => (await handle.query(statusQuery)).phase === 'syncing', {
      what: 'the import',
    });
    await eventually(async () => requestsTo('/slow-import.ics') >= 3, {
      what: 'the import to be downloading',
    });

    const removed = await platform.request('DELETE', `/v1/connections/${connection.id}`, {
      token: user.token,
    });
    expect(removed.status).toBe(202);
    await eventually(async () => (await get(user.token, connection.id)).status === 'removed', {
      what: 'removal, well before the download would end',
      timeoutMs: 20_000,
    });
    const events = await history(connection.workflowId);
    expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
    expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
    const [left] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from imported_events e join provider_calendars c on c.id = e.calendar_id where c.connection_id = ?',
        [connection.id],
      );
    expect(left!.n).toBe(0);
  });

  it('never stores credentials on a connection being removed', async () => {
    const user = await platform.createUser();
    const connection = await link(user.token, '/going.ics');
    expect(
      (await platform.request('DELETE', `/v1/connections/${connection.id}`, { token: user.token })).status,
    ).toBe(202);
    const reconnect = await platform.request('POST', `/v1/connections/${connection.id}/reconnect`, {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/going.ics') },
    });
    expect(reconnect.status).toBe(409);
    expect(reconnect.body.error.code).toBe('invalid_state');
    await eventually(async () => (await get(user.token, connection.id)).status === 'removed', {
      what: 'removal',
    });
    const [row] = await platform.orm.em
      .fork()
      .execute<{ credentials: Buffer | null }[]>(
        'select credentials from calendar_connections where id = ?',
        [connection.id],
      );
    expect(row!.credentials).toBeNull();
  });
});
