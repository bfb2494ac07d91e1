/**
 * The stand-in's Google OAuth 2.0 server: consent (`/o/oauth2/v2/auth`), the token endpoint
 * (`/token`: authorization_code with PKCE, refresh_token), revocation (`/revoke`), `/tokeninfo`, and
 * the keys id_tokens are signed with, at the paths google-auth-library fetches them from
 * (`/oauth2/v1/certs` PEM, `/oauth2/v3/certs` JWK). Grants are per client and account; revoking any
 * token of a grant kills the whole grant, as Google does.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type StandinRequest, sendJson, sendOAuthError } from './http.ts';
import type { CalendarStore } from './state.ts';

const ACCESS_TOKEN_SECONDS = 3599;
const CODE_SECONDS = 60;
const ISSUER = 'https://accounts.google.com';

interface Grant {
  id: string;
  email: string;
  scope: string;
  revoked: boolean;
  /** Whether a refresh token was issued for it (only then does a later consent skip issuing one). */
  offline: boolean;
}

interface AuthorizationCode {
  email: string;
  redirectUri: string;
  scope: string;
  challenge: { value: string; method: 'S256' | 'plain' } | null;
  offline: boolean;
  forceConsent: boolean;
  expiresAt: number;
  used: boolean;
}

const token = (prefix: string, bytes = 32) => `${prefix}${randomBytes(bytes).toString('base64url')}`;

export class OAuthServer {
  readonly clientId = `${randomBytes(6).toString('hex')}-standin.apps.googleusercontent.com`;
  readonly clientSecret = token('GOCSPX-', 18);
  consentingEmail: string | null = null;
  denyNext = false;
  readonly revoked: string[] = [];
  private readonly grants = new Map<string, Grant>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, { grantId: string; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly keyId = randomBytes(20).toString('hex');
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });

  private readonly store: CalendarStore;

  constructor(store: CalendarStore) {
    this.store = store;
  }

  /** The account a live, unexpired access token belongs to; null for anything else. */
  authenticate(accessToken: string | null): string | null {
    if (!accessToken) return null;
    const entry = this.accessTokens.get(accessToken);
    const grant = entry && this.grants.get(entry.grantId);
    if (!entry || !grant || grant.revoked || entry.expiresAt <= Date.now()) return null;
    return grant.email;
  }

  revokeAccount(email: string): void {
    for (const grant of this.grants.values()) if (grant.email === email.toLowerCase()) grant.revoked = true;
  }

  expireAccessTokens(): void {
    const now = Date.now();
    for (const entry of this.accessTokens.values()) entry.expiresAt = Math.min(entry.expiresAt, now);
  }

  /** Answers an OAuth route, or returns false when the path is not one. */
  handle(request: StandinRequest, res: ServerResponse): boolean {
    const route = `${request.method} ${request.url.pathname}`;
    switch (route) {
      case 'GET /o/oauth2/v2/auth':
        this.consent(request, res);
        return true;
      case 'POST /token':
        this.token(request, res);
        return true;
      case 'POST /revoke':
        this.revoke(request, res);
        return true;
      case 'GET /tokeninfo':
      case 'POST /tokeninfo':
        this.tokenInfo(request, res);
        return true;
      case 'GET /oauth2/v1/certs':
        sendJson(
          res,
          200,
          { [this.keyId]: this.keys.publicKey.export({ type: 'spki', format: 'pem' }) },
          CACHE,
        );
        return true;
      case 'GET /oauth2/v3/certs':
        sendJson(
          res,
          200,
          {
            keys: [
              { ...this.keys.publicKey.export({ format: 'jwk' }), kid: this.keyId, alg: 'RS256', use: 'sig' },
            ],
          },
          CACHE,
        );
        return true;
      default:
        return false;
    }
  }

  private consent(request: StandinRequest, res: ServerResponse): void {
    const q = request.url.searchParams;
    if (q.get('client_id') !== this.clientId) {
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Error 401: invalid_client');
      return;
    }
    const redirectUri = q.get('redirect_uri');
    if (!redirectUri || !/^https?:\/\//.test(redirectUri) || q.get('response_type') !== 'code') {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Error 400: invalid_request');
      return;
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (this.denyNext) {
      this.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      if (state !== null) back.searchParams.set('state', state);
      res.writeHead(302, { Location: back.href }).end();
      return;
    }
    const hint = q.get('login_hint')?.toLowerCase();
    const email = this.consentingEmail ?? (hint && this.store.accounts.has(hint) ? hint : null);
    if (!email) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('No account is signed in to consent');
      return;
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method') ?? 'plain';
    if (challenge && method !== 'S256' && method !== 'plain') {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Error 400: invalid_request');
      return;
    }
    const code = token('4/0A', 48);
    const scope = (q.get('scope') ?? '').split(/\s+/).filter(Boolean).join(' ');
    this.codes.set(code, {
      email,
      redirectUri,
      scope,
      challenge: challenge ? { value: challenge, method: method as 'S256' | 'plain' } : null,
      offline: q.get('access_type') === 'offline',
      forceConsent: (q.get('prompt') ?? '').split(/\s+/).includes('consent'),
      expiresAt: Date.now() + CODE_SECONDS * 1000,
      used: false,
    });
    if (state !== null) back.searchParams.set('state', state);
    back.searchParams.set('code', code);
    back.searchParams.set('scope', scope);
    res.writeHead(302, { Location: back.href }).end();
  }

  private token(request: StandinRequest, res: ServerResponse): void {
    const form = new URLSearchParams(request.body);
    const client = this.clientAuthentication(request, form);
    if (client !== 'ok') {
      sendOAuthError(
        res,
        401,
        'invalid_client',
        client === 'unknown' ? 'The OAuth client was not found.' : 'Unauthorized',
      );
      return;
    }
    switch (form.get('grant_type')) {
      case 'authorization_code':
        this.exchange(form, res);
        return;
      case 'refresh_token':
        this.refresh(form, res);
        return;
      default:
        sendOAuthError(
          res,
          400,
          'unsupported_grant_type',
          'Invalid grant_type: ' + (form.get('grant_type') ?? ''),
        );
    }
  }

  /** client_secret_post or client_secret_basic, as Google accepts both. */
  private clientAuthentication(
    request: StandinRequest,
    form: URLSearchParams,
  ): 'ok' | 'unknown' | 'wrong-secret' {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (id !== this.clientId) return 'unknown';
    return secret !== null && safeEqual(secret, this.clientSecret) ? 'ok' : 'wrong-secret';
  }

  private exchange(form: URLSearchParams, res: ServerResponse): void {
    const code = this.codes.get(form.get('code') ?? '');
    if (!code || code.used || code.expiresAt <= Date.now()) {
      sendOAuthError(res, 400, 'invalid_grant', 'Bad Request');
      return;
    }
    // Single use, even when the exchange fails below (as the code is spent by any attempt).
    code.used = true;
    if (form.get('redirect_uri') !== code.redirectUri) {
      sendOAuthError(res, 400, 'redirect_uri_mismatch', 'Bad Request');
      return;
    }
    if (code.challenge) {
      const verifier = form.get('code_verifier');
      if (!verifier) {
        sendOAuthError(res, 400, 'invalid_grant', 'Missing code verifier.');
        return;
      }
      const computed =
        code.challenge.method === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (!safeEqual(computed, code.challenge.value)) {
        sendOAuthError(res, 400, 'invalid_grant', 'Invalid code verifier.');
        return;
      }
    }
    const live = [...this.grants.values()].find((g) => g.email === code.email && !g.revoked && g.offline);
    const issueRefresh = code.offline && (!live || code.forceConsent);
    const grant: Grant =
      live && !issueRefresh
        ? live
        : {
            id: randomBytes(8).toString('hex'),
            email: code.email,
            scope: code.scope,
            revoked: false,
            offline: false,
          };
    this.grants.set(grant.id, grant);
    const body: Record<string, unknown> = this.accessTokenBody(grant);
    if (issueRefresh) {
      grant.offline = true;
      const refreshToken = token('1//0g', 64);
      this.refreshTokens.set(refreshToken, grant.id);
      body.refresh_token = refreshToken;
    }
    sendJson(res, 200, body, NO_STORE);
  }

  private refresh(form: URLSearchParams, res: ServerResponse): void {
    const grant = this.grants.get(this.refreshTokens.get(form.get('refresh_token') ?? '') ?? '');
    if (!grant || grant.revoked) {
      sendOAuthError(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
      return;
    }
    sendJson(res, 200, this.accessTokenBody(grant), NO_STORE);
  }

  private accessTokenBody(grant: Grant): Record<string, unknown> {
    const accessToken = token('ya29.', 96);
    this.accessTokens.set(accessToken, {
      grantId: grant.id,
      expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000,
    });
    return {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_SECONDS,
      scope: grant.scope,
      token_type: 'Bearer',
      ...(grant.scope.split(' ').includes('openid') ? { id_token: this.idToken(grant) } : {}),
    };
  }

  private idToken(grant: Grant): string {
    const account = this.store.account(grant.email);
    const iat = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signed = `${part({ alg: 'RS256', kid: this.keyId, typ: 'JWT' })}.${part({
      iss: ISSUER,
      azp: this.clientId,
      aud: this.clientId,
      sub: account.sub,
      email: account.email,
      email_verified: true,
      iat,
      exp: iat + 3600,
    })}`;
    return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), this.keys.privateKey).toString('base64url')}`;
  }

  private revoke(request: StandinRequest, res: ServerResponse): void {
    const value =
      request.url.searchParams.get('token') ?? new URLSearchParams(request.body).get('token') ?? '';
    const grantId = this.refreshTokens.get(value) ?? this.accessTokens.get(value)?.grantId;
    const grant = grantId ? this.grants.get(grantId) : undefined;
    if (!grant || grant.revoked) {
      sendOAuthError(res, 400, 'invalid_token', 'Token expired or revoked');
      return;
    }
    grant.revoked = true;
    this.revoked.push(value);
    sendJson(res, 200, {});
  }

  private tokenInfo(request: StandinRequest, res: ServerResponse): void {
    const params = new URLSearchParams(request.body);
    for (const [key, value] of request.url.searchParams) params.set(key, value);
    const accessToken = params.get('access_token');
    const entry = accessToken ? this.accessTokens.get(accessToken) : undefined;
    const grant = entry && this.grants.get(entry.grantId);
    if (!entry || !grant || grant.revoked || entry.expiresAt <= Date.now()) {
      sendOAuthError(res, 400, 'invalid_token', 'Invalid Value');
      return;
    }
    const account = this.store.account(grant.email);
    sendJson(res, 200, {
      azp: this.clientId,
      aud: this.clientId,
      sub: account.sub,
      scope: grant.scope,
      exp: String(Math.floor(entry.expiresAt / 1000)),
      expires_in: String(Math.floor((entry.expiresAt - Date.now()) / 1000)),
      email: account.email,
      email_verified: 'true',
      access_type: grant.offline ? 'offline' : 'online',
    });
  }
}

const CACHE = { 'Cache-Control': 'public, max-age=19000, must-revalidate, no-transform' };
const NO_STORE = { 'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate', Pragma: 'no-cache' };

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
