import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startApi } from '../api/server.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { createMailer } from '../platform/mailer.ts';
import { type StandinDriver, startStandinDriver } from '../test/standins/drivers.ts';
import { trustStandinCaInProcess } from '../test/standins/tls.ts';
import { freePort } from '../worker/local/ports.ts';
import { startTemporalDevServer } from '../worker/local/temporal-dev-server.ts';
import { resolveTemporalCli } from '../worker/local/tools.ts';
import { createWorker } from '../worker/worker.ts';
import { statusQuery } from '../workflows/connection.ts';
import { benchDatabase, benchEnv, round } from './support.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GOAL_P50_MS = 1000;
/** How often the database is asked whether the change has landed. */
const POLL_MS = 10;
const LAND_TIMEOUT_MS = 30_000;

export interface PushLatencyOptions {
  /** Sequential changes per provider (default 40). */
  changes?: number;
  providers?: ('google' | 'microsoft')[];
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(check: () => Promise<T>, what: string, timeoutMs = 60_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last value: ${String(value)}`);
    await sleep(intervalMs);
  }
}

export async function benchPushLatency(options: PushLatencyOptions = {}) {
  const changes = options.changes ?? 40;
  const providers = options.providers ?? ['google', 'microsoft'];
  // The Graph stand-in (and its authority, which MSAL insists be https) serves with the local test
  // CA; the worker runs in this process, so trusting it here covers MSAL, Graph calls and fetch.
  trustStandinCaInProcess();

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  try {
    const drivers = new Map<'google' | 'microsoft', StandinDriver>();
    for (const provider of providers) {
      const driver = await startStandinDriver(provider);
      cleanups.push(() => driver.close());
      drivers.set(provider, driver);
    }
    const db = await benchDatabase();
    cleanups.push(() => db.drop());
    const temporal = await startTemporalDevServer({
      cliPath: await resolveTemporalCli(),
      port: await freePort(),
      uiPort: null,
      dbFile: null,
      namespace: 'default',
    });
    cleanups.push(() => temporal.stop());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'calbridge-bench-push-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    const config = loadConfig(
      {
        ...benchEnv({
          dataDir,
          databaseUrl: db.config.DATABASE_URL as string,
          temporalAddress: temporal.address,
          taskQueue: 'bench-push-latency',
        }),
        ...Object.assign({}, ...[...drivers.values()].map((d) => d.env)),
        // https, as providers require for push (PUSH_NOTIFICATIONS=auto turns it on); the stand-ins
        // deliver to the API's own origin instead (deliverTo).
        PUBLIC_URL: 'https://calbridge.test',
        // Polls far apart: a change seen within seconds came by push.
        CALDAV_POLL_SECONDS: '3600',
      },
      { generateSecrets: false },
    );
    const logger = createLogger('silent', 'bench');
    const { worker, connection } = await createWorker({
      deps: { orm: db.orm, config, logger, mailer: createMailer({ mailDir: path.join(dataDir, 'mail') }) },
      address: temporal.address,
      namespace: 'default',
      taskQueue: config.TEMPORAL_TASK_QUEUE,
    });
    const running = worker.run();
    cleanups.push(async () => {
      worker.shutdown();
      await running.catch(() => {});
      await connection.close();
    });
    const api = await startApi({ config, orm: db.orm, logger, port: 0, temporalAddress: temporal.address });
    cleanups.push(() => api.close());
    for (const driver of drivers.values()) driver.deliverTo(api.url);

    const call = async (method: string, url: string, body?: unknown, token?: string) => {
      const res = await fetch(`${api.url}${url}`, {
        method,
        redirect: 'manual',
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      // biome-ignore lint/suspicious/noExplicitAny: the bench reads JSON answers loosely
      let parsed: Record<string, any> | null = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed };
    };

    // A dedicated connection for the visibility polls, apart from the worker's and the API's pool.
    const probe = new pg.Client({ connectionString: config.DATABASE_URL! });
    await probe.connect();
    cleanups.push(() => probe.end());

    const results: Record<string, object> = {};
    for (const driver of drivers.values()) {
      results[driver.provider] = await measure(driver);
    }
    return { ...results, goalP50Ms: GOAL_P50_MS, pollIntervalMs: POLL_MS };

    async function measure(driver: StandinDriver) {
      const email = `bench-${driver.provider}-${Date.now().toString(36)}@example.com`;
      const calendarId = driver.addAccount(email);
      const base = Math.ceil(Date.now() / DAY) * DAY + 10 * DAY;
      for (let i = 0; i < 3; i++) driver.putEvent(email, calendarId, `Seed ${i}`, new Date(base + i * DAY));

      const user = await call(
        'POST',
        '/v1/users',
        { email: `owner-${email}`, name: 'Bench Owner', timeZone: 'UTC' },
        config.ADMIN_TOKEN,
      );
      if (user.status !== 201) throw new Error(`user: ${user.status} ${JSON.stringify(user.body)}`);
      const token = user.body!.apiToken as string;

      // Link through the consent redirect, as a browser would.
      const created = await call('POST', '/v1/connections', { provider: driver.provider }, token);
      if (created.status !== 201) throw new Error(`link: ${created.status} ${JSON.stringify(created.body)}`);
      const id = created.body!.id as string;
      driver.consentAs(email);
      const atProvider = await fetch(created.body!.authorizationUrl, { redirect: 'manual' });
      if (atProvider.status !== 302) throw new Error(`consent page answered ${atProvider.status}`);
      const callback = new URL(atProvider.headers.get('location')!);
      const answered = await call('GET', `${callback.pathname}${callback.search}`);
      if (answered.status >= 400)
        throw new Error(`callback: ${answered.status} ${JSON.stringify(answered.body)}`);

      const linked = await until(async () => {
        const c = await call('GET', `/v1/connections/${id}`, undefined, token);
        return c.body?.status === 'awaiting_selection' ? c.body : null;
      }, 'the calendars');
      const calendar = linked.calendars[0];
      const saved = await call(
        'PUT',
        `/v1/connections/${id}/calendars`,
        { calendars: [{ id: calendar.id, importForAvailability: true }], primaryCalendarId: calendar.id },
        token,
      );
      if (saved.status !== 200) throw new Error(`save: ${saved.status} ${JSON.stringify(saved.body)}`);
      await until(
        async () => (await call('GET', `/v1/connections/${id}`, undefined, token)).body?.status === 'active',
        'the first import',
      );
      await until(async () => driver.channels() === 1, 'a push channel');

      const visible = async (start: Date) =>
        (
          await probe.query(
            `select 1 from imported_events e join provider_calendars pc on pc.id = e.calendar_id
              where pc.connection_id = $1 and e.start_at = $2 limit 1`,
            [id, start],
          )
        ).rowCount === 1;
      const imported = async () =>
        Number(
          (
            await probe.query(
              `select count(*) as n from imported_events e join provider_calendars pc on pc.id = e.calendar_id
                where pc.connection_id = $1`,
              [id],
            )
          ).rows[0].n,
        );
      if ((await imported()) !== 3)
        throw new Error(`the first import stored ${await imported()} of 3 events`);

      const handle = api.temporal.workflow.getHandle(created.body!.workflowId);
      // Let the pass after Save settle (channel maintenance) so the first change starts from idle.
      await until(async () => (await handle.query(statusQuery)).phase === 'idle', 'an idle run');
      const passesBefore = (await handle.query(statusQuery)).passes;
      const notificationsBefore = driver.notifications();

      const latencies: number[] = [];
      const kinds = { created: 0, moved: 0 };
      let lastId: string | null = null;
      for (let i = 0; i < changes; i++) {
        // Distinct start times, an hour apart, well inside the import window.
        const start = new Date(base + 20 * DAY + i * HOUR);
        const move = lastId !== null && i % 2 === 1;
        const started = performance.now();
        const eventId = driver.putEvent(email, calendarId, `Change ${i}`, start, move ? lastId! : undefined);
        for (;;) {
          if (await visible(start)) break;
          if (performance.now() - started > LAND_TIMEOUT_MS) {
            throw new Error(`${driver.provider}: change ${i} not visible after ${LAND_TIMEOUT_MS} ms`);
          }
          await sleep(POLL_MS);
        }
        latencies.push(performance.now() - started);
        kinds[move ? 'moved' : 'created'] += 1;
        lastId = eventId;
      }

      const expected = 3 + kinds.created;
      const count = await imported();
      if (count !== expected)
        throw new Error(`${driver.provider}: ${count} events imported, ${expected} expected`);
      // The pass that wrote the last change counts itself once it has finished.
      await until(async () => (await handle.query(statusQuery)).phase === 'idle', 'the last pass to finish');
      const status = await handle.query(statusQuery);
      const notificationsAfter = driver.notifications();
      return {
        changes,
        created: kinds.created,
        moved: kinds.moved,
        p50Ms: round(percentile(latencies, 50)),
        p95Ms: round(percentile(latencies, 95)),
        maxMs: round(Math.max(...latencies)),
        minMs: round(Math.min(...latencies)),
        meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
        syncPasses: status.passes - passesBefore,
        notificationsDelivered: notificationsAfter.delivered - notificationsBefore.delivered,
        notificationsFailed: notificationsAfter.failed - notificationsBefore.failed,
        meetsGoal: percentile(latencies, 50) <= GOAL_P50_MS,
      };
    }
  } finally {
    await cleanUp();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchPushLatency({ changes: Number(process.argv[2] ?? 40) })));
}
