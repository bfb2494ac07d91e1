import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../api/server.ts';
import { createOrm } from '../../db/orm.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../worker/local/ports.ts';
import { type Platform, startPlatform, testEnv } from '../harness/platform.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ worker: false });
});
afterAll(() => platform?.stop());

describe('GET /healthz', () => {
  it('is 200 with every part ok when PostgreSQL and Temporal answer', async () => {
    const res = await platform.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
  });

  it('is 503 naming the database when PostgreSQL is unreachable, and 503 naming Temporal when it is', async () => {
    const deadPort = await freePort();
    const env = testEnv({
      DATABASE_URL: `postgres://nobody@127.0.0.1:${deadPort}/none`,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    const config = loadConfig(env, { generateSecrets: false });
    const orm = await createOrm({ databaseUrl: config.DATABASE_URL! });
    const api = await startApi({
      config,
      orm,
      logger: createLogger('silent', 'test'),
      port: 0,
      temporalAddress: config.TEMPORAL_ADDRESS!,
    });
    try {
      const res = await fetch(`${api.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        status: 'unavailable',
        database: 'unavailable',
        temporal: 'unavailable',
      });
      // A route that needs the database answers 503 dependency_unavailable, never 500.
      const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: 'Bearer cbu_whatever' } });
      expect(me.status).toBe(503);
      expect(((await me.json()) as { error: { code: string } }).error.code).toBe('dependency_unavailable');
    } finally {
      await api.close();
      await orm.close();
    }
  });
});

describe('GET /openapi.json', () => {
  it('covers every route the app serves, with request schemas', async () => {
    const res = await platform.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    for (const route of [
      'GET /healthz',
      'POST /v1/users',
      'GET /v1/users/{id}',
      'POST /v1/users/{id}/tokens',
      'GET /v1/me',
      'PUT /v1/me/schedule',
      'POST /v1/connections',
      'GET /v1/connections',
      'GET /v1/connections/{id}',
      'PUT /v1/connections/{id}/calendars',
      'PATCH /v1/connections/{id}',
      'POST /v1/connections/{id}/sync',
      'POST /v1/connections/{id}/reconnect',
      'DELETE /v1/connections/{id}',
      'GET /v1/connections/{id}/events',
      'GET /openapi.json',
    ]) {
      expect(documented).toContain(route);
    }
    const createUser = doc.paths['/v1/users'].post;
    expect(createUser.requestBody.content['application/json'].schema.required.sort()).toEqual([
      'email',
      'name',
      'timeZone',
    ]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('documents exactly the routes Express has registered', async () => {
    const { createApp } = await import('../../api/app.ts');
    const { routes, openApi } = createApp({
      config: platform.config,
      orm: platform.orm,
      temporal: platform.temporal,
      logger: createLogger('silent', 't'),
    });
    const registered = routes.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`).sort();
    const documented = Object.entries(openApi.paths)
      .flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`))
      .sort();
    expect(documented).toEqual(registered);
  });
});
