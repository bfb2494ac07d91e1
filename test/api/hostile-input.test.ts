/**
 * Hostile input through the real HTTP API: every malformed request gets a 4xx in the contract's
 * error shape, never a 5xx, while /healthz stays ok; and every status the server gives here is one
 * /openapi.json declares for that route.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../harness/platform.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { type HostileCase, hostileCases, json, validUser } from './hostile-cases.ts';

let platform: Platform;
let feeds: IcsServer;
let user: { id: string; token: string };
/** A connection the user owns, so routes reach the checks behind the ownership lookup. */
let connectionId: string;

beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    startPlatform({
      worker: false,
      // Loopback only: an input that slipped past validation must never reach the internet.
      env: { OUTBOUND_PRIVATE_NETWORKS: 'allow', ICLOUD_CALDAV_URL: 'http://127.0.0.1:9' },
    }),
    startIcsServer(),
  ]);
  user = await platform.createUser();
  feeds.setFeed(
    '/hostile.ics',
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nX-WR-CALNAME:Hostile\r\nEND:VCALENDAR\r\n',
  );
  const created = await platform.request('POST', '/v1/connections', {
    token: user.token,
    body: { provider: 'ics', url: feeds.url('/hostile.ics') },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  connectionId = created.body.id;
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

const cases = hostileCases({ userId: () => user.id, connectionId: () => connectionId });

async function tokenFor(as: HostileCase['as']): Promise<string> {
  if (as === 'admin') return platform.adminToken;
  if (as === 'user') return user.token;
  // Connection creation may be rate limited per user: each case gets a user of its own.
  return (await platform.createUser()).token;
}

async function send(c: HostileCase) {
  const token = await tokenFor(c.as);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: string | Buffer | undefined;
  if (c.rawBody !== undefined) {
    body = c.rawBody;
    headers['content-type'] = 'application/json';
  } else if (c.body !== undefined) {
    body = json(c.body);
    headers['content-type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(c.headers ?? {})) {
    if (value === '') delete headers[name];
    else headers[name] = value;
  }
  const res = await fetch(`${platform.apiUrl}${c.path()}`, { method: c.method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as { error?: { code: string; message: string } } };
}

describe('hostile input through the HTTP API', () => {
  const seen: { route: string; status: number; name: string }[] = [];

  it.each(cases.map((c) => [c.name, c] as const))('%s → 4xx in the error shape', async (_, c) => {
    const res = await send(c);
    seen.push({ route: c.route, status: res.status, name: c.name });
    expect({ status: res.status, code: res.body?.error?.code }, JSON.stringify(res.body)).toEqual({
      status: c.status,
      code: c.code,
    });
    expect(res.body.error?.message).toEqual(expect.any(String));
    const health = await platform.request('GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
  });

  it('accepts what a careful client sends: canonical time zones, a sync without a body, an empty body', async () => {
    const created = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { ...validUser(), timeZone: 'europe/berlin' },
    });
    expect(created.status).toBe(201);
    expect(created.body.timeZone).toBe('Europe/Berlin');
    for (const [given, canonical] of [
      ['Etc/UTC', 'UTC'],
      ['utc', 'UTC'],
      ['GMT', 'UTC'],
      ['AMERICA/NEW_YORK', 'America/New_York'],
      ['Asia/Kolkata', 'Asia/Kolkata'],
    ]) {
      const put = await platform.request('PUT', '/v1/me/schedule', {
        token: user.token,
        body: { timeZone: given, weekly: {} },
      });
      expect(put.status).toBe(200);
      expect(put.body.timeZone, given).toBe(canonical);
    }
    const sync = await fetch(`${platform.apiUrl}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(sync.status).toBe(202);
    const gzipped = await fetch(`${platform.apiUrl}/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'content-type': 'application/json; charset=utf-8',
        'content-encoding': 'gzip',
      },
      body: gzipSync(json(validUser())),
    });
    expect(gzipped.status).toBe(201);
    const edges = await platform.request(
      'GET',
      `/v1/connections/${connectionId}/events?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z`,
      { token: user.token },
    );
    expect(edges.status).toBe(200);
  });

  it('gives only statuses that /openapi.json declares for each route', async () => {
    expect(seen.length).toBe(cases.length);
    const doc = (await platform.request('GET', '/openapi.json')).body;
    for (const { route, status, name } of seen) {
      const [method, path] = route.split(' ') as [string, string];
      const operation = doc.paths[path]?.[method];
      expect(operation, route).toBeDefined();
      expect(Object.keys(operation.responses), `${name}: ${route} answered ${status}`).toContain(
        String(status),
      );
    }
  });
});
