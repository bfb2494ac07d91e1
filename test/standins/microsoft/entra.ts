/**
 * The stand-in's Entra ID (the v2.0 endpoints MSAL talks to): OpenID discovery, the authorize page
 * (it acts as the account told by `consentAs` and approves at once), and the token endpoint with
 * authorization codes (single use, PKCE checked) and rotating refresh tokens. Errors are in Entra's
 * shape: `error`, `error_description` starting with the AADSTS code, `error_codes`, `timestamp`,
 * `trace_id`, `correlation_id`, and `suberror` where Entra sends one.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Account, Mailboxes } from './mailbox.ts';

/** How a grant dies: what Entra answers a refresh with afterwards. */
export type DeadGrantForm = 'revoked' | 'expired' | 'consent_withdrawn';

const ACCESS_TOKEN_SECONDS = 3599;
const CODE_SECONDS = 600;

interface AuthorizationCode {
  oid: string;
  redirectUri: string;
  scope: string;
  challenge: string | null;
  challengeMethod: string;
  expiresAt: number;
  redeemed: boolean;
}

interface Token {
  oid: string;
  expiresAt: number;
}

export class Entra {
  readonly clientId = randomUUID();
  readonly clientSecret = `standin~${randomBytes(18).toString('base64url')}`;
  readonly #mailboxes: Mailboxes;
  readonly #origin: () => string;
  readonly #codes = new Map<string, AuthorizationCode>();
  readonly #refreshTokens = new Map<string, { oid: string; scope: string; dead?: DeadGrantForm }>();
  readonly #accessTokens = new Map<string, Token>();
  #consenting: string | null = null;
  #denyNext = false;

  constructor(mailboxes: Mailboxes, origin: () => string) {
    this.#mailboxes = mailboxes;
    this.#origin = origin;
  }

  consentAs(oid: string): void {
    this.#consenting = oid;
  }

  denyConsent(): void {
    this.#denyNext = true;
  }

  revoke(oid: string, form: DeadGrantForm): void {
    // A revocation kills the tokens issued so far; a later consent issues live ones, as in Entra.
    for (const entry of this.#refreshTokens.values()) if (entry.oid === oid) entry.dead = form;
    for (const [token, entry] of this.#accessTokens) if (entry.oid === oid) this.#accessTokens.delete(token);
  }

  expireAccessTokens(): void {
    for (const entry of this.#accessTokens.values()) entry.expiresAt = 0;
  }

  /** The account an access token was issued to; 'expired' or null (unknown or revoked) otherwise. */
  accountFor(token: string): Account | 'expired' | null {
    const entry = this.#accessTokens.get(token);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) return 'expired';
    return this.#mailboxes.accounts.get(entry.oid) ?? null;
  }

  router(): express.Router {
    const router = express.Router();
    router.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
      const base = `${this.#origin()}/${req.params.tenant}`;
      res.json({
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${this.#origin()}/{tenantid}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.#origin()}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: [
          'sub',
          'iss',
          'aud',
          'exp',
          'iat',
          'nonce',
          'preferred_username',
          'name',
          'tid',
          'oid',
        ],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: null,
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
    });
    router.get('/:tenant/oauth2/v2.0/authorize', (req, res) => this.#authorize(req, res));
    router.post(
      '/:tenant/oauth2/v2.0/token',
      express.urlencoded({ extended: false, limit: '64kb' }),
      (req, res) => this.#token(req, res),
    );
    return router;
  }

  #authorize(req: Request, res: Response): void {
    const query = req.query as Record<string, string | undefined>;
    if (query.client_id !== this.clientId) {
      res.status(400).type('html').send('<p>AADSTS700016: Application not found in the directory.</p>');
      return;
    }
    const redirectUri = query.redirect_uri;
    if (!redirectUri || !/^https?:\/\//.test(redirectUri) || query.response_type !== 'code') {
      res
        .status(400)
        .type('html')
        .send('<p>AADSTS900144: The request body must contain redirect_uri and response_type=code.</p>');
      return;
    }
    const method = query.code_challenge_method ?? 'plain';
    if (query.code_challenge && method !== 'S256' && method !== 'plain') {
      res.status(400).type('html').send('<p>AADSTS501491: Invalid code_challenge_method.</p>');
      return;
    }
    const back = new URL(redirectUri);
    if (this.#denyNext) {
      this.#denyNext = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    } else {
      const oid = this.#consenting;
      if (!oid) {
        res.status(200).type('html').send('<form><p>Sign in to your account</p></form>');
        return;
      }
      const code = `1.A${randomBytes(48).toString('base64url')}`;
      this.#codes.set(code, {
        oid,
        redirectUri,
        scope: query.scope ?? '',
        challenge: query.code_challenge ?? null,
        challengeMethod: method,
        expiresAt: Date.now() + CODE_SECONDS * 1000,
        redeemed: false,
      });
      back.searchParams.set('code', code);
    }
    if (query.state !== undefined) back.searchParams.set('state', query.state);
    res.redirect(302, back.href);
  }

  #token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (body.client_id !== this.clientId) {
      fail(
        res,
        400,
        'unauthorized_client',
        700016,
        'Application with identifier was not found in the directory.',
      );
      return;
    }
    if (body.client_secret !== this.clientSecret) {
      fail(
        res,
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
      return;
    }
    if (body.grant_type === 'authorization_code') this.#redeemCode(body, res);
    else if (body.grant_type === 'refresh_token') this.#refresh(body, res);
    else fail(res, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }

  #redeemCode(body: Record<string, string | undefined>, res: Response): void {
    const grant = body.code ? this.#codes.get(body.code) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) {
      fail(
        res,
        400,
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity.',
      );
      return;
    }
    if (grant.redeemed) {
      fail(
        res,
        400,
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      );
      return;
    }
    grant.redeemed = true;
    if (body.redirect_uri !== grant.redirectUri) {
      fail(
        res,
        400,
        'invalid_grant',
        500112,
        'The reply address does not match the reply address provided when requesting Authorization code.',
      );
      return;
    }
    if (grant.challenge !== null) {
      const verifier = body.code_verifier ?? '';
      const computed =
        grant.challengeMethod === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (computed !== grant.challenge) {
        fail(
          res,
          400,
          'invalid_grant',
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
        return;
      }
    }
    this.#issue(res, grant.oid, body.scope ?? grant.scope);
  }

  #refresh(body: Record<string, string | undefined>, res: Response): void {
    const grant = body.refresh_token ? this.#refreshTokens.get(body.refresh_token) : undefined;
    if (!grant) {
      fail(res, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
      return;
    }
    const dead = grant.dead;
    if (dead === 'revoked') {
      fail(
        res,
        400,
        'invalid_grant',
        50173,
        'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
      );
      return;
    }
    if (dead === 'expired') {
      fail(
        res,
        400,
        'invalid_grant',
        700082,
        'The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00.',
        'bad_token',
      );
      return;
    }
    if (dead === 'consent_withdrawn') {
      fail(
        res,
        400,
        'interaction_required',
        65001,
        'The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.',
        'consent_required',
      );
      return;
    }
    // Entra rotates: each refresh answers with a new refresh token; the old one stays valid until it expires.
    this.#issue(res, grant.oid, body.scope ?? grant.scope);
  }

  #issue(res: Response, oid: string, requested: string): void {
    const account = this.#mailboxes.accounts.get(oid);
    if (!account) {
      fail(res, 400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
      return;
    }
    const scope = requested
      .split(/\s+/)
      .filter((s) => s && s !== 'offline_access')
      .join(' ');
    const accessToken = `eyJ0eXAiOi.${randomBytes(32).toString('base64url')}`;
    this.#accessTokens.set(accessToken, { oid, expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000 });
    const answer: Record<string, unknown> = {
      token_type: 'Bearer',
      scope,
      expires_in: ACCESS_TOKEN_SECONDS,
      ext_expires_in: ACCESS_TOKEN_SECONDS,
      access_token: accessToken,
      id_token: this.#idToken(account),
      client_info: Buffer.from(JSON.stringify({ uid: account.oid, utid: account.tid })).toString('base64url'),
    };
    if (requested.split(/\s+/).includes('offline_access')) {
      const refreshToken = `1.AR${randomBytes(64).toString('base64url')}`;
      this.#refreshTokens.set(refreshToken, { oid, scope: requested });
      answer.refresh_token = refreshToken;
    }
    res.set('Cache-Control', 'no-store').json(answer);
  }

  /** Unsigned (alg none): MSAL reads the claims without verifying a signature. */
  #idToken(account: Account): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ typ: 'JWT', alg: 'none' })}.${part({
      aud: this.clientId,
      iss: `${this.#origin()}/${account.tid}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + ACCESS_TOKEN_SECONDS,
      name: account.displayName,
      oid: account.oid,
      preferred_username: account.email,
      email: account.email,
      sub: createHash('sha256').update(`${account.oid}|${this.clientId}`).digest('base64url'),
      tid: account.tid,
      ver: '2.0',
    })}.`;
  }
}

function fail(
  res: Response,
  status: number,
  error: string,
  code: number,
  text: string,
  suberror?: string,
): void {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  res.status(status).json({
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...(suberror ? { suberror } : {}),
  });
}
