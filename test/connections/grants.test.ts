/**
 * A stored OAuth grant is refreshed once at a time, whoever asks: several activities (each its own
 * storedGrant, its own database connection) needing a token at the same moment cause one refresh
 * at Entra, which rotates refresh tokens, and all go on with the token it sealed into the row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsAad } from '../../connections/credentials.ts';
import { storedGrant } from '../../connections/grants.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import { loadConfig } from '../../platform/config.ts';
import { decryptJson } from '../../platform/crypto.ts';
import { CredentialsRejectedError } from '../../providers/errors.ts';
import { microsoftOAuth } from '../../providers/microsoft/oauth.ts';
import type { OAuthCredentials, OAuthModule } from '../../providers/oauth.ts';
import { testEnv } from '../harness/platform.ts';
import { linkAccount, standinSettings } from '../standins/microsoft/grant.ts';
import { type MicrosoftStandin, startMicrosoftStandin } from '../standins/microsoft/standin.ts';
import { seedConnection } from '../support/seed.ts';

const config = loadConfig(testEnv(), { generateSecrets: false });
let orm: Orm;
let standin: MicrosoftStandin;
let module: OAuthModule;
let accounts = 0;

beforeAll(async () => {
  orm = await createOrm({ databaseUrl: config.DATABASE_URL! });
  standin = await startMicrosoftStandin();
  // The client settings come from the stand-in rather than from this process's configuration.
  module = { ...microsoftOAuth, settings: () => standinSettings(standin) };
});
afterAll(async () => {
  await standin?.close();
  await orm?.close();
});

const tokenRequests = () =>
  standin.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/oauth2/v2.0/token')).length;

/** A connection row holding a real grant whose access token is already stale. */
async function staleConnection() {
  const email = `grant-${++accounts}@example.com`;
  const { calendarIds } = standin.addAccount({ email });
  const link = await linkAccount(standin, email, standinSettings(standin));
  const stale: OAuthCredentials = {
    ...link.credentials,
    expiresAt: new Date(Date.now() - 1000).toISOString(),
  };
  const { connectionId } = await seedConnection(orm, config, {
    provider: 'microsoft',
    serverUrl: null,
    credentials: stale as unknown as Record<string, unknown>,
    externalId: calendarIds[0]!,
  });
  const grant = () => storedGrant(orm.em, config, { id: connectionId, provider: 'microsoft' }, module, stale);
  return { email, connectionId, stale, grant };
}

async function sealed(connectionId: string) {
  const [row] = await orm.em
    .fork()
    .execute<{ credentials: Buffer; credentials_version: number }[]>(
      'select credentials, credentials_version from calendar_connections where id = ?',
      [connectionId],
    );
  const credentials = decryptJson<OAuthCredentials>(
    config.encryptionKey,
    Buffer.from(row!.credentials),
    credentialsAad(connectionId),
  );
  return { credentials, version: Number(row!.credentials_version) };
}

describe('stored grants', () => {
  it('refreshes a stale token once for six holders asking three times each at the same moment', async () => {
    const { connectionId, stale, grant } = await staleConnection();
    const before = await sealed(connectionId);
    const holders = Array.from({ length: 6 }, grant);
    const mark = tokenRequests();

    const tokens = await Promise.all(holders.flatMap((holder) => [1, 2, 3].map(() => holder.accessToken())));

    expect(tokenRequests() - mark).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(stale.accessToken);
    const after = await sealed(connectionId);
    expect(after.credentials.accessToken).toBe(tokens[0]);
    expect(after.version).toBe(before.version + 1);
    // The rotated refresh token was sealed: it refreshes again.
    expect(after.credentials.msalCache).not.toBe(stale.msalCache);
  });

  it('refreshes once when every holder reports the same token refused, and not for a token already replaced', async () => {
    const { grant } = await staleConnection();
    const holders = Array.from({ length: 4 }, grant);
    const first = await holders[0]!.accessToken();
    const mark = tokenRequests();

    const replaced = await Promise.all(holders.map((holder) => holder.accessToken({ rejected: first })));
    expect(tokenRequests() - mark).toBe(1);
    expect(new Set(replaced).size).toBe(1);
    expect(replaced[0]).not.toBe(first);

    // A late report about the token that was already replaced refreshes nothing.
    expect(await holders[2]!.accessToken({ rejected: first })).toBe(replaced[0]);
    expect(tokenRequests() - mark).toBe(1);
  });

  it('answers CredentialsRejectedError to every holder when the grant is dead, after one attempt', async () => {
    const { email, grant } = await staleConnection();
    standin.revokeGrant(email, 'revoked');
    const holders = Array.from({ length: 3 }, grant);
    const mark = tokenRequests();
    const outcomes = await Promise.allSettled(holders.map((holder) => holder.accessToken()));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CredentialsRejectedError);
    }
    // Each holder tries once in turn (the grant row still holds the dead grant); none loops.
    expect(tokenRequests() - mark).toBe(3);
  });
});
