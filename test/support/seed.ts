/** Rows for tests and benchmarks that drive activities directly, without the API. */
import { randomUUID } from 'node:crypto';
import { sealCredentials } from '../../connections/credentials.ts';
import type { Orm } from '../../db/orm.ts';
import type { ProviderKind } from '../../domain/connection.ts';
import type { Config } from '../../platform/config.ts';

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
