/**
 * Hostile destinations through the HTTP API, with a real worker, Temporal and PostgreSQL:
 * OUTBOUND_PRIVATE_NETWORKS=127.0.0.2/32 makes 127.0.0.2 the one "private" host users may name,
 * and 127.0.0.1 stands for everything inside (a database, cloud metadata): it must never receive a
 * request, neither directly, nor through a redirect, nor through an href a CalDAV server hands back
 * on a later poll. Also: credentials stay on their origin, bodies are capped after decompression
 * with bounded memory, URLs with user info are refused, and connection attempts are rate-limited.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

let platform: Platform;
let inside: IcsServer; // 127.0.0.1
let outside: IcsServer; // 127.0.0.2, allowed
const servers: Server[] = [];

beforeAll(async () => {
  [platform, inside, outside] = await Promise.all([
    startPlatform({
      env: {
        OUTBOUND_PRIVATE_NETWORKS: '127.0.0.2/32',
        CONNECT_RATE_LIMIT_PER_MINUTE: '5',
        CALDAV_POLL_SECONDS: '3600',
      },
    }),
    startIcsServer(),
    startIcsServer({ host: '127.0.0.2' }),
  ]);
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await platform?.stop();
  await inside?.stop();
  await outside?.stop();
});

const FEED = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//EN',
  'BEGIN:VEVENT',
  'UID:one@test',
  `DTSTAMP:20250101T000000Z`,
  `DTSTART:${basic(Date.now() + 2 * 86_400_000)}`,
  `DTEND:${basic(Date.now() + 2 * 86_400_000 + 3_600_000)}`,
  'SUMMARY:Planning',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

function basic(ms: number): string {
  return `${new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

const link = (token: string, body: Record<string, unknown>) =>
  platform.request('POST', '/v1/connections', { token, body });

/** A server on 127.0.0.2 whose answers the test writes; records every request. */
async function scriptedServer(handle: (path: string, method: string, res: ServerResponse) => void) {
  const requests: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    req.resume();
    req.on('end', () => handle(req.url ?? '/', req.method ?? 'GET', res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { origin: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, requests };
}

/** Runs `work` while sampling this process's RSS (the API and the worker run in it); returns the peak growth. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growthMb: (peak - before) / (1024 * 1024) };
  } finally {
    clearInterval(sampler);
  }
}

describe('destination policy', () => {
  it('refuses a loopback feed in every spelling: 422 destination_not_allowed, zero requests', async () => {
    const user = await platform.createUser();
    inside.setFeed('/team.ics', FEED);
    inside.requests.length = 0;
    const port = new URL(inside.url('/')).port;
    for (const url of [
      inside.url('/team.ics'),
      `http://localhost:${port}/team.ics`,
      `http://[::ffff:127.0.0.1]:${port}/team.ics`,
      `webcal://127.0.0.1:${port}/team.ics`,
    ]) {
      const res = await link(user.token, { provider: 'ics', url });
      expect(res.status, url).toBe(422);
      expect(res.body.error.code).toBe('destination_not_allowed');
      expect(res.body.error.message).not.toMatch(/ECONN|UND_ERR|127\.0\.0\.1:\d/);
    }
    expect(inside.requests).toHaveLength(0);
    // The allowed host works as any feed does.
    outside.setFeed('/team.ics', FEED);
    expect((await link(user.token, { provider: 'ics', url: outside.url('/team.ics') })).status).toBe(201);
  });

  it('does not follow a redirect to loopback', async () => {
    const user = await platform.createUser();
    inside.requests.length = 0;
    outside.setFeed('/moved.ics', '', { status: 302, headers: { Location: inside.url('/team.ics') } });
    const res = await link(user.token, { provider: 'ics', url: outside.url('/moved.ics') });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('destination_not_allowed');
    expect(inside.requests).toHaveLength(0);
  });

  it('never sends CalDAV credentials to another origin on a redirect', async () => {
    const user = await platform.createUser();
    const elsewhere = await scriptedServer((_path, _method, res) =>
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end(),
    );
    const redirecting = await scriptedServer((path, _method, res) =>
      res.writeHead(307, { Location: `${elsewhere.origin}${path}` }).end(),
    );
    const res = await link(user.token, {
      provider: 'caldav',
      serverUrl: `${redirecting.origin}/dav/`,
      username: 'ada',
      password: 'secret-password',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/redirected to another host/);
    expect(redirecting.requests.length).toBeGreaterThan(0);
    expect(redirecting.requests.every((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
    expect(elsewhere.requests.length).toBeGreaterThan(0);
    expect(elsewhere.requests.map((r) => r.headers.authorization)).toEqual(
      elsewhere.requests.map(() => undefined),
    );
  });

  it('refuses what a hostile CalDAV server hands back: a calendar elsewhere, and a redirect on a later poll', async () => {
    const user = await platform.createUser();
    inside.requests.length = 0;
    const dav = await hostileDavServer(`${inside.url('/')}elsewhere/`);
    const created = await link(user.token, {
      provider: 'caldav',
      serverUrl: `${dav.origin}/`,
      username: 'ada',
      password: 'secret-password',
    });
    expect(created.status).toBe(201);
    expect(created.body.calendars.map((c: { name: string }) => c.name)).toEqual(['Work']);

    const saved = await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
    });
    expect(saved.status).toBe(200);
    const calendar = () =>
      platform
        .request('GET', `/v1/connections/${created.body.id}`, { token: user.token })
        .then((r) => r.body.calendars[0]);
    await eventually(async () => (await calendar()).importStatus === 'ready' && (await calendar()), {
      what: 'the first import',
      timeoutMs: 60_000,
    });
    expect((await calendar()).eventCount).toBe(1);

    // Later, the server moves the calendar inside the network.
    dav.moveCalendarTo(`${inside.url('/')}stolen/`);
    const sync = await platform.request('POST', `/v1/connections/${created.body.id}/sync`, {
      token: user.token,
      body: {},
    });
    expect(sync.status).toBe(202);
    const failed = await eventually(
      async () => {
        const c = await calendar();
        return c.importStatus === 'error' && c;
      },
      { what: 'the refused poll', timeoutMs: 60_000 },
    );
    expect(failed.error).toMatch(/loopback network/);
    expect(inside.requests).toHaveLength(0);
  });

  it('refuses URLs with a username or password in them (400)', async () => {
    const user = await platform.createUser();
    for (const [body, field] of [
      [{ provider: 'ics', url: 'https://ada:secret@calendar.example/feed.ics' }, 'url'],
      [
        { provider: 'caldav', serverUrl: 'https://ada:pw@dav.example/', username: 'ada', password: 'pw' },
        'serverUrl',
      ],
    ] as const) {
      const res = await link(user.token, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
  });
});

describe('bounded bodies', () => {
  const line = Buffer.from(`X-PAD:${'a'.repeat(72)}\r\n`);

  it('answers a gzip bomb with 422 invalid_feed, growing memory by less than 50 MB', async () => {
    const user = await platform.createUser();
    const gzip = zlib.createGzip();
    const compressed: Buffer[] = [];
    gzip.on('data', (c: Buffer) => compressed.push(c));
    const ended = new Promise((resolve) => gzip.on('end', resolve));
    gzip.write('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n');
    const chunk = Buffer.concat(Array(1024).fill(line));
    for (let written = 0; written < 256 * 1024 * 1024; written += chunk.length) {
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
    }
    gzip.end('END:VCALENDAR\r\n');
    await ended;
    const bomb = Buffer.concat(compressed);
    expect(bomb.length).toBeLessThan(1024 * 1024); // 256 MB inflated
    outside.setFeed('/bomb.ics', bomb, { headers: { 'Content-Encoding': 'gzip' } });

    const { result: res, growthMb } = await peakRssGrowth(() =>
      link(user.token, { provider: 'ics', url: outside.url('/bomb.ics') }),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_feed');
    expect(res.body.error.message).toMatch(/larger than 10 MB/);
    expect(growthMb).toBeLessThan(50);
  });

  it('answers an endless feed with 422 invalid_feed, quickly and with bounded memory', async () => {
    const user = await platform.createUser();
    let sent = 0;
    const chunk = Buffer.concat(Array(800).fill(line));
    const endless = await scriptedServer((_path, _method, res) => {
      res.writeHead(200, { 'Content-Type': 'text/calendar' });
      res.write('BEGIN:VCALENDAR\r\n');
      const pump = () => {
        while (sent < 512 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const started = Date.now();
    const { result: res, growthMb } = await peakRssGrowth(() =>
      link(user.token, { provider: 'ics', url: `${endless.origin}/live.ics` }),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_feed');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(growthMb).toBeLessThan(50);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('rate limit', () => {
  it('answers the sixth connection attempt within a minute with 429 rate_limited and Retry-After', async () => {
    const user = await platform.createUser();
    const refused = { provider: 'ics', url: inside.url('/team.ics') };
    for (let i = 0; i < 5; i++) expect((await link(user.token, refused)).status).toBe(422);
    const limited = await link(user.token, refused);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Per user: someone else is not held back.
    const other = await platform.createUser();
    expect((await link(other.token, refused)).status).toBe(422);
  });
});

/**
 * A CalDAV server that answers like a small real one (well-known, principal, home, one "Work"
 * calendar with one event), lists a second calendar whose href points at `elsewhere`, and on
 * demand moves its calendar there with a 301.
 */
async function hostileDavServer(elsewhere: string) {
  let movedTo: string | null = null;
  const xml = (res: ServerResponse, body: string) =>
    res
      .writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' })
      .end(
        `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">${body}</d:multistatus>`,
      );
  const response = (href: string, props: string) =>
    `<d:response><d:href>${href}</d:href><d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
  const calendarType = '<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>';
  const server = await scriptedServer((path, method, res) => {
    if (path.startsWith('/.well-known/')) return void res.writeHead(301, { Location: '/' }).end();
    if (movedTo && path.startsWith('/home/work/'))
      return void res.writeHead(301, { Location: movedTo }).end();
    if (path === '/') {
      return xml(
        res,
        response('/', '<d:current-user-principal><d:href>/principal/</d:href></d:current-user-principal>'),
      );
    }
    if (path === '/principal/') {
      return xml(
        res,
        response('/principal/', '<c:calendar-home-set><d:href>/home/</d:href></c:calendar-home-set>'),
      );
    }
    if (path === '/home/') {
      return xml(
        res,
        response('/home/', '<d:resourcetype><d:collection/></d:resourcetype>') +
          response('/home/work/', `${calendarType}<d:displayname>Work</d:displayname>`) +
          response(elsewhere, `${calendarType}<d:displayname>Elsewhere</d:displayname>`),
      );
    }
    if (path === '/home/work/' && method === 'PROPFIND') {
      return xml(res, response('/home/work/', `${calendarType}<cs:getctag>"1"</cs:getctag>`));
    }
    if (path === '/home/work/' && method === 'REPORT') {
      const data = FEED.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      return xml(
        res,
        response(
          '/home/work/one.ics',
          `<d:getetag>"e1"</d:getetag><c:calendar-data>${data}</c:calendar-data>`,
        ),
      );
    }
    res.writeHead(404).end();
  });
  return {
    origin: server.origin,
    moveCalendarTo(url: string) {
      movedTo = url;
    },
  };
}
