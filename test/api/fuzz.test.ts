/**
 * A bounded fuzz loop over raw HTTP: random bytes in paths, queries, headers and bodies of every
 * route must never produce a 5xx (nor a dropped connection) while PostgreSQL and Temporal are up.
 * The seed is printed with any failure; FUZZ_SEED replays it, FUZZ_REQUESTS runs longer.
 */
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../harness/platform.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 300);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let platform: Platform;
let userToken: string;
let routes: { method: string; path: string; declared: string[] }[];
beforeAll(async () => {
  // No outbound request may leave loopback, whatever a random body turns out to be.
  platform = await startPlatform({
    worker: false,
    env: { ICLOUD_CALDAV_URL: 'http://127.0.0.1:9', PROVIDER_TIMEOUT_SECONDS: '2' },
  });
  userToken = (await platform.createUser()).token;
  const doc = (await platform.request('GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, { responses: object }>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      declared: Object.keys(op.responses),
    })),
  );
});
afterAll(() => platform?.stop());

/** mulberry32: small, seedable, good enough to pick test inputs. */
function prng(start: number) {
  let a = start >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const bytes = (max: number) => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
  return { next, int, pick, bytes };
}

type Rng = ReturnType<typeof prng>;

const nasty = [
  '%zz',
  '%00',
  '%ED%A0%80',
  '%C0%AF',
  '..%2F..',
  'a'.repeat(600),
  '%F0%9F%98%80',
  '0000',
  '-1',
  "'",
];

function segment(rng: Rng): string {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(nasty);
    case 1:
      return encodeURIComponent(rng.bytes(40).toString('latin1'));
    case 2:
      return [...rng.bytes(30)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    default:
      return crypto.randomUUID();
  }
}

function query(rng: Rng): string {
  if (rng.next() < 0.4) return '';
  const keys = ['limit', 'cursor', 'from', 'to', 'calendarId', 'x', 'limit[]', '__proto__'];
  const values = [
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59-14:00',
    '-5',
    '1e309',
    Buffer.from(JSON.stringify({ createdAt: 'x', id: 'y', start: '0000-01-01T00:00:00Z' })).toString(
      'base64url',
    ),
  ];
  const pairs = Array.from({ length: 1 + rng.int(4) }, () => {
    const value = rng.next() < 0.5 ? rng.pick(values) : segment(rng);
    return `${rng.pick(keys)}=${value}`;
  });
  return `?${pairs.join('&')}`;
}

function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 4 : 6)) {
    case 0:
      return rng.bytes(30).toString('latin1');
    case 1:
      return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x10000)));
    case 2:
      return rng.pick([0, -1, 1e308, null, true, 'UTC', 'europe/berlin', '0000-01-01', crypto.randomUUID()]);
    case 3:
      return rng.pick(['ics', 'caldav', 'icloud', 'google', 'both', 'inbound', '']);
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = [
        'email',
        'name',
        'timeZone',
        'provider',
        'url',
        'username',
        'password',
        'calendars',
        'id',
      ];
      const more = [
        'syncDirection',
        'direction',
        'weekly',
        'overrides',
        'appPassword',
        'serverUrl',
        '__proto__',
      ];
      return Object.fromEntries(
        Array.from({ length: rng.int(5) }, () => [rng.pick([...keys, ...more]), randomJson(rng, depth + 1)]),
      );
    }
  }
}

function body(rng: Rng): Buffer | null {
  switch (rng.int(5)) {
    case 0:
      return null;
    case 1:
      return rng.bytes(2000);
    case 2:
      return gzipSync(JSON.stringify(randomJson(rng)));
    default: {
      const json = Buffer.from(JSON.stringify(randomJson(rng)) ?? 'null');
      // Flip a byte now and then: almost-JSON.
      if (json.length && rng.next() < 0.3) json[rng.int(json.length)] = rng.int(256);
      return json;
    }
  }
}

function headerValue(rng: Rng): string {
  // Mostly bytes a header may carry (Node's parser answers the rest itself, before the app); never
  // CR/LF, which would end the header.
  const allowRaw = rng.next() < 0.1;
  return [...rng.bytes(60)]
    .map((b) => (b === 10 || b === 13 || (!allowRaw && (b < 32 || b === 127)) ? 32 + (b % 95) : b))
    .map((b) => String.fromCharCode(b))
    .join('');
}

function request(rng: Rng) {
  const route = rng.pick(routes);
  let emptySegment = false;
  const path =
    route.path.replace(/\{[^}]+\}/g, () => {
      const value = segment(rng);
      emptySegment ||= value === '';
      return value;
    }) + query(rng);
  const method =
    rng.next() < 0.8 ? route.method : rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  const payload = body(rng);
  const headers: [string, string][] = [
    ['Host', '127.0.0.1'],
    ['Connection', 'close'],
  ];
  const auth = rng.int(4);
  if (auth === 0) headers.push(['Authorization', `Bearer ${platform.adminToken}`]);
  if (auth === 1) headers.push(['Authorization', `Bearer ${userToken}`]);
  if (auth === 2) headers.push(['Authorization', headerValue(rng)]);
  if (payload) {
    headers.push(['Content-Length', String(payload.length)]);
    const types = [
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/problem+json',
      'multipart/form-data',
    ];
    if (rng.next() < 0.8)
      headers.push(['Content-Type', rng.next() < 0.8 ? rng.pick(types) : headerValue(rng)]);
    if (rng.next() < 0.3)
      headers.push(['Content-Encoding', rng.pick(['gzip', 'br', 'deflate', 'identity', 'zstd', 'x-junk'])]);
  }
  if (rng.next() < 0.3)
    headers.push([rng.pick(['X-Request-Id', 'Accept', 'X-Forwarded-For', 'Cookie']), headerValue(rng)]);
  const head = `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return {
    /** The route this request is certain to reach, if any (an empty segment may reach another). */
    route: method === route.method && !emptySegment ? route : null,
    summary: `${method} ${path.slice(0, 120)} [${headers.map(([k]) => k).join(',')}] body=${payload?.length ?? 0}`,
    bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload ?? Buffer.alloc(0)]),
  };
}

/** Sends raw bytes; resolves with the response's status (null when none came) and who answered. */
function send(bytes: Buffer): Promise<{ status: number | null; byApp: boolean }> {
  const url = new URL(platform.apiUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, byApp: /^x-request-id:/im.test(text) });
    };
    socket.setTimeout(20_000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(bytes);
  });
}

describe('fuzzing the HTTP API', () => {
  it(`answers ${REQUESTS} random requests without a 5xx, each as /openapi.json declares (seed ${seed})`, async () => {
    const rng = prng(seed);
    const failures: string[] = [];
    const statuses = new Map<number | null, number>();
    let answeredByApp = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const { route, summary, bytes } = request(rng);
      const { status, byApp } = await send(bytes);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (byApp) answeredByApp++;
      if (status === null || status >= 500) failures.push(`#${i} ${status}: ${summary}`);
      else if (byApp && route && !route.declared.includes(String(status)))
        failures.push(`#${i} ${status} is not declared for ${route.method} ${route.path}: ${summary}`);
    }
    expect(failures, `FUZZ_SEED=${seed}`).toEqual([]);
    // The loop reached the routes, not only Node's parser, and they answered in several ways.
    const seen = JSON.stringify([...statuses]);
    expect(answeredByApp, seen).toBeGreaterThan(REQUESTS * 0.8);
    expect(statuses.size, seen).toBeGreaterThan(4);
    const health = await platform.request('GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
  });
});
