/**
 * Microsoft sign-in (Entra ID) through MSAL's ConfidentialClientApplication: consent URL with PKCE,
 * code exchange, refresh. The lead flow around it is connections/oauth.ts; the refresh lock is
 * connections/grants.ts.
 *
 * MSAL keeps its grant in a token cache. Ours lives inside the connection's sealed credentials
 * (`msalCache`, the serialized cache), so each call builds its own application with a cache plugin
 * that loads that one connection's cache and captures what MSAL writes back: no token of one
 * connection is ever in memory next to another's, and `refresh` returns the rotated refresh token
 * for the caller to seal. The price is one discovery request per call (MSAL keeps authority
 * metadata per application); refreshes happen about once an hour per connection.
 *
 * Entra has no endpoint where a client can revoke a user's refresh token (only the user, in their
 * account's app permissions, or an admin can), so `revoke` does nothing; forgetting the sealed
 * credentials is the revocation on our side.
 */
import {
  AuthError,
  type AuthenticationResult,
  ConfidentialClientApplication,
  type ICachePlugin,
  type INetworkModule,
  InteractionRequiredAuthError,
  type NetworkResponse,
  ServerError,
  type TokenCacheContext,
} from '@azure/msal-node';
import type { Config } from '../../platform/config.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  type ProviderError,
  ProviderUnreachableError,
  TransientProviderError,
} from '../errors.ts';
import type { OAuthClientSettings, OAuthCredentials, OAuthLink, OAuthModule } from '../oauth.ts';

const SCOPES = ['offline_access', 'User.Read', 'Calendars.ReadWrite'];
/** Entra's answers are small; a larger one is not Entra. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Microsoft's own sign-in hosts (public and national clouds): MSAL knows these without being told. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
]);

/** What we keep of a Microsoft grant (sealed by the caller). */
export interface MicrosoftCredentials extends OAuthCredentials {
  homeAccountId: string;
  /** MSAL's serialized token cache: the refresh token lives here. */
  msalCache: string;
}

export const microsoftOAuth: OAuthModule = {
  settings(config: Config): OAuthClientSettings | null {
    if (!config.MICROSOFT_CLIENT_ID || !config.MICROSOFT_CLIENT_SECRET) return null;
    return {
      clientId: config.MICROSOFT_CLIENT_ID,
      clientSecret: config.MICROSOFT_CLIENT_SECRET,
      redirectUri: `${config.PUBLIC_URL}/v1/oauth/microsoft/callback`,
      authorityUrl: config.MICROSOFT_AUTHORITY,
      apiUrl: config.MICROSOFT_GRAPH_URL,
      requestTimeoutMs: config.PROVIDER_TIMEOUT_SECONDS * 1000,
    };
  },

  async authorizationUrl(settings, request) {
    const app = application(settings, new CacheSlot(''));
    try {
      return await app.getAuthCodeUrl({
        scopes: SCOPES,
        redirectUri: settings.redirectUri,
        responseMode: 'query',
        state: request.state,
        codeChallenge: request.codeChallenge,
        codeChallengeMethod: 'S256',
        ...(request.loginHint ? { loginHint: request.loginHint } : {}),
        ...(request.forceConsent ? { prompt: 'consent' } : {}),
      });
    } catch (error) {
      throw providerError(error, 'build the Microsoft sign-in address');
    }
  },

  async exchangeCode(settings, request): Promise<OAuthLink> {
    const cache = new CacheSlot('');
    let result: AuthenticationResult;
    try {
      result = await application(settings, cache).acquireTokenByCode({
        code: request.code,
        codeVerifier: request.codeVerifier,
        redirectUri: settings.redirectUri,
        scopes: SCOPES,
      });
    } catch (error) {
      throw providerError(error, 'redeem the Microsoft sign-in code');
    }
    const account = result.account;
    const email = account?.username || (result.idTokenClaims as { email?: string } | undefined)?.email;
    if (!account?.homeAccountId || !email) {
      throw new InvalidDataError('Microsoft sign-in answered without the account');
    }
    return {
      credentials: credentialsOf(result, account.homeAccountId, cache),
      accountEmail: email,
      accountId: account.homeAccountId,
    };
  },

  async refresh(settings, credentials): Promise<OAuthCredentials> {
    const { homeAccountId, msalCache } = credentials;
    if (typeof homeAccountId !== 'string' || typeof msalCache !== 'string' || msalCache === '') {
      throw new CredentialsRejectedError('The Microsoft grant holds no token cache');
    }
    const cache = new CacheSlot(msalCache);
    const app = application(settings, cache);
    try {
      const account = await app.getTokenCache().getAccountByHomeId(homeAccountId);
      if (!account) throw new CredentialsRejectedError('The Microsoft grant holds no account');
      const result = await app.acquireTokenSilent({ account, scopes: SCOPES, forceRefresh: true });
      return credentialsOf(result, homeAccountId, cache);
    } catch (error) {
      throw providerError(error, 'refresh the Microsoft access token');
    }
  },

  async revoke() {},
};

function credentialsOf(
  result: AuthenticationResult,
  homeAccountId: string,
  cache: CacheSlot,
): MicrosoftCredentials {
  if (!result.accessToken || !result.expiresOn) {
    throw new InvalidDataError('Microsoft sign-in answered without an access token');
  }
  return {
    accessToken: result.accessToken,
    expiresAt: result.expiresOn.toISOString(),
    homeAccountId,
    msalCache: cache.serialized,
  };
}

function application(settings: OAuthClientSettings, cache: CacheSlot): ConfidentialClientApplication {
  const authority = settings.authorityUrl ?? 'https://login.microsoftonline.com/common';
  const host = new URL(authority).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      authority,
      // Another host (a sovereign deployment, a test stand-in): MSAL must trust it and discover
      // there, never ask Microsoft's instance discovery about it.
      knownAuthorities: MICROSOFT_AUTHORITY_HOSTS.has(host.toLowerCase()) ? [] : [host],
    },
    cache: { cachePlugin: cache },
    system: { networkClient: timedNetworkClient(settings.requestTimeoutMs) },
  });
}

/** One connection's MSAL cache: loaded before MSAL reads it, captured after MSAL changed it. */
class CacheSlot implements ICachePlugin {
  serialized: string;

  constructor(serialized: string) {
    this.serialized = serialized;
  }

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    if (this.serialized) context.tokenCache.deserialize(this.serialized);
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (context.cacheHasChanged) this.serialized = context.tokenCache.serialize();
  }
}

/** MSAL's own client has no timeout on POSTs (the token requests): this one times every request. */
function timedNetworkClient(timeoutMs: number): INetworkModule {
  const send = async <T>(
    url: string,
    method: 'GET' | 'POST',
    options: { headers?: Record<string, string>; body?: string } | undefined,
  ): Promise<NetworkResponse<T>> => {
    const response = await fetch(url, {
      method,
      headers: options?.headers ?? {},
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new Error('The sign-in server sent an oversized answer');
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: JSON.parse(text || '{}') as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

/** Entra's answers that mean the grant is dead: the user must sign in again. */
const DEAD_GRANT_CODES = /AADSTS(50173|700082|65001|50076|50079|700084|70043|70008|54005|70000|501481)\b/;
const UNREACHABLE_CODES = new Set(['network_error', 'openid_config_error', 'endpoints_resolution_error']);

/**
 * MSAL's errors as ours. Their messages carry Entra's description (codes, trace ids) but never a
 * token; we keep only the error code in ours, the rest as `cause`.
 */
function providerError(error: unknown, what: string): ProviderError {
  if (error instanceof CredentialsRejectedError) return error;
  if (error instanceof InteractionRequiredAuthError) {
    return new CredentialsRejectedError(`Could not ${what}: sign-in required again (${error.errorCode})`, {
      cause: error,
    });
  }
  if (error instanceof ServerError) {
    const status = error.status ?? 0;
    if (status >= 500)
      return new TransientProviderError(`Could not ${what}: Entra answered ${status}`, { cause: error });
    if (error.errorCode === 'invalid_grant' || DEAD_GRANT_CODES.test(error.errorMessage)) {
      return new CredentialsRejectedError(`Could not ${what}: the grant was refused (${error.errorCode})`, {
        cause: error,
      });
    }
    if (error.errorCode === 'invalid_client' || error.errorCode === 'unauthorized_client') {
      // The operator's client id or secret, not the user's grant: the grant stays.
      return new InvalidDataError(`Could not ${what}: Entra refused this server's client credentials`, {
        cause: error,
      });
    }
    return new InvalidDataError(`Could not ${what}: Entra answered ${error.errorCode}`, { cause: error });
  }
  if (error instanceof AuthError && UNREACHABLE_CODES.has(error.errorCode)) {
    return new ProviderUnreachableError(`Could not ${what}: the Microsoft sign-in server did not answer`, {
      cause: error,
    });
  }
  if (error instanceof AuthError) {
    return new InvalidDataError(`Could not ${what}: ${error.errorCode}`, { cause: error });
  }
  return new ProviderUnreachableError(`Could not ${what}: the Microsoft sign-in server did not answer`, {
    cause: error,
  });
}
