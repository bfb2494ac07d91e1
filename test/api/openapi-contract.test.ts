/**
 * The served OpenAPI document is true to the server: every status a request can produce is declared
 * on its route, formats and bodies are as the server takes them, and every string field the API
 * takes (providers' connect bodies included) refuses NUL, lone surrogates and unbounded length.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApp } from '../../api/app.ts';
import type { RegisteredRoute } from '../../api/routing.ts';
import { createLogger } from '../../platform/logger.ts';
import { providerModules } from '../../providers/registry.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

let platform: Platform;
// biome-ignore lint/suspicious/noExplicitAny: the document is read as loose JSON
let doc: any;
let routes: RegisteredRoute[];
beforeAll(async () => {
  platform = await startPlatform({ worker: false });
  doc = (await platform.request('GET', '/openapi.json')).body;
  routes = createApp({
    config: platform.config,
    orm: platform.orm,
    temporal: platform.temporal,
    logger: createLogger('silent', 't'),
  }).routes;
});
afterAll(() => platform?.stop());

const openApiPath = (route: RegisteredRoute) => route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operation = (route: RegisteredRoute) => doc.paths[openApiPath(route)][route.method];

/** What the server can answer on a route, from how it is declared (the table in the brief). */
function statusesARequestCanProduce(route: RegisteredRoute): string[] {
  const statuses = ['503', ...Object.keys(route.responses)];
  if (route.params || route.query || route.body) statuses.push('400');
  // Even a public route answers 401 to a token it cannot accept.
  statuses.push('401');
  if (route.access === 'user' || route.access === 'admin') statuses.push('403');
  if (route.body) statuses.push('413', '415');
  return statuses;
}

describe('the OpenAPI document against the server', () => {
  it('declares on every route each status a request can produce, with the error body on errors', () => {
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const declared = operation(route).responses;
      const name = `${route.method} ${route.path}`;
      for (const status of statusesARequestCanProduce(route)) {
        expect(Object.keys(declared), `${name} ${status}`).toContain(status);
        if (Number(status) >= 400 && !(route.path === '/healthz' && status === '503'))
          expect(declared[status].content['application/json'].schema, `${name} ${status}`).toEqual({
            $ref: '#/components/schemas/Error',
          });
      }
    }
    expect(doc.components.schemas.Error.properties.error.required.sort()).toEqual(['code', 'message']);
  });

  it('declares 409 where a conflict is possible and 429 where the provider may rate limit', () => {
    const responses = (method: string, path: string) => Object.keys(doc.paths[path][method].responses);
    expect(responses('post', '/v1/users')).toContain('409');
    for (const path of [
      '/v1/connections/{id}/calendars',
      '/v1/connections/{id}/sync',
      '/v1/connections/{id}',
    ])
      expect(
        responses(path.endsWith('{id}') ? 'patch' : path.endsWith('sync') ? 'post' : 'put', path),
      ).toContain('409');
    expect(responses('post', '/v1/connections')).toEqual(
      expect.arrayContaining(['409', '413', '415', '422', '429']),
    );
    expect(responses('post', '/v1/connections/{id}/reconnect')).toEqual(
      expect.arrayContaining(['409', '429']),
    );
  });

  it('marks e-mails with format email and describes time zones with a pattern', () => {
    const createUser = doc.paths['/v1/users'].post;
    const body = createUser.requestBody.content['application/json'].schema;
    expect(body.properties.email.format).toBe('email');
    expect(body.properties.timeZone.pattern).toEqual(expect.any(String));
    expect(body.properties.timeZone.description).toMatch(/IANA/);
    expect(body.properties.timeZone.maxLength).toBeLessThanOrEqual(64);
    const created = createUser.responses['201'].content['application/json'].schema;
    expect(created.properties.email.format).toBe('email');
    expect(created.properties.tokenId.format).toBe('uuid');
    const schedule = doc.paths['/v1/me/schedule'].put.requestBody.content['application/json'].schema;
    expect(schedule.properties.timeZone.pattern).toBe(body.properties.timeZone.pattern);
    const pattern = new RegExp(body.properties.timeZone.pattern);
    expect(pattern.test('America/Argentina/Buenos_Aires')).toBe(true);
    expect(pattern.test('+01:00')).toBe(false);
  });

  it('documents instants the server takes: years 0001-9999 only', () => {
    const from = doc.paths['/v1/connections/{id}/events'].get.parameters.find(
      (p: { name: string }) => p.name === 'from',
    ).schema;
    const patterns: RegExp[] = [
      from.pattern,
      ...(from.allOf ?? []).map((s: { pattern?: string }) => s.pattern),
    ]
      .filter(Boolean)
      .map((p: string) => new RegExp(p));
    expect(patterns.length).toBeGreaterThan(0);
    const allows = (value: string) => patterns.every((p) => p.test(value));
    expect(allows('2026-12-01T09:00:00Z')).toBe(true);
    expect(allows('0001-01-01T00:00:00+00:00')).toBe(true);
    expect(allows('0000-01-01T00:00:00Z')).toBe(false);
    expect(from.format).toBe('date-time');
  });

  it('marks a body optional exactly where the server accepts none', () => {
    expect(doc.paths['/v1/connections/{id}/sync'].post.requestBody.required).toBe(false);
    // Reconnecting a Google or Microsoft connection takes no fields at all.
    expect(doc.paths['/v1/connections/{id}/reconnect'].post.requestBody.required).toBe(false);
    for (const [method, path] of [
      ['post', '/v1/users'],
      ['put', '/v1/me/schedule'],
      ['post', '/v1/connections'],
      ['put', '/v1/connections/{id}/calendars'],
      ['patch', '/v1/connections/{id}'],
    ] as const)
      expect(doc.paths[path][method].requestBody.required, `${method} ${path}`).toBe(true);
  });

  it('documents token listing and revocation', () => {
    expect(Object.keys(doc.paths['/v1/users/{id}/tokens'].get.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '503']),
    );
    expect(Object.keys(doc.paths['/v1/users/{id}/tokens/{tokenId}'].delete.responses)).toEqual(
      expect.arrayContaining(['204', '400', '401', '404', '503']),
    );
  });
});

// biome-ignore lint/suspicious/noExplicitAny: zod's internal definition, read structurally
type Def = any;

/** Each schema node that takes a string from the client, with where it sits. */
function stringFields(schema: z.ZodType, path: string): [string, z.ZodType][] {
  const def: Def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case 'string':
      return [[path, schema]];
    case 'pipe':
      // The whole pipe is what the client meets (e.g. trim, then an e-mail check).
      return stringFields(def.in, path).length ? [[path, schema]] : [];
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) =>
        stringFields(value, path ? `${path}.${key}` : key),
      );
    case 'array':
      return stringFields(def.element, `${path}[]`);
    case 'record':
      return [...stringFields(def.keyType, `${path}{key}`), ...stringFields(def.valueType, `${path}{}`)];
    case 'union':
      return (def.options as z.ZodType[]).flatMap((option) => stringFields(option, path));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return stringFields(def.innerType, path);
    default:
      return [];
  }
}

describe('every string field the API takes', () => {
  it("refuses NUL, lone surrogates and overlong text, in routes and in providers' connect bodies", () => {
    const fields: [string, z.ZodType][] = [];
    for (const route of routes)
      for (const [part, schema] of [
        ['path', route.params],
        ['query', route.query],
        ['body', route.body],
      ] as const)
        if (schema) fields.push(...stringFields(schema, `${route.method} ${route.path} ${part}:`));
    for (const module of Object.values(providerModules))
      if (module) fields.push(...stringFields(module.connectBody, `${module.kind} connect body:`));
    expect(fields.length).toBeGreaterThan(20);

    const accepted: string[] = [];
    for (const [where, schema] of fields)
      for (const [what, value] of [
        ['NUL', 'ab\u0000cd'],
        ['lone surrogate', 'ab\ud800cd'],
        ['100,000 characters', 'a'.repeat(100_000)],
      ])
        if (schema.safeParse(value).success) accepted.push(`${where} accepts ${what}`);
    expect(accepted).toEqual([]);
  });
});
