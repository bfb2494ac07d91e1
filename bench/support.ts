/** Shared set-up for benchmarks: a fresh, migrated database and a user with one connection. */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sealCredentials } from '../activities/connection-store.ts';
import type { ProviderKind } from '../activities/providers/types.ts';
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

/** A user, a connection with sealed credentials, and one calendar selected for import. */
export async function seedConnection(
  orm: Orm,
  config: Config,
  parts: {
    provider: ProviderKind;
    serverUrl: string | null;
    credentials: Record<string, unknown>;
    externalId: string;
  },
): Promise<{ calendarId: string; connectionId: string }> {
  const em = orm.em.fork();
  const userId = `bench-${randomUUID()}@example.com`;
  const connectionId = randomUUID();
  const calendarId = randomUUID();
  await em.execute("insert into users (id, email, name, time_zone) values (?, ?, 'Bench', 'UTC')", [
    userId,
    userId,
  ]);
  await em.execute(
    `insert into calendar_connections (id, user_id, provider, account_identity, server_url, status, credentials, workflow_id)
     values (?, ?, ?, ?, ?, 'importing', ?, ?)`,
    [
      connectionId,
      userId,
      parts.provider,
      randomUUID(),
      parts.serverUrl,
      sealCredentials(config, connectionId, parts.credentials),
      `connection/${connectionId}`,
    ],
  );
  await em.execute(
    `insert into provider_calendars (id, connection_id, user_id, external_id, name, import_for_availability, import_status)
     values (?, ?, ?, ?, 'Bench', true, 'pending')`,
    [calendarId, connectionId, userId, parts.externalId],
  );
  return { calendarId, connectionId };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
