/**
 * The OAuth grant of a stored connection, as its adapter sees it (GrantAccess): a current access
 * token, refreshed when it is about to expire or the provider refused it. A grant is refreshed
 * once at a time across every process (a PostgreSQL advisory lock per connection): Entra rotates
 * refresh tokens, so two refreshes racing with the same one would leave one of them holding a
 * token the other just spent. The refreshed grant is sealed back into the row before the lock goes.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray } from '../db/sql.ts';
import type { ProviderKind } from '../domain/connection.ts';
import { REMOVAL_STATUSES } from '../domain/connection-status.ts';
import type { Config } from '../platform/config.ts';
import { CredentialsRejectedError } from '../providers/errors.ts';
import type { GrantAccess, OAuthClientSettings, OAuthCredentials, OAuthModule } from '../providers/oauth.ts';
import { providerModule } from '../providers/registry.ts';
import { sealCredentials, unsealCredentials } from './credentials.ts';

/** A token closer than this to its expiry is refreshed before use (a long page fetch must not outlive it). */
const FRESHNESS_MARGIN_MS = 5 * 60_000;

export const isFresh = (credentials: OAuthCredentials, now = Date.now()) =>
  Date.parse(credentials.expiresAt) - now > FRESHNESS_MARGIN_MS;

/** The module's client settings, or a rejection a person can act on when this server has none. */
export function oauthSettings(config: Config, module: OAuthModule, provider: string): OAuthClientSettings {
  const settings = module.settings(config);
  if (!settings) throw new CredentialsRejectedError(`${provider} sign-in is not configured on this server`);
  return settings;
}

/** Runs `work` holding the grant lock of one connection, inside a transaction. */
export async function withGrantLock<T>(
  em: EntityManager,
  connectionId: string,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return em.fork().transactional(async (tx) => {
    await tx.execute("select pg_advisory_xact_lock(hashtextextended('grant:' || ?, 0))", [connectionId]);
    return work(tx);
  });
}

export function storedGrant(
  em: EntityManager,
  config: Config,
  connection: { id: string; provider: string },
  module: OAuthModule,
  initial: OAuthCredentials,
): GrantAccess {
  let current = initial;
  let refreshing: Promise<OAuthCredentials> | null = null;

  const refresh = (rejected: string | undefined) =>
    withGrantLock(em, connection.id, async (tx) => {
      const [row] = await tx.execute<{ credentials: Buffer | null }[]>(
        'select credentials from calendar_connections where id = ? and status <> all(?::text[])',
        [connection.id, pgArray(REMOVAL_STATUSES)],
      );
      if (!row?.credentials) throw new CredentialsRejectedError('The connection no longer holds a grant');
      const stored = unsealCredentials<OAuthCredentials>(config, connection.id, row.credentials);
      // Another caller (here or in another process) refreshed while we waited for the lock.
      if (stored.accessToken !== rejected && isFresh(stored)) return stored;
      const next = await module.refresh(oauthSettings(config, module, connection.provider), stored);
      await tx.execute(
        'update calendar_connections set credentials = ?, credentials_version = credentials_version + 1, updated_at = now() where id = ?',
        [sealCredentials(config, connection.id, next), connection.id],
      );
      return next;
    });

  return {
    async accessToken(options = {}) {
      if (!options.rejected && isFresh(current)) return current.accessToken;
      if (options.rejected && options.rejected !== current.accessToken && isFresh(current))
        return current.accessToken;
      refreshing ??= refresh(options.rejected).finally(() => {
        refreshing = null;
      });
      current = await refreshing;
      return current.accessToken;
    },
  };
}

/** Revokes a grant where the provider allows it; best effort (the sealed grant is forgotten anyway). */
export async function revokeGrant(
  config: Config,
  provider: ProviderKind,
  credentials: Record<string, unknown>,
): Promise<void> {
  const oauth = providerModule(provider).oauth;
  const settings = oauth?.settings(config);
  if (!oauth || !settings) return;
  await oauth.revoke(settings, credentials as OAuthCredentials).catch(() => undefined);
}
