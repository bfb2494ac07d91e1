/** Shared set-up for benchmarks: a fresh, migrated database and a user with one connection. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, loadConfig } from '../platform/config.ts';
import { type ScratchDatabase, scratchDatabase } from '../test/support/scratch-database.ts';
import { checkDatabase } from '../worker/local/postgres.ts';

export async function benchDatabase(): Promise<ScratchDatabase & { config: Config }> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const problem = await checkDatabase(server);
  if (problem) throw new Error(`${problem} (set DATABASE_URL to a PostgreSQL server for benchmarks)`);
  const db = await scratchDatabase(server, 'calbridge_bench');
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      ADMIN_TOKEN: randomBytes(24).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    },
    { generateSecrets: false },
  );
  return { ...db, config };
}

/**
 * The configuration every whole-stack benchmark starts from (a test config with fresh secrets):
 * spread it into loadConfig's environment and add what the benchmark needs.
 */
export function benchEnv(options: {
  dataDir: string;
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, threads included) so far of every process a benchmark drives: its own
 * descendants (Temporal dev server, Radicale, …), named by their command, and the PostgreSQL
 * backends serving `database`. Subtract two readings to see where a span's CPU went.
 */
export function cpuByProcess(database: string): Record<string, number> {
  const stats = new Map<number, { ppid: number; seconds: number; command: string }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      stats.set(pid, { ...stat, command });
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const totals: Record<string, number> = {};
  const add = (name: string, seconds: number) => {
    totals[name] = (totals[name] ?? 0) + seconds;
  };
  for (const [pid, { seconds, command }] of stats) {
    if (pid === process.pid) add('benchmark process', seconds);
    else if (command.startsWith('postgres:') && command.includes(` ${database} `)) add('postgresql', seconds);
    else if (descends(pid)) {
      const name = processName(command);
      add(name, seconds);
      if (name === 'worker')
        for (const [thread, threadSeconds] of threadCpuSeconds(pid)) add(`worker: ${thread}`, threadSeconds);
    }
  }
  return totals;
}

function processName(command: string): string {
  if (command.includes('worker/main.ts')) return 'worker';
  if (command.includes('api/main.ts')) return 'api';
  if (/radicale/i.test(command)) return 'radicale';
  if (/xandikos/i.test(command)) return 'xandikos';
  if (/temporal/.test(command)) return 'temporal';
  return path.basename(command.split(' ')[0] ?? 'other');
}

/** CPU milliseconds per unit of work between two `cpuByProcess` readings. */
export function cpuMsPer(before: Record<string, number>, after: Record<string, number>, units: number) {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [
      name,
      round(((seconds - (before[name] ?? 0)) * 1000) / units),
    ]),
  );
}

/** CPU seconds so far per thread name (threads of one name summed), from /proc/PID/task. */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[-_]?\d+$/, '');
      byName.set(name, (byName.get(name) ?? 0) + statCpuSeconds(stat).seconds);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

/**
 * Starts one of the project's process entry points (`worker/main.ts`, `api/main.ts`) with `env`,
 * as the launcher does, and waits for its "ready" message; `stop` ends it with SIGTERM.
 */
export async function startNodeProcess(
  script: string,
  env: Record<string, string>,
): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '..', script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr])
    stream?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}):\n${output}`)));
  });
  return {
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** User + system CPU of a process so far (its threads included), from /proc. */
export const processCpuSeconds = (pid: number): number =>
  statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8')).seconds;

/** A /proc stat line's parent pid and user + system CPU seconds. */
function statCpuSeconds(stat: string): { ppid: number; seconds: number } {
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
  };
}
