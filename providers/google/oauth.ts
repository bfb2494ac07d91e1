/**
 * Google's OAuth 2.0 for Calbridge (the OAuthModule): consent with PKCE and offline access, the
 * code exchange (the account is learnt from the verified id_token), refresh and revocation,
 * through google-auth-library's OAuth2 client. With GOOGLE_OAUTH_URL set, every endpoint the
 * client uses (consent, token, revoke, token info, signing certificates) is at its Google path
 * under that base, where the stand-in serves them.
 */
import type { Auth } from 'googleapis';
// The Calendar API's own entry point: the package root loads every Google API (~100 MB more RSS).
import { auth } from 'googleapis/build/src/apis/calendar/index.js';
import type { Config } from '../../platform/config.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  type ProviderError,
  TransientProviderError,
} from '../errors.ts';
import { transportError } from '../http-errors.ts';
import type { OAuthClientSettings, OAuthCredentials, OAuthModule } from '../oauth.ts';

const SCOPES = ['openid', 'email', 'https://www.googleapis.com/auth/calendar'];
/** Google's answer when it leaves out expires_in (it never does): its usual lifetime. */
const DEFAULT_LIFETIME_MS = 3599_000;

function client(settings: OAuthClientSettings): Auth.OAuth2Client {
  const base = settings.authorityUrl?.replace(/\/+$/, '');
  return new auth.OAuth2({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    redirectUri: settings.redirectUri,
    transporterOptions: { timeout: settings.requestTimeoutMs },
    ...(base
      ? {
          endpoints: {
            oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`,
            oauth2TokenUrl: `${base}/token`,
            oauth2RevokeUrl: `${base}/revoke`,
            tokenInfoUrl: `${base}/tokeninfo`,
            oauth2FederatedSignonPemCertsUrl: `${base}/oauth2/v1/certs`,
            oauth2FederatedSignonJwkCertsUrl: `${base}/oauth2/v3/certs`,
          },
        }
      : {}),
  });
}

/** Google's OAuth error code (`invalid_grant`, ...) from a failed token request, if it answered one. */
function oauthError(error: unknown): { status: number; code: string | null } | null {
  const response = (error as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  if (!response || typeof response.status !== 'number') return null;
  const code = (response.data as { error?: unknown } | null)?.error;
  return { status: response.status, code: typeof code === 'string' ? code : null };
}

/**
 * A token request's failure, safe to keep as an error's `cause`: the library's error holds the
 * request body (code, verifier, refresh token) and gaxios redacts only part of it, so it is never
 * passed on. Keeps what helps an operator: the status and Google's error code, or the transport's.
 */
function redacted(error: unknown): Error {
  const answer = oauthError(error);
  if (answer) return new Error(`Google answered ${answer.status}${answer.code ? ` ${answer.code}` : ''}`);
  const code = (error as { code?: unknown } | null)?.code;
  return new Error(`No answer from Google${typeof code === 'string' ? ` (${code})` : ''}`);
}

/** A failed token-endpoint call as a ProviderError; `rejected` is what a dead grant or code says. */
function tokenFailure(error: unknown, settings: OAuthClientSettings, rejected: string): ProviderError {
  const answer = oauthError(error);
  const cause = redacted(error);
  if (!answer) return transportError(cause, 'Google sign-in', settings.requestTimeoutMs);
  if (answer.code === 'invalid_grant') return new CredentialsRejectedError(rejected, { cause });
  if (answer.status >= 500)
    return new TransientProviderError(`Google sign-in answered ${answer.status}`, { cause });
  return new CredentialsRejectedError(
    `Google sign-in refused the request (${answer.code ?? answer.status})`,
    {
      cause,
    },
  );
}

function expiresAt(expiryDate: number | null | undefined): string {
  return new Date(expiryDate ?? Date.now() + DEFAULT_LIFETIME_MS).toISOString();
}

export const googleOAuth: OAuthModule = {
  settings(config: Config): OAuthClientSettings | null {
    if (!config.GOOGLE_CLIENT_ID || !config.GOOGLE_CLIENT_SECRET) return null;
    return {
      clientId: config.GOOGLE_CLIENT_ID,
      clientSecret: config.GOOGLE_CLIENT_SECRET,
      redirectUri: `${config.PUBLIC_URL}/v1/oauth/google/callback`,
      authorityUrl: config.GOOGLE_OAUTH_URL ?? null,
      apiUrl: config.GOOGLE_API_URL,
      requestTimeoutMs: config.PROVIDER_TIMEOUT_SECONDS * 1000,
    };
  },

  async authorizationUrl(settings, request) {
    return client(settings).generateAuthUrl({
      access_type: 'offline',
      scope: SCOPES,
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256' as Auth.CodeChallengeMethod.S256,
      include_granted_scopes: true,
      // Unset options would still appear as empty parameters.
      ...(request.forceConsent ? { prompt: 'consent' } : {}),
      ...(request.loginHint ? { login_hint: request.loginHint } : {}),
    });
  },

  async exchangeCode(settings, request) {
    const oauth = client(settings);
    let tokens: Auth.Credentials;
    try {
      ({ tokens } = await oauth.getToken({ code: request.code, codeVerifier: request.codeVerifier }));
    } catch (error) {
      throw tokenFailure(
        error,
        settings,
        'Google refused the sign-in code (expired or used already): try again',
      );
    }
    if (!tokens.access_token || !tokens.id_token) {
      throw new InvalidDataError('Google answered the sign-in without an access or identity token');
    }
    try {
      // Fetched (and cached on the client) first, so that a failure here reads as one to reach Google.
      await oauth.getFederatedSignonCerts();
    } catch (error) {
      const answer = oauthError(error);
      throw answer
        ? new TransientProviderError(`Google's signing certificates answered ${answer.status}`, {
            cause: redacted(error),
          })
        : transportError(redacted(error), 'Google sign-in', settings.requestTimeoutMs);
    }
    let ticket: Auth.LoginTicket;
    try {
      ticket = await oauth.verifyIdToken({ idToken: tokens.id_token, audience: settings.clientId });
    } catch (error) {
      // The library's message quotes the token: only its reason goes on.
      const reason = error instanceof Error ? error.message.split(':')[0] : 'unknown';
      throw new CredentialsRejectedError(
        `Google’s identity token for the account did not verify (${reason})`,
      );
    }
    const identity = ticket.getPayload();
    if (!identity?.sub || !identity.email) {
      throw new CredentialsRejectedError(
        'Google did not say which account consented (the email scope is missing)',
      );
    }
    if (!tokens.refresh_token) {
      // Google issues a refresh token on first consent (or with prompt=consent) only.
      throw new CredentialsRejectedError(
        'Google granted no offline access this time: connect again and give consent once more',
      );
    }
    return {
      accountId: identity.sub,
      accountEmail: identity.email,
      credentials: {
        accessToken: tokens.access_token,
        expiresAt: expiresAt(tokens.expiry_date),
        refreshToken: tokens.refresh_token,
        ...(tokens.scope ? { scope: tokens.scope } : {}),
      },
    };
  },

  async refresh(settings, credentials): Promise<OAuthCredentials> {
    const refreshToken = credentials.refreshToken;
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new CredentialsRejectedError('The Google connection holds no refresh token: reconnect');
    }
    const oauth = client(settings);
    oauth.setCredentials({ refresh_token: refreshToken });
    let refreshed: Auth.Credentials;
    try {
      ({ credentials: refreshed } = await oauth.refreshAccessToken());
    } catch (error) {
      const answer = oauthError(error);
      // A wrong client id or secret is this server's configuration, not the user's grant.
      if (answer?.code === 'invalid_client' || answer?.code === 'unauthorized_client') {
        throw new TransientProviderError('Google refused this server’s OAuth client', {
          cause: redacted(error),
        });
      }
      throw tokenFailure(error, settings, 'Google access was revoked or expired: reconnect');
    }
    if (!refreshed.access_token)
      throw new InvalidDataError('Google answered a refresh without an access token');
    return {
      ...credentials,
      accessToken: refreshed.access_token,
      expiresAt: expiresAt(refreshed.expiry_date),
      // Google keeps the refresh token (the answer carries none); keep ours unless it sent a new one.
      refreshToken: refreshed.refresh_token ?? refreshToken,
    };
  },

  async revoke(settings, credentials) {
    const token =
      typeof credentials.refreshToken === 'string' ? credentials.refreshToken : credentials.accessToken;
    try {
      await client(settings).revokeToken(token);
    } catch (error) {
      const answer = oauthError(error);
      // 400 invalid_token: revoked or expired already, which is what we wanted.
      if (answer && answer.status < 500) return;
      throw answer
        ? new TransientProviderError(`Google revocation answered ${answer.status}`, {
            cause: redacted(error),
          })
        : transportError(redacted(error), 'Google sign-in', settings.requestTimeoutMs);
    }
  },
};
