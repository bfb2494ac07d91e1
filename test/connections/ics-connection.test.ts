/**
 * ICS connections end to end: real HTTP API, real worker and Temporal, real PostgreSQL, a local
 * feed server. Covers create (and its 422s), Save → import, "sync now", the 304 path, changes in
 * the feed, removal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../worker/local/ports.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { asFeed, calendarScenario } from '../support/calendar-scenario.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

let platform: Platform;
let feeds: IcsServer;
beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    startPlatform({ env: { ICS_POLL_SECONDS: '3600' } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

const scenario = calendarScenario();

async function events(token: string, connectionId: string) {
  const res = await platform.request('GET', `/v1/connections/${connectionId}/events?limit=500`, { token });
  expect(res.status).toBe(200);
  return res.body.items.map((e: Record<string, unknown>) => ({
    start: e.start,
    end: e.end,
    allDay: e.allDay,
    busy: e.busy,
    title: e.title,
  }));
}

async function connectionCount(userId: string): Promise<number> {
  const [row] = await platform.orm.em
    .fork()
    .execute<{ n: number }[]>('select count(*)::int as n from calendar_connections where user_id = ?', [
      userId,
    ]);
  return row!.n;
}

async function linkAndSave(token: string, path: string) {
  const created = await platform.request('POST', '/v1/connections', {
    token,
    body: { provider: 'ics', url: feeds.url(path) },
  });
  expect(created.status).toBe(201);
  const connection = created.body;
  const saved = await platform.request('PUT', `/v1/connections/${connection.id}/calendars`, {
    token,
    body: { calendars: [{ id: connection.calendars[0].id, importForAvailability: true }] },
  });
  expect(saved.status).toBe(200);
  return connection;
}

async function readyConnection(token: string, id: string, minSyncedAfter?: string) {
  return eventually(
    async () => {
      const res = await platform.request('GET', `/v1/connections/${id}`, { token });
      const cal = res.body.calendars[0];
      const fresh = !minSyncedAfter || (cal.lastSyncedAt && cal.lastSyncedAt > minSyncedAfter);
      return res.body.status === 'active' && cal.importStatus === 'ready' && fresh ? res.body : null;
    },
    { what: 'the connection to be active and its calendar ready' },
  );
}

describe('ICS connections', () => {
  it('links a feed, imports it on Save with exact normalisation, and lists it', async () => {
    const user = await platform.createUser();
    feeds.setFeed('/team.ics', asFeed(scenario.objects, 'Team calendar'));
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/team.ics') },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'ics',
      status: 'awaiting_selection',
      syncDirection: 'both',
      workflowId: `connection/${created.body.id}`,
      calendars: [
        {
          name: 'Team calendar',
          readOnly: true,
          importForAvailability: false,
          isPrimary: false,
          importStatus: 'idle',
          eventCount: 0,
        },
      ],
    });
    // The feed URL (it may carry a secret) is never shown back.
    expect(JSON.stringify(created.body)).not.toContain(feeds.url('/team.ics'));

    const calendarId = created.body.calendars[0].id;
    const readOnlyPrimary = await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: calendarId, importForAvailability: true }], primaryCalendarId: calendarId },
    });
    expect(readOnlyPrimary.status).toBe(400);
    expect(readOnlyPrimary.body.error.details.fields[0].path).toBe('primaryCalendarId');

    const saved = await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: calendarId, importForAvailability: true }] },
    });
    expect(saved.status).toBe(200);
    expect(['pending', 'importing', 'ready']).toContain(saved.body.calendars[0].importStatus);

    const ready = await readyConnection(user.token, created.body.id);
    expect(ready.calendars[0].eventCount).toBe(scenario.expected.length);
    expect(await events(user.token, created.body.id)).toEqual(scenario.expected);

    const list = await platform.request('GET', '/v1/connections', { token: user.token });
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
    expect(list.body.nextCursor).toBeNull();
  });

  it('follows changes on "sync now", spends nothing on an unchanged feed (304), and removes cleanly', async () => {
    const user = await platform.createUser();
    feeds.setFeed('/changing.ics', asFeed(scenario.objects));
    const connection = await linkAndSave(user.token, '/changing.ics');
    const first = await readyConnection(user.token, connection.id);
    expect(first.calendars[0].eventCount).toBe(6);

    // Unchanged feed: a conditional request, answered 304, and the same events.
    feeds.requests.length = 0;
    const sync = await platform.request('POST', `/v1/connections/${connection.id}/sync`, {
      token: user.token,
      body: { direction: 'inbound' },
    });
    expect(sync.status).toBe(202);
    const second = await readyConnection(user.token, connection.id, first.calendars[0].lastSyncedAt);
    expect(second.calendars[0].eventCount).toBe(6);
    const conditional = feeds.requests.filter((r) => r.path === '/changing.ics');
    expect(conditional.length).toBeGreaterThan(0);
    expect(conditional.every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);

    // Added, moved and deleted on the provider side.
    const { changes } = scenario;
    const remaining = scenario.objects.filter(
      (o) => o.uid !== changes.deleted.uid && o.uid !== changes.moved.uid,
    );
    feeds.setFeed('/changing.ics', asFeed([...remaining, changes.moved, changes.added]));
    await platform.request('POST', `/v1/connections/${connection.id}/sync`, { token: user.token, body: {} });
    const third = await readyConnection(user.token, connection.id, second.calendars[0].lastSyncedAt);
    expect(third.calendars[0].eventCount).toBe(changes.expected.length);
    expect(await events(user.token, connection.id)).toEqual(changes.expected);

    // Removal: events gone, workflow completed, status removed.
    const removed = await platform.request('DELETE', `/v1/connections/${connection.id}`, {
      token: user.token,
    });
    expect(removed.status).toBe(202);
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    await handle.result();
    const gone = await platform.request('GET', `/v1/connections/${connection.id}`, { token: user.token });
    expect(gone.body.status).toBe('removed');
    expect(gone.body.calendars).toEqual([]);
    const [left] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from imported_events where user_id = ?', [
        user.id,
      ]);
    expect(left!.n).toBe(0);
    const [creds] = await platform.orm.em
      .fork()
      .execute<{ credentials: unknown }[]>('select credentials from calendar_connections where id = ?', [
        connection.id,
      ]);
    expect(creds!.credentials).toBeNull();
  });

  it('refuses a body that is not iCalendar (422 invalid_feed) and an unreachable URL (422 provider_unreachable), keeping nothing', async () => {
    const user = await platform.createUser();
    feeds.setFeed('/login', '<!doctype html><html><body>Please sign in</body></html>', {
      contentType: 'text/html',
    });
    const html = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/login') },
    });
    expect(html.status).toBe(422);
    expect(html.body.error.code).toBe('invalid_feed');
    const unreachable = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: `http://127.0.0.1:${await freePort()}/cal.ics` },
    });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.error.code).toBe('provider_unreachable');
    expect(await connectionCount(user.id)).toBe(0);
  });

  it('validates the create body per provider and refuses the same feed twice', async () => {
    const user = await platform.createUser();
    const cases: [unknown, string][] = [
      [{ provider: 'ics' }, 'url'],
      [{ provider: 'ics', url: 'ftp://example.com/x.ics' }, 'url'],
      [{ provider: 'carrier-pigeon' }, 'provider'],
      [{ provider: 'caldav', serverUrl: 'https://dav.example.com', username: 'a' }, 'password'],
      [{ provider: 'icloud', username: 'a@icloud.com' }, 'appPassword'],
      [{ provider: 'ics', url: 'https://x.example/a.ics', extra: 1 }, ''],
    ];
    for (const [body, path] of cases) {
      const res = await platform.request('POST', '/v1/connections', { token: user.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    feeds.setFeed('/once.ics', asFeed(scenario.objects));
    const first = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/once.ics') },
    });
    expect(first.status).toBe(201);
    const second = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/once.ics') },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('already_exists');
  });

  it('pages through connections newest first, each with its own calendars', async () => {
    const user = await platform.createUser();
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      feeds.setFeed(`/page-${name}.ics`, asFeed(scenario.objects, `Feed ${name}`));
      const res = await platform.request('POST', '/v1/connections', {
        token: user.token,
        body: { provider: 'ics', url: feeds.url(`/page-${name}.ics`) },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const first = await platform.request('GET', '/v1/connections?limit=2', { token: user.token });
    expect(first.body.items.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    expect(
      first.body.items.map((c: { calendars: { name: string }[] }) => c.calendars.map((cal) => cal.name)),
    ).toEqual([['Feed three'], ['Feed two']]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await platform.request('GET', `/v1/connections?limit=2&cursor=${first.body.nextCursor}`, {
      token: user.token,
    });
    expect(second.body.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(second.body.items[0].calendars.map((cal: { name: string }) => cal.name)).toEqual(['Feed one']);
    expect(second.body.nextCursor).toBeNull();
    const bad = await platform.request('GET', '/v1/connections?cursor=garbage', { token: user.token });
    expect(bad.status).toBe(400);
  });

  it("hides one user's connections from another (404) and keeps admins out of user routes (403)", async () => {
    const owner = await platform.createUser();
    const stranger = await platform.createUser();
    feeds.setFeed('/private.ics', asFeed(scenario.objects));
    const created = await platform.request('POST', '/v1/connections', {
      token: owner.token,
      body: { provider: 'ics', url: feeds.url('/private.ics') },
    });
    for (const [method, path, body] of [
      ['GET', `/v1/connections/${created.body.id}`, undefined],
      ['GET', `/v1/connections/${created.body.id}/events`, undefined],
      ['PATCH', `/v1/connections/${created.body.id}`, { syncDirection: 'inbound' }],
      ['DELETE', `/v1/connections/${created.body.id}`, undefined],
    ] as const) {
      const res = await platform.request(method, path, { token: stranger.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await platform.request('GET', '/v1/connections', { token: stranger.token })).body.items).toEqual(
      [],
    );
    expect((await platform.request('GET', '/v1/connections', { token: platform.adminToken })).status).toBe(
      403,
    );
    const bad = await platform.request('GET', '/v1/connections/not-a-uuid', { token: owner.token });
    expect(bad.status).toBe(400);

    const patched = await platform.request('PATCH', `/v1/connections/${created.body.id}`, {
      token: owner.token,
      body: { syncDirection: 'inbound' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.syncDirection).toBe('inbound');
    const badDirection = await platform.request('PATCH', `/v1/connections/${created.body.id}`, {
      token: owner.token,
      body: { syncDirection: 'sideways' },
    });
    expect(badDirection.status).toBe(400);
  });
});
