/**
 * The hostile inputs of hostile-input.test.ts, one per way a request can be malformed, each with
 * the route it targets and the status and error code the contract gives it.
 */
import { randomUUID } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const json = (value: unknown) => JSON.stringify(value);
export const validUser = () => ({
  email: `h${randomUUID().slice(0, 8)}@example.com`,
  name: 'Hostile',
  timeZone: 'UTC',
});
const schedule = { timeZone: 'UTC', weekly: {} };

export interface HostileCase {
  name: string;
  method: string;
  /** The route as /openapi.json names it. */
  route: string;
  path: () => string;
  as: 'admin' | 'user' | 'fresh-user';
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

/** The `user` caller and a connection they own, known once the suite has started. */
export interface HostileContext {
  userId(): string;
  connectionId(): string;
}

export function hostileCases({ userId, connectionId }: HostileContext): HostileCase[] {
  const cases: HostileCase[] = [
    // Strings that PostgreSQL cannot store or that are not text at all.
    ...(
      [
        ['a NUL in a name', { ...validUser(), name: 'Ada\u0000Lovelace' }],
        ['a lone surrogate in a name', { ...validUser(), name: 'Ada \ud800' }],
        ['an overlong name', { ...validUser(), name: 'x'.repeat(201) }],
        ['a NUL in an e-mail', { ...validUser(), email: 'a\u0000@example.com' }],
        ['a NUL in a time zone', { ...validUser(), timeZone: 'Europe/Berlin\u0000' }],
        ['an offset as a time zone', { ...validUser(), timeZone: '+01:00' }],
        ['an overlong time zone', { ...validUser(), timeZone: `Europe/${'B'.repeat(300)}` }],
      ] as const
    ).map(
      ([name, body]): HostileCase => ({
        name,
        method: 'POST',
        route: 'post /v1/users',
        path: () => '/v1/users',
        as: 'admin',
        body,
        status: 400,
        code: 'validation_failed',
      }),
    ),
    ...(
      [
        [
          'a NUL in a CalDAV username',
          { provider: 'caldav', serverUrl: 'http://127.0.0.1:9/', username: 'a\u0000b', password: 'p' },
        ],
        [
          'a NUL in a CalDAV password',
          { provider: 'caldav', serverUrl: 'http://127.0.0.1:9/', username: 'ab', password: 'p\u0000' },
        ],
        [
          'a NUL in a CalDAV server URL',
          { provider: 'caldav', serverUrl: 'http://127.0.0.1:9/\u0000', username: 'a', password: 'p' },
        ],
        [
          'a lone surrogate in an iCloud username',
          { provider: 'icloud', username: '\udfffada@icloud.com', appPassword: 'p' },
        ],
        ['a NUL in an ICS URL', { provider: 'ics', url: 'http://127.0.0.1:9/cal\u0000.ics' }],
        ['a NUL in a provider name', { provider: 'ics\u0000' }],
      ] as const
    ).map(
      ([name, body]): HostileCase => ({
        name,
        method: 'POST',
        route: 'post /v1/connections',
        path: () => '/v1/connections',
        as: 'fresh-user',
        body,
        status: 400,
        code: 'validation_failed',
      }),
    ),
    // Google and Microsoft when this server has no OAuth client for them (the suite sets none).
    ...(['google', 'microsoft'] as const).map(
      (provider): HostileCase => ({
        name: `${provider} without an OAuth client on this server`,
        method: 'POST',
        route: 'post /v1/connections',
        path: () => '/v1/connections',
        as: 'fresh-user',
        body: { provider },
        status: 422,
        code: 'provider_not_configured',
      }),
    ),
    // OAuth callbacks with a state that was never issued, or none.
    ...(
      [
        ['a forged OAuth state', '/v1/oauth/google/callback?state=forged&code=abc'],
        ['an OAuth callback without state', '/v1/oauth/microsoft/callback?code=abc'],
      ] as const
    ).map(
      ([name, path]): HostileCase => ({
        name,
        method: 'GET',
        route: 'get /v1/oauth/{provider}/callback',
        path: () => path,
        as: 'user',
        status: 400,
        code: 'invalid_oauth_state',
      }),
    ),
    {
      name: 'Graph notifications that are not a list',
      method: 'POST',
      route: 'post /v1/webhooks/microsoft',
      path: () => '/v1/webhooks/microsoft',
      as: 'user',
      body: { value: 'everything changed' },
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'a booking calendar slug the pages reserve',
      method: 'POST',
      route: 'post /v1/booking-calendars',
      path: () => '/v1/booking-calendars',
      as: 'user',
      body: { slug: 'new', name: 'New', type: 'simple', hosts: ['host@example.com'], durationMinutes: 30 },
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'an ICS reconnect without its new URL',
      method: 'POST',
      route: 'post /v1/connections/{id}/reconnect',
      path: () => `/v1/connections/${connectionId()}/reconnect`,
      as: 'user',
      body: {},
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'a NUL in a reconnect username',
      method: 'POST',
      route: 'post /v1/connections/{id}/reconnect',
      path: () => `/v1/connections/${connectionId()}/reconnect`,
      as: 'user',
      body: { provider: 'ics', url: 'http://127.0.0.1:9/\u0000' },
      status: 400,
      code: 'validation_failed',
    },
    // Paths: NUL, broken percent-encoding, invalid UTF-8, overlong ids.
    ...(
      [
        ['a NUL in a user id', 'get /v1/users/{id}', 'GET', '/v1/users/ada%00@example.com'],
        ['%zz in a user id', 'get /v1/users/{id}', 'GET', '/v1/users/%zz'],
        ['invalid UTF-8 in a user id', 'get /v1/users/{id}', 'GET', '/v1/users/%ED%A0%80'],
        ['an overlong user id', 'get /v1/users/{id}', 'GET', `/v1/users/${'a'.repeat(300)}`],
        ['a NUL in a user id (tokens)', 'post /v1/users/{id}/tokens', 'POST', '/v1/users/%00/tokens'],
        ['%zz in a user id (tokens)', 'post /v1/users/{id}/tokens', 'POST', '/v1/users/%zz/tokens'],
        ['%zz in a connection id', 'get /v1/connections/{id}', 'GET', '/v1/connections/%zz'],
        ['a NUL in a connection id', 'get /v1/connections/{id}', 'GET', '/v1/connections/%00'],
        ['%zz in a connection id (delete)', 'delete /v1/connections/{id}', 'DELETE', '/v1/connections/%zz'],
        ['a NUL in a user id (token list)', 'get /v1/users/{id}/tokens', 'GET', '/v1/users/a%00b/tokens'],
        [
          'a token id that is not a UUID',
          'delete /v1/users/{id}/tokens/{tokenId}',
          'DELETE',
          '/v1/users/a@example.com/tokens/1%20or%201=1',
        ],
        [
          '%zz in a token id',
          'delete /v1/users/{id}/tokens/{tokenId}',
          'DELETE',
          '/v1/users/a@example.com/tokens/%zz',
        ],
        [
          '%zz in a connection id (events)',
          'get /v1/connections/{id}/events',
          'GET',
          '/v1/connections/%zz/events',
        ],
      ] as const
    ).map(
      ([name, route, method, path]): HostileCase => ({
        name,
        method,
        route,
        path: () => path,
        as: route.includes('connections') ? 'user' : 'admin',
        status: 400,
        code: 'validation_failed',
      }),
    ),
    // Dates outside years 0001-9999, and tampered cursors.
    ...(
      [
        ['year 0000 in from', () => `/v1/connections/${connectionId()}/events?from=0000-01-01T00:00:00Z`],
        [
          'an offset pulling from before year 1',
          () => `/v1/connections/${connectionId()}/events?from=0001-01-01T00:30:00%2B01:00`,
        ],
        [
          'a to after year 9999',
          () => `/v1/connections/${connectionId()}/events?to=9999-12-31T23:00:00-05:00`,
        ],
        [
          'a cursor with a bad date',
          () =>
            `/v1/connections/${connectionId()}/events?cursor=${cursor({ start: 'yesterday', id: randomUUID() })}`,
        ],
        [
          'a cursor with a non-UUID id',
          () =>
            `/v1/connections/${connectionId()}/events?cursor=${cursor({ start: '2026-01-01T00:00:00.000Z', id: 'x' })}`,
        ],
        [
          'a cursor in year 0000',
          () =>
            `/v1/connections/${connectionId()}/events?cursor=${cursor({ start: '0000-01-01T00:00:00.000Z', id: randomUUID() })}`,
        ],
      ] as const
    ).map(
      ([name, path]): HostileCase => ({
        name,
        method: 'GET',
        route: 'get /v1/connections/{id}/events',
        path,
        as: 'user',
        status: 400,
        code: 'validation_failed',
      }),
    ),
    ...(
      [
        ['a connections cursor with a bad date', { createdAt: '2026-13-45T00:00:00Z', id: randomUUID() }],
        [
          'a connections cursor with a non-UUID id',
          { createdAt: '2026-01-01T00:00:00.000Z', id: "x' or 1=1" },
        ],
        ['a connections cursor that is an array', [1, 2]],
      ] as const
    ).map(
      ([name, value]): HostileCase => ({
        name,
        method: 'GET',
        route: 'get /v1/connections',
        path: () => `/v1/connections?cursor=${cursor(value)}`,
        as: 'user',
        status: 400,
        code: 'validation_failed',
      }),
    ),
    {
      name: 'a tokens cursor with a bad date',
      method: 'GET',
      route: 'get /v1/users/{id}/tokens',
      path: () =>
        `/v1/users/${userId()}/tokens?cursor=${cursor({ createdAt: '2026-02-30T00:00:00Z', id: randomUUID() })}`,
      as: 'user',
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'a NUL in a cursor',
      method: 'GET',
      route: 'get /v1/connections',
      path: () => '/v1/connections?cursor=%00',
      as: 'user',
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'year 0000 in a schedule override',
      method: 'PUT',
      route: 'put /v1/me/schedule',
      path: () => '/v1/me/schedule',
      as: 'user',
      body: { ...schedule, overrides: [{ date: '0000-01-01', intervals: [] }] },
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'a NUL in a schedule time zone',
      method: 'PUT',
      route: 'put /v1/me/schedule',
      path: () => '/v1/me/schedule',
      as: 'user',
      body: { ...schedule, timeZone: '\u0000' },
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'a NUL in a sync direction',
      method: 'POST',
      route: 'post /v1/connections/{id}/sync',
      path: () => `/v1/connections/${connectionId()}/sync`,
      as: 'user',
      body: { direction: 'both\u0000' },
      status: 400,
      code: 'validation_failed',
    },
    // Bodies that are not JSON, or not decodable.
    ...(
      [
        ['a form body', 'application/x-www-form-urlencoded', 'email=a%40b.c&name=x&timeZone=UTC'],
        ['a text body', 'text/plain', json(validUser())],
        ['a multipart body', 'multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
      ] as const
    ).flatMap(([name, contentType, rawBody]): HostileCase[] => [
      {
        name: `${name} creating a user`,
        method: 'POST',
        route: 'post /v1/users',
        path: () => '/v1/users',
        as: 'admin',
        rawBody,
        headers: { 'content-type': contentType },
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: `${name} saving calendars`,
        method: 'PUT',
        route: 'put /v1/connections/{id}/calendars',
        path: () => `/v1/connections/${connectionId()}/calendars`,
        as: 'user',
        rawBody,
        headers: { 'content-type': contentType },
        status: 415,
        code: 'unsupported_media_type',
      },
    ]),
    {
      name: 'a body without a content type',
      method: 'PATCH',
      route: 'patch /v1/connections/{id}',
      path: () => `/v1/connections/${connectionId()}`,
      as: 'user',
      rawBody: Buffer.from(json({ syncDirection: 'inbound' })),
      headers: { 'content-type': '' },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a body in a charset other than UTF-8',
      method: 'POST',
      route: 'post /v1/users',
      path: () => '/v1/users',
      as: 'admin',
      rawBody: json(validUser()),
      headers: { 'content-type': 'application/json; charset=klingon' },
      status: 415,
      code: 'unsupported_media_type',
    },
    ...(
      [
        ['a bad gzip body', 'gzip', 'this is not gzip'],
        ['a bad brotli body', 'br', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x03])],
        ['a bad deflate body', 'deflate', 'nope'],
        ['a truncated gzip body', 'gzip', gzipSync(json(validUser())).subarray(0, 12)],
      ] as const
    ).map(
      ([name, encoding, rawBody]): HostileCase => ({
        name,
        method: 'POST',
        route: 'post /v1/users',
        path: () => '/v1/users',
        as: 'admin',
        rawBody,
        headers: { 'content-encoding': encoding },
        status: 400,
        code: 'malformed_json',
      }),
    ),
    {
      name: 'a gzip body that is not JSON inside',
      method: 'PUT',
      route: 'put /v1/me/schedule',
      path: () => '/v1/me/schedule',
      as: 'user',
      rawBody: gzipSync('{"timeZone": '),
      headers: { 'content-encoding': 'gzip' },
      status: 400,
      code: 'malformed_json',
    },
    {
      name: 'an unknown content encoding',
      method: 'POST',
      route: 'post /v1/connections/{id}/sync',
      path: () => `/v1/connections/${connectionId()}/sync`,
      as: 'user',
      rawBody: '{}',
      headers: { 'content-encoding': 'x-hostile' },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a brotli bomb beyond the body limit',
      method: 'POST',
      route: 'post /v1/users',
      path: () => '/v1/users',
      as: 'admin',
      rawBody: brotliCompressSync(json({ ...validUser(), name: ' '.repeat(5_000_000) })),
      headers: { 'content-encoding': 'br' },
      status: 413,
      code: 'payload_too_large',
    },
  ];
  return cases;
}
