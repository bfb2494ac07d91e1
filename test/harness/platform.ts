/**
 * A suite's own Calbridge: a worker on its own task queue and the API on a free port, both over the
 * run's shared PostgreSQL and Temporal (test/harness/global-setup.ts). Talk to it over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { startApi } from '../../api/server.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import { type Config, loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { freePort } from '../../worker/local/ports.ts';
import { createWorker } from '../../worker/worker.ts';

export interface Platform {
  config: Config;
  env: Record<string, string>;
  orm: Orm;
  apiUrl: string;
  adminToken: string;
  temporal: Awaited<ReturnType<typeof startApi>>['temporal'];
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{
    status: number; // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies loosely
    body: any;
    headers: Headers;
  }>;
  /** Creates a user through the API; returns the user's id and token. */
  createUser(overrides?: {
    email?: string;
    name?: string;
    timeZone?: string;
  }): Promise<{ id: string; token: string }>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** Extra environment (configuration) for this suite. */
  env?: Record<string, string>;
  /** Start an in-process worker (default true). Crash tests run their own worker processes instead. */
  worker?: boolean;
  /** Collect every log line of the API and worker here, at debug level. */
  logLines?: string[];
  /**
   * Listen on this port (default: any free one). With `PUBLIC_URL` set to the same origin, links in
   * e-mails and OAuth redirects lead a real browser back to this server (see `publicOrigin`).
   */
  port?: number;
}

/** A free port and the PUBLIC_URL on it, for suites where a browser follows our own links. */
export async function publicOrigin(): Promise<{ port: number; env: { PUBLIC_URL: string } }> {
  const port = await freePort();
  return { port, env: { PUBLIC_URL: `http://127.0.0.1:${port}` } };
}

export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const suite = randomBytes(4).toString('hex');
  const dataDir = path.join(inject('runDir'), `suite-${suite}`);
  mkdirSync(dataDir, { recursive: true });
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${suite}`,
    ADMIN_TOKEN: `test-admin-${suite}-${randomBytes(12).toString('hex')}`,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'http://calbridge.test',
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    ...extra,
  };
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const env = testEnv(options.env);
  const config = loadConfig(env, { generateSecrets: false });
  const logLines = options.logLines;
  const logger = logLines
    ? createLogger('debug', 'test', { write: (line: string) => void logLines.push(line) })
    : createLogger(config.LOG_LEVEL, 'test');
  const orm = await createOrm({ databaseUrl: config.DATABASE_URL!, poolMax: 5 });
  let worker: Worker | null = null;
  let workerDone: Promise<void> | null = null;
  let mailer: Mailer | null = null;
  let closeWorkerConnection: (() => Promise<void>) | null = null;
  if (options.worker !== false) {
    mailer = createMailer({
      ...(config.SMTP_URL ? { smtpUrl: config.SMTP_URL } : {}),
      mailDir: path.join(config.dataDir, 'mail'),
    });
    const created = await createWorker({
      deps: { orm, config, mailer, logger },
      address: config.TEMPORAL_ADDRESS!,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      bundle: { codePath: inject('workflowBundlePath') },
    });
    worker = created.worker;
    closeWorkerConnection = () => created.connection.close();
    workerDone = created.run();
  }
  const api = await startApi({
    config,
    orm,
    logger,
    port: options.port ?? 0,
    temporalAddress: config.TEMPORAL_ADDRESS!,
  });

  const request: Platform['request'] = async (method, urlPath, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${api.url}${urlPath}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers };
  };

  return {
    config,
    env,
    orm,
    apiUrl: api.url,
    adminToken: config.ADMIN_TOKEN,
    temporal: api.temporal,
    request,
    async createUser(overrides = {}) {
      const email = overrides.email ?? `user-${randomBytes(5).toString('hex')}@example.com`;
      const res = await request('POST', '/v1/users', {
        token: config.ADMIN_TOKEN,
        body: { email, name: overrides.name ?? 'Test User', timeZone: overrides.timeZone ?? 'Europe/Berlin' },
      });
      if (res.status !== 201) throw new Error(`createUser: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id, token: res.body.apiToken };
    },
    async stop() {
      await api.close();
      if (worker) {
        worker.shutdown();
        await workerDone;
        await closeWorkerConnection?.();
      }
      mailer?.close();
      await orm.close();
    },
  };
}

/** Polls `check` until it returns a truthy value, or fails with the last value seen. */
export async function eventually<T>(
  check: () => Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out waiting for ${options.what ?? 'a condition'}; last value: ${JSON.stringify(last)}`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
