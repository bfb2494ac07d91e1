/**
 * Grants on the stand-in for tests: a real consent through providers/microsoft/oauth.ts (MSAL), and
 * an in-memory GrantAccess that refreshes as connections/grants.ts does, without the database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { microsoftOAuth } from '../../../providers/microsoft/oauth.ts';
import type {
  GrantAccess,
  OAuthClientSettings,
  OAuthCredentials,
  OAuthLink,
  OAuthModule,
} from '../../../providers/oauth.ts';
import type { MicrosoftStandin } from './standin.ts';

/** A token closer than this to its expiry is refreshed first (as connections/grants.ts does). */
const FRESHNESS_MARGIN_MS = 5 * 60_000;

export function standinSettings(
  standin: MicrosoftStandin,
  overrides: Partial<OAuthClientSettings> = {},
): OAuthClientSettings {
  return {
    clientId: standin.clientId,
    clientSecret: standin.clientSecret,
    redirectUri: 'https://calbridge.test/v1/oauth/microsoft/callback',
    authorityUrl: standin.authority,
    apiUrl: standin.graphUrl,
    requestTimeoutMs: 5000,
    ...overrides,
  };
}

export function pkcePair(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
}

/** The authorization code the consent page hands back for `email` (who approves at once). */
export async function authorizationCode(
  standin: MicrosoftStandin,
  settings: OAuthClientSettings,
  email: string,
  codeChallenge: string,
): Promise<string> {
  standin.consentAs(email);
  const url = await microsoftOAuth.authorizationUrl(settings, {
    state: 'test-state',
    codeChallenge,
    loginHint: email,
  });
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (response.status !== 302 || !code) throw new Error(`The stand-in's consent answered ${response.status}`);
  return code;
}

/** A complete consent: the link Calbridge would store for `email`. */
export async function linkAccount(
  standin: MicrosoftStandin,
  email: string,
  settings = standinSettings(standin),
): Promise<OAuthLink> {
  const { codeVerifier, codeChallenge } = pkcePair();
  const code = await authorizationCode(standin, settings, email, codeChallenge);
  return microsoftOAuth.exchangeCode(settings, { code, codeVerifier });
}

export interface MemoryGrant extends GrantAccess {
  /** The credentials as last refreshed (what would be sealed into the row). */
  readonly credentials: OAuthCredentials;
  readonly refreshes: number;
}

export function memoryGrant(
  settings: OAuthClientSettings,
  initial: OAuthCredentials,
  oauth: OAuthModule = microsoftOAuth,
): MemoryGrant {
  let current = initial;
  let refreshes = 0;
  let refreshing: Promise<OAuthCredentials> | null = null;
  const fresh = () => Date.parse(current.expiresAt) - Date.now() > FRESHNESS_MARGIN_MS;
  return {
    get credentials() {
      return current;
    },
    get refreshes() {
      return refreshes;
    },
    async accessToken(options = {}) {
      const stale = options.rejected ? options.rejected === current.accessToken : !fresh();
      if (!stale) return current.accessToken;
      refreshing ??= oauth
        .refresh(settings, current)
        .then((next) => {
          refreshes += 1;
          current = next;
          return next;
        })
        .finally(() => {
          refreshing = null;
        });
      return (await refreshing).accessToken;
    },
  };
}
