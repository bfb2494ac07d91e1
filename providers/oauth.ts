/**
 * What an OAuth provider (Google, Microsoft) adds to its ProviderModule: consent, code exchange,
 * refresh and revocation. The link flow around it (state, PKCE, storing the grant, telling the run)
 * is connections/oauth.ts; the "one refresh at a time per grant" lock is connections/grants.ts.
 * Nothing here ever sees PostgreSQL or Temporal.
 */
import type { Config } from '../platform/config.ts';

/**
 * The sealed grant of one connection (encrypted at rest, never in Temporal). Modules may keep more
 * (Microsoft: the MSAL token cache) next to these common fields.
 */
export interface OAuthCredentials {
  accessToken: string;
  /** When `accessToken` stops working (ISO 8601). */
  expiresAt: string;
  [field: string]: unknown;
}

/** Endpoints and client credentials, from configuration (GOOGLE_* / MICROSOFT_*). */
export interface OAuthClientSettings {
  clientId: string;
  clientSecret: string;
  /** `{PUBLIC_URL}/v1/oauth/{provider}/callback`. */
  redirectUri: string;
  /** GOOGLE_OAUTH_URL / MICROSOFT_AUTHORITY: where consent, token and revocation live. */
  authorityUrl: string | null;
  /** GOOGLE_API_URL / MICROSOFT_GRAPH_URL: the calendar API (to learn the account, if needed). */
  apiUrl: string;
  requestTimeoutMs: number;
}

/** What a completed consent yields. */
export interface OAuthLink {
  credentials: OAuthCredentials;
  /** Shown to the user as the connection's `accountEmail`. */
  accountEmail: string;
  /** The provider's stable id of the account (Google `sub`, Entra home account id): "the same account". */
  accountId: string;
}

export interface OAuthModule {
  /** Client id and secret from configuration; null when this server has none (→ 422 "not configured"). */
  settings(config: Config): OAuthClientSettings | null;
  /** The consent page: offline access, PKCE S256, our `state`; `prompt=consent` only if asked. */
  authorizationUrl(
    settings: OAuthClientSettings,
    request: { state: string; codeChallenge: string; loginHint?: string; forceConsent?: boolean },
  ): Promise<string>;
  /**
   * Exchanges the callback's code (with the PKCE verifier) for a grant and learns the account.
   * Throws CredentialsRejectedError (bad or replayed code) / ProviderUnreachableError.
   */
  exchangeCode(
    settings: OAuthClientSettings,
    request: { code: string; codeVerifier: string },
  ): Promise<OAuthLink>;
  /**
   * A new access token from the stored grant. Throws CredentialsRejectedError when the grant is dead
   * (Google `invalid_grant`; Entra interaction required or AADSTS50173-like server errors), other
   * ProviderErrors for passing faults. Returns the whole new credential set to store.
   */
  refresh(settings: OAuthClientSettings, credentials: OAuthCredentials): Promise<OAuthCredentials>;
  /** Revokes the grant where the provider allows it (Google); a no-op where it does not (Entra). */
  revoke(settings: OAuthClientSettings, credentials: OAuthCredentials): Promise<void>;
}

/**
 * An OAuth adapter's access to its grant. `accessToken()` returns a token valid for at least a few
 * minutes, refreshing (once at a time per grant, across processes) when needed. After the provider
 * refused a token with 401, call `accessToken({ rejected: thatToken })`: it refreshes unless another
 * caller already did. Throws CredentialsRejectedError when the grant is dead.
 */
export interface GrantAccess {
  accessToken(options?: { rejected?: string }): Promise<string>;
}
