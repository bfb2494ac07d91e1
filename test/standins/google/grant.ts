/**
 * Test-side OAuth helpers over the stand-in: client settings pointing at it, a real consent
 * (authorization URL → consent page → code → googleOAuth.exchangeCode), and an in-memory
 * GrantAccess that refreshes through googleOAuth.refresh the way connections/grants.ts does,
 * without a database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { googleOAuth } from '../../../providers/google/oauth.ts';
import type {
  GrantAccess,
  OAuthClientSettings,
  OAuthCredentials,
  OAuthLink,
} from '../../../providers/oauth.ts';
import type { GoogleStandin } from './server.ts';

/** A token closer than this to its expiry is refreshed before use (as connections/grants.ts does). */
const FRESHNESS_MARGIN_MS = 5 * 60_000;

export const REDIRECT_URI = 'http://127.0.0.1:9/v1/oauth/google/callback';

export function standinSettings(standin: GoogleStandin): OAuthClientSettings {
  return {
    clientId: standin.clientId,
    clientSecret: standin.clientSecret,
    redirectUri: REDIRECT_URI,
    authorityUrl: standin.url,
    apiUrl: standin.url,
    requestTimeoutMs: 5000,
  };
}

export function pkcePair(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
}

/** Visits the consent page as `email` and returns the callback's code (not yet exchanged). */
export async function consentCode(
  standin: GoogleStandin,
  email: string,
  request: { state?: string; codeChallenge: string; forceConsent?: boolean },
): Promise<{ code: string; state: string | null }> {
  standin.consentAs(email);
  const url = await googleOAuth.authorizationUrl(standinSettings(standin), {
    state: request.state ?? randomBytes(8).toString('hex'),
    codeChallenge: request.codeChallenge,
    loginHint: email,
    ...(request.forceConsent ? { forceConsent: true } : {}),
  });
  const response = await fetch(url, { redirect: 'manual' });
  const location = new URL(response.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  if (response.status !== 302 || !code) throw new Error(`The consent page answered ${response.status}`);
  return { code, state: location.searchParams.get('state') };
}

/** A full consent for `email`: what the callback route stores. */
export async function linkAccount(
  standin: GoogleStandin,
  email: string,
  options: { forceConsent?: boolean } = {},
): Promise<OAuthLink> {
  const { codeVerifier, codeChallenge } = pkcePair();
  const { code } = await consentCode(standin, email, { codeChallenge, ...options });
  return googleOAuth.exchangeCode(standinSettings(standin), { code, codeVerifier });
}

/** GrantAccess held in memory: refreshes once at a time, and counts its refreshes. */
export class MemoryGrant implements GrantAccess {
  credentials: OAuthCredentials;
  refreshes = 0;
  private readonly settings: OAuthClientSettings;
  private refreshing: Promise<OAuthCredentials> | null = null;

  constructor(settings: OAuthClientSettings, credentials: OAuthCredentials) {
    this.settings = settings;
    this.credentials = credentials;
  }

  async accessToken(options: { rejected?: string } = {}): Promise<string> {
    const fresh = Date.parse(this.credentials.expiresAt) - Date.now() > FRESHNESS_MARGIN_MS;
    if (fresh && options.rejected !== this.credentials.accessToken) return this.credentials.accessToken;
    this.refreshing ??= googleOAuth.refresh(this.settings, this.credentials).finally(() => {
      this.refreshing = null;
    });
    const next = await this.refreshing;
    if (this.credentials !== next) {
      this.credentials = next;
      this.refreshes += 1;
    }
    return next.accessToken;
  }
}
