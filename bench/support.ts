/** Shared set-up for benchmarks: a fresh, migrated database and a user with one connection. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createOrm, migrateUp, type Orm } from '../db/orm.ts';
import { type Config, loadConfig } from '../platform/config.ts';
import { checkDatabase } from '../worker/local/postgres.ts';

export async function benchDatabase(): Promise<{ orm: Orm; config: Config; drop(): Promise<void> }> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const problem = await checkDatabase(server);
  if (problem) throw new Error(`${problem} (set DATABASE_URL to a PostgreSQL server for benchmarks)`);
  const name = `calbridge_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      DATABASE_URL: url,
      ADMIN_TOKEN: randomBytes(24).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    },
    { generateSecrets: false },
  );
  const orm = await createOrm({ databaseUrl: url });
  await migrateUp(orm);
  return {
    orm,
    config,
    async drop() {
      await orm.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
