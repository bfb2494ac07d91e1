/**
 * Fleet scale: 1,000 ICS connections polling a local feed server through real connection workflows
 * on ONE worker process (worker/main.ts, as deployed, with a prebuilt workflow bundle), against a
 * Temporal dev server and PostgreSQL. Goals: worker RSS ≤ 300 MB; a poll cycle of 1,000 unchanged
 * feeds ≤ 10 s of worker CPU.
 *
 * Method: every connection first imports its feed (20 events); then, with every feed unchanged (the
 * feed server answers 304 to the stored ETag), the worker's CPU time (/proc utime + stime) and the
 * Temporal server's are read across a measuring span of at least one poll interval
 * (ICS_POLL_SECONDS shortened to `pollSeconds`), and scaled to one poll per connection by the feed
 * requests counted in that span. A run's history after a week is computed, not waited for: history
 * events per poll (measured on sampled runs across the span) × polls per week at the default
 * ICS_POLL_SECONDS (900 s), on top of the history the run had after its first import; a run
 * continues as new at WORKFLOW_HISTORY_LIMIT, so that is what one run ever reaches. Prints one JSON
 * object (one line).
 *
 * The default measurement runs the worker with the configuration defaults (WORKER_MAX_CACHED_WORKFLOWS
 * among them) and no NODE_OPTIONS. Diagnostics, off by default: the CPU per worker thread (always
 * printed), which events a poll adds, `--cpu-prof DIR` (profiles the worker; the profiler's own thread
 * then counts in its CPU) with the span for bench/cpuprofile-summary.ts, `--worker-log FILE`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startConnectionRun } from '../connections/runs.ts';
import { loadConfig } from '../platform/config.ts';
import { generateIcsFeed } from '../test/support/generate-ics.ts';
import { startIcsServer } from '../test/support/ics-server.ts';
import { seedConnection } from '../test/support/seed.ts';
import { freePort } from '../worker/local/ports.ts';
import { startTemporalDevServer } from '../worker/local/temporal-dev-server.ts';
import { repoRoot, resolveTemporalCli } from '../worker/local/tools.ts';
import { buildWorkflowBundle } from '../worker/worker.ts';
import { benchDatabase, benchEnv, processCpuSeconds, round, threadCpuSeconds } from './support.ts';

const EVENTS_PER_FEED = 20;
const DEFAULT_POLL_SECONDS = 900;
const WEEK_SECONDS = 7 * 86_400;
const HISTORY_SAMPLE = 20;

export interface FleetOptions {
  connections?: number;
  /** ICS_POLL_SECONDS while measuring (the week is still computed at the default interval). */
  pollSeconds?: number;
  /** NODE_OPTIONS for the worker, e.g. a smaller `--max-old-space-size` (which also shrinks the SDK's workflow cache). */
  workerNodeOptions?: string;
  /**
   * Profile the worker (`--cpu-prof` into this folder; written when it exits). The result then
   * carries the measuring span on the monotonic clock (`profileSpanMicros`) for
   * bench/cpuprofile-summary.ts. Profiling slows the worker: its CPU figures are not the measurement.
   */
  cpuProfileDir?: string;
  /** Keep the worker's whole stdout and stderr in this file (e.g. with `--trace-gc` in workerNodeOptions). */
  workerLogFile?: string;
}

export async function benchIcsFleet({
  connections = 1000,
  pollSeconds = 60,
  workerNodeOptions,
  cpuProfileDir,
  workerLogFile,
}: FleetOptions = {}) {
  const db = await benchDatabase();
  const feeds = await startIcsServer();
  const temporal = await startTemporalDevServer({
    cliPath: await resolveTemporalCli(),
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    namespace: 'default',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'calbridge-fleet-'));
  let worker: ChildProcess | null = null;
  const temporalConnection = await Connection.connect({ address: temporal.address });
  try {
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
    const env = {
      ...benchEnv({
        dataDir: dir,
        databaseUrl: db.config.DATABASE_URL as string,
        temporalAddress: temporal.address,
        taskQueue: 'fleet',
      }),
      LOG_LEVEL: 'warn',
      ICS_POLL_SECONDS: String(pollSeconds),
      WORKFLOW_BUNDLE_PATH: bundlePath,
    };
    const config = loadConfig(env, { generateSecrets: false });

    const seeded: { connectionId: string; workflowId: string }[] = [];
    for (let i = 0; i < connections; i++) {
      feeds.setFeed(`/feed-${i}.ics`, generateIcsFeed(EVENTS_PER_FEED, { start: new Date(), seed: i + 1 }));
      const { connectionId } = await seedConnection(db.orm, config, {
        provider: 'ics',
        serverUrl: null,
        credentials: { url: feeds.url(`/feed-${i}.ics`) },
        externalId: 'ics:feed',
      });
      seeded.push({ connectionId, workflowId: `connection/${connectionId}` });
    }

    const nodeOptions = [
      workerNodeOptions,
      cpuProfileDir ? `--cpu-prof --cpu-prof-dir=${path.resolve(cpuProfileDir)}` : undefined,
    ]
      .filter(Boolean)
      .join(' ');
    worker = spawn(process.execPath, [path.join(repoRoot, 'worker', 'main.ts')], {
      env: { ...process.env, ...env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let workerLog = '';
    const logFile = workerLogFile ? createWriteStream(workerLogFile) : null;
    for (const stream of [worker.stdout, worker.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        workerLog = (workerLog + chunk.toString()).slice(-4000);
        logFile?.write(chunk);
      });
    }
    await new Promise<void>((resolve, reject) => {
      worker?.once('message', () => resolve());
      worker?.once('exit', (code) => reject(new Error(`The worker exited (${code}):\n${workerLog}`)));
    });
    const workerPid = worker.pid as number;
    const temporalPid = temporal.process.pid as number;

    const client = new Client({ connection: temporalConnection, namespace: 'default' });
    const importStarted = performance.now();
    for (let i = 0; i < seeded.length; i += 50) {
      await Promise.all(
        seeded.slice(i, i + 50).map(async ({ connectionId, workflowId }) => {
          const [row] = await db.orm.em
            .fork()
            .execute<{ user_id: string }[]>('select user_id from calendar_connections where id = ?', [
              connectionId,
            ]);
          await startConnectionRun(client, config, {
            id: connectionId,
            userId: row?.user_id ?? randomUUID(),
            provider: 'ics',
            status: 'importing',
            workflowId,
          });
        }),
      );
    }
    await until(
      async () =>
        (await count(db, "select count(*)::int as n from calendar_connections where status = 'active'")) ===
        connections,
      240_000,
      () => `initial imports did not finish; worker said:\n${workerLog}`,
    );
    const initialImportMs = performance.now() - importStarted;
    const importedEvents = await count(db, 'select count(*)::int as n from imported_events');

    // Steady state: every feed unchanged. Measure across at least one poll interval.
    const sample = seeded.slice(0, HISTORY_SAMPLE).map((s) => client.workflow.getHandle(s.workflowId));
    const before = await Promise.all(sample.map(historyOf));
    const feedRequestsBefore = feeds.requests.length;
    const cpuBefore = { worker: processCpuSeconds(workerPid), temporal: processCpuSeconds(temporalPid) };
    const threadsBefore = threadCpuSeconds(workerPid);
    const spanStartMicros = Number(process.hrtime.bigint() / 1000n);
    const spanStarted = performance.now();
    await new Promise((r) => setTimeout(r, Math.max(pollSeconds * 1000 * 1.25, 30_000)));
    const polls = feeds.requests.length - feedRequestsBefore;
    const cpu = {
      worker: processCpuSeconds(workerPid) - cpuBefore.worker,
      temporal: processCpuSeconds(temporalPid) - cpuBefore.temporal,
    };
    const threadsAfter = threadCpuSeconds(workerPid);
    const spanEndMicros = Number(process.hrtime.bigint() / 1000n);
    const spanMs = performance.now() - spanStarted;
    const perCycle = (seconds: number) => round((seconds * connections) / Math.max(polls, 1), 2);
    const workerThreads = Object.fromEntries(
      [...threadsAfter]
        .map(([name, after]) => [name, perCycle(after - (threadsBefore.get(name) ?? 0))] as const)
        .filter(([, seconds]) => seconds >= 0.05)
        .sort((a, b) => b[1] - a[1]),
    );
    const after = await Promise.all(sample.map(historyOf));
    const notModified = feeds.requests
      .slice(feedRequestsBefore)
      .filter((r) => r.headers['if-none-match'] !== undefined).length;

    // Polls per connection in the span, counted at the feed server (a watched poll fires no timer).
    const pollsPerConnection = polls / connections;
    const eventsPerPoll = round(
      median(after.map((a, i) => (a.history - (before[i]?.history ?? 0)) / pollsPerConnection)),
      2,
    );
    const historyAfterImport = median(before.map((b) => b.history));
    const pollsPerWeek = WEEK_SECONDS / DEFAULT_POLL_SECONDS;
    const historyAfterWeek = Math.round(historyAfterImport + eventsPerPoll * pollsPerWeek);
    const memory = memoryOf(workerPid);
    const [size] = await db.orm.em
      .fork()
      .execute<{ bytes: string }[]>('select pg_database_size(current_database())::text as bytes');

    return {
      benchmark: 'ics_fleet',
      connections,
      workerNodeOptions: workerNodeOptions ?? null,
      eventsPerFeed: EVENTS_PER_FEED,
      importedEvents,
      initialImportMs: round(initialImportMs),
      pollSeconds,
      measuredSpanMs: round(spanMs),
      pollsInSpan: polls,
      conditionalPollsInSpan: notModified,
      workerCpuSecondsPerPollCycle: perCycle(cpu.worker),
      goalWorkerCpuSecondsPerPollCycle: 10,
      /** The same CPU by worker thread name (the JS main thread is `node`; Temporal core's are tokio-*). */
      workerCpuSecondsPerPollCycleByThread: workerThreads,
      temporalServerCpuSecondsPerPollCycle: perCycle(cpu.temporal),
      workerRssMb: round(memory.rssKb / 1024),
      workerPeakRssMb: round(memory.peakKb / 1024),
      /** Of the RSS: the process's own memory (heaps, caches), and mapped files (node, native modules). */
      workerRssAnonMb: round(memory.anonKb / 1024),
      workerRssFileMb: round(memory.fileKb / 1024),
      goalWorkerRssMb: 300,
      postgresDatabaseMb: round(Number(size?.bytes ?? 0) / 1024 / 1024),
      historyEventsPerPoll: eventsPerPoll,
      historyEventTypesPerPoll: eventTypesPerPoll(before, after, pollsPerConnection),
      historyAfterFirstImport: historyAfterImport,
      pollsPerWeekAtDefaultInterval: pollsPerWeek,
      historyAfterWeekUncapped: historyAfterWeek,
      workflowHistoryLimit: config.WORKFLOW_HISTORY_LIMIT,
      runHistoryAfterWeek: Math.min(historyAfterWeek, config.WORKFLOW_HISTORY_LIMIT),
      runsPerWeek: Math.ceil(historyAfterWeek / config.WORKFLOW_HISTORY_LIMIT),
      ...(cpuProfileDir
        ? { cpuProfileDir: path.resolve(cpuProfileDir), profileSpanMicros: [spanStartMicros, spanEndMicros] }
        : {}),
    };
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker?.once('exit', r));
      worker.kill('SIGTERM');
      const force = setTimeout(() => worker?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    await temporalConnection.close();
    await temporal.stop();
    await feeds.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** History length and its events by type, read from the server, not the busy worker. */
async function historyOf(handle: ReturnType<Client['workflow']['getHandle']>) {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const types = new Map<string, number>();
  for (const e of events) {
    // Each event carries exactly one `…EventAttributes`: its type.
    const type =
      Object.entries(e)
        .find(([key, value]) => key.endsWith('EventAttributes') && value)?.[0]
        .replace(/EventAttributes$/, '') ?? String(e.eventType);
    types.set(type, (types.get(type) ?? 0) + 1);
  }
  return { history: events.length, types };
}

/** Which events a poll adds, on average over the sampled runs (e.g. timeouts show up here). */
function eventTypesPerPoll(
  before: Awaited<ReturnType<typeof historyOf>>[],
  after: Awaited<ReturnType<typeof historyOf>>[],
  pollsPerConnection: number,
): Record<string, number> {
  const polls = after.length * pollsPerConnection;
  const added = new Map<string, number>();
  after.forEach((a, i) => {
    for (const [type, n] of a.types) {
      added.set(type, (added.get(type) ?? 0) + n - (before[i]?.types.get(type) ?? 0));
    }
  });
  return Object.fromEntries(
    [...added].filter(([, n]) => n > 0).map(([type, n]) => [type, round(n / Math.max(polls, 1), 2)]),
  );
}

async function count(db: Awaited<ReturnType<typeof benchDatabase>>, sql: string): Promise<number> {
  const [row] = await db.orm.em.fork().execute<{ n: number }[]>(sql);
  return row?.n ?? 0;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function memoryOf(pid: number): { rssKb: number; peakKb: number; anonKb: number; fileKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM'), anonKb: kb('RssAnon'), fileKb: kb('RssFile') };
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

if (import.meta.main) {
  // node bench/ics-fleet.ts [CONNECTIONS [POLL_SECONDS [WORKER_NODE_OPTIONS]]] [--cpu-prof DIR] [--worker-log FILE]
  const args = process.argv.slice(2);
  const profAt = args.indexOf('--cpu-prof');
  const cpuProfileDir = profAt >= 0 ? args.splice(profAt, 2)[1] : undefined;
  const logAt = args.indexOf('--worker-log');
  const workerLogFile = logAt >= 0 ? args.splice(logAt, 2)[1] : undefined;
  const [connections, pollSeconds, workerNodeOptions] = args;
  const options: FleetOptions = {
    connections: Number(connections ?? 1000),
    pollSeconds: Number(pollSeconds ?? 60),
    ...(workerNodeOptions ? { workerNodeOptions } : {}),
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    ...(workerLogFile ? { workerLogFile } : {}),
  };
  console.log(JSON.stringify(await benchIcsFleet(options)));
}
