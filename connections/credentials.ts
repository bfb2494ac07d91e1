/**
 * Credentials at rest and the adapter they open: sealed with AES-256-GCM bound to their row, opened
 * only inside an activity or a verifying command, never handed to Temporal (invariant 5).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { CalendarConnection } from '../db/entities/index.ts';
import type { Config } from '../platform/config.ts';
import { decryptJson, encryptJson } from '../platform/crypto.ts';
import type { CalendarProvider, ProviderConnection } from '../providers/contract.ts';
import { providerContext } from '../providers/module.ts';
import type { OAuthCredentials } from '../providers/oauth.ts';
import { providerModule } from '../providers/registry.ts';
import { storedGrant } from './grants.ts';

/** Credentials are bound to their connection id (AES-GCM associated data). */
export const credentialsAad = (connectionId: string) => `calendar_connections:${connectionId}`;

export function sealCredentials(
  config: Config,
  connectionId: string,
  credentials: Record<string, unknown>,
): Buffer {
  return encryptJson(config.encryptionKey, credentials, credentialsAad(connectionId));
}

/** The stored credentials of a connection, decrypted (sealCredentials' inverse). */
export function unsealCredentials<T = Record<string, unknown>>(
  config: Config,
  connectionId: string,
  sealed: Uint8Array,
): T {
  return decryptJson<T>(config.encryptionKey, Buffer.from(sealed), credentialsAad(connectionId));
}

export function openProvider(config: Config, parts: ProviderConnection): CalendarProvider {
  return providerModule(parts.provider).create(parts, providerContext(config));
}

/** Opens the adapter for a stored connection, decrypting its credentials. */
export async function openStoredProvider(em: EntityManager, config: Config, connectionId: string) {
  const connection = await em.findOneOrFail(
    CalendarConnection,
    { id: connectionId },
    { populate: ['credentials'] },
  );
  if (!connection.credentials) throw new Error(`Connection ${connectionId} has no credentials`);
  const credentials = unsealCredentials(config, connectionId, connection.credentials);
  const oauth = providerModule(connection.provider).oauth;
  return {
    connection,
    credentials,
    provider: openProvider(config, {
      provider: connection.provider,
      serverUrl: connection.serverUrl ?? null,
      credentials,
      ...(oauth
        ? { grant: storedGrant(em, config, connection, oauth, credentials as OAuthCredentials) }
        : {}),
    }),
  };
}
