/**
 * Linking and reconnecting an OAuth account (Google, Microsoft):
 *
 *   POST /v1/connections {provider}  → a `pending_authorization` connection, its run waiting, and
 *                                      the consent URL carrying a single-use `state` (PKCE S256)
 *   consent at the provider          → GET /v1/oauth/{provider}/callback?code&state
 *   completeAuthorization            → state consumed, code exchanged, account learnt, calendars
 *                                      listed, the grant sealed into the row, the run told
 *
 * No code or token ever reaches Temporal: the run is only told "reconnect", and its activities read
 * the sealed grant from PostgreSQL. A reconnect asks for consent again only when the stored grant no
 * longer works; otherwise it resumes at once.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { retryPendingInvites } from '../bookings/runs.ts';
import type { CalendarConnectionRow } from '../db/entities/connection.ts';
import { CalendarConnection } from '../db/entities/index.ts';
import type { OAuthProviderKind, OAuthStatePurpose } from '../domain/connection.ts';
import { isRemovalStatus } from '../domain/connection-status.ts';
import { AppError, invalidState, toFieldProblems, validationFailed } from '../domain/errors.ts';
import type { Config } from '../platform/config.ts';
import { decryptJson, encryptJson, hashToken } from '../platform/crypto.ts';
import { CredentialsRejectedError } from '../providers/errors.ts';
import type { OAuthClientSettings, OAuthCredentials, OAuthLink, OAuthModule } from '../providers/oauth.ts';
import { providerModules } from '../providers/registry.ts';
import { reconnectSignal, removeSignal } from '../workflows/connection.ts';
import { connectionWorkflowId } from '../workflows/ids.ts';
import { recordCalendarListing } from './calendars.ts';
import { alreadyLinked, type ConnectionCommandContext, type ConnectRequest } from './commands.ts';
import { sealCredentials, unsealCredentials } from './credentials.ts';
import { withGrantLock } from './grants.ts';
import { type ConnectionRun, signalConnectionRun, startConnectionRun } from './runs.ts';
import { changeConnectionStatus } from './status.ts';
import { toVerificationError, verifyAndList } from './verify.ts';
import { type ConnectionView, connectionView } from './views.ts';

/** How long a consent round trip may take before its `state` is refused. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

const LABELS: Record<OAuthProviderKind, string> = { google: 'Google', microsoft: 'Microsoft 365' };

/** A connection answer that may send the user to consent. */
export type AuthorizingView = ConnectionView & { authorizationUrl?: string };

/** POST /v1/connections for an OAuth provider: the connection waits for consent. */
export async function startAuthorization(
  ctx: ConnectionCommandContext,
  userId: string,
  provider: OAuthProviderKind,
  request: ConnectRequest,
): Promise<AuthorizingView> {
  const { em, config } = ctx;
  const { module, connectBody, settings } = oauthProvider(config, provider);
  const { redirectUri } = parseBody(connectBody, request);
  const id = randomUUID();
  const run: ConnectionRun = {
    id,
    userId,
    provider,
    status: 'pending_authorization',
    workflowId: connectionWorkflowId(id),
  };
  em.create(CalendarConnection, {
    id,
    userId,
    provider,
    // Unknown until consent; unique per row so pending links never collide.
    accountIdentity: hashToken(`pending:${id}`),
    accountEmail: null,
    serverUrl: null,
    status: run.status,
    workflowId: run.workflowId,
  });
  await em.flush();
  const authorizationUrl = await consentUrl(em, config, module, settings, {
    connectionId: id,
    userId,
    provider,
    purpose: 'link',
    redirectUri,
  });
  try {
    await startConnectionRun(ctx.temporal, config, run);
  } catch (error) {
    await em.nativeDelete(CalendarConnection, { id });
    throw error;
  }
  return { ...(await connectionView(em, id)), authorizationUrl };
}

/**
 * POST /v1/connections/{id}/reconnect for an OAuth connection: resumes at once when the stored
 * grant still refreshes; otherwise answers with a consent URL (the status stays until consent).
 */
export async function reconnectAuthorization(
  ctx: ConnectionCommandContext,
  userId: string,
  connection: CalendarConnectionRow,
  request: ConnectRequest,
): Promise<AuthorizingView> {
  const { em, config } = ctx;
  const provider = connection.provider as OAuthProviderKind;
  const { module, connectBody, settings } = oauthProvider(config, provider);
  const { redirectUri } = parseBody(connectBody, request);
  if (
    connection.status !== 'pending_authorization' &&
    (await refreshStoredGrant(ctx, connection, module, settings))
  ) {
    await resumeRun(ctx, connection);
    return connectionView(em, connection.id);
  }
  const authorizationUrl = await consentUrl(em, config, module, settings, {
    connectionId: connection.id,
    userId,
    provider,
    purpose: connection.status === 'pending_authorization' ? 'link' : 'reconnect',
    redirectUri,
  });
  return { ...(await connectionView(em, connection.id)), authorizationUrl };
}

export interface CallbackQuery {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
}

/**
 * GET /v1/oauth/{provider}/callback (public: the browser may carry no token, the state is the
 * proof). The state is consumed first, so a replay or a forgery changes nothing.
 */
export async function completeAuthorization(
  ctx: ConnectionCommandContext,
  provider: OAuthProviderKind,
  query: CallbackQuery,
): Promise<{ view: ConnectionView; redirectUri: string | null }> {
  const { em, config } = ctx;
  const pending = await consumeState(em, config, provider, query.state);
  try {
    return await finishAuthorization(ctx, provider, query, pending);
  } catch (error) {
    // The person at the browser goes back to the app that sent them, told what went wrong.
    if (error instanceof AppError && pending.redirectUri)
      throw new AuthorizationFailed(error, pending.redirectUri, pending.connectionId);
    throw error;
  }
}

/** A callback that failed after its state was accepted, for a flow that gave a redirectUri. */
export class AuthorizationFailed extends Error {
  readonly error: AppError;
  readonly redirectUri: string;
  readonly connectionId: string;
  constructor(error: AppError, redirectUri: string, connectionId: string) {
    super(error.message);
    this.error = error;
    this.redirectUri = redirectUri;
    this.connectionId = connectionId;
  }
}

async function finishAuthorization(
  ctx: ConnectionCommandContext,
  provider: OAuthProviderKind,
  query: CallbackQuery,
  pending: Awaited<ReturnType<typeof consumeState>>,
): Promise<{ view: ConnectionView; redirectUri: string | null }> {
  const { em, config } = ctx;
  if (query.error)
    throw new AppError(
      422,
      'invalid_credentials',
      `${LABELS[provider]} did not grant access (${
        query.error === 'access_denied' ? 'consent was declined' : 'the sign-in failed'
      }). Start again from Calbridge to retry.`,
    );
  if (!query.code)
    throw validationFailed(
      [{ path: 'code', message: 'is required' }],
      'The provider sent no authorization code.',
    );
  const { module, settings } = oauthProvider(config, provider);
  let link: OAuthLink;
  try {
    link = await module.exchangeCode(settings, { code: query.code, codeVerifier: pending.codeVerifier });
  } catch (error) {
    throw oauthError(provider, error);
  }
  const listing = await verifyAndList(config, {
    provider,
    serverUrl: null,
    credentials: link.credentials,
    grant: { accessToken: async () => link.credentials.accessToken },
  }).catch((error) => {
    throw error instanceof AppError ? error : toVerificationError(error);
  });
  const identity = hashToken(`${provider}|${link.accountId}`);

  const connection = await em.findOne(CalendarConnection, { id: pending.connectionId });
  if (!connection || isRemovalStatus(connection.status))
    throw invalidState('This connection was removed; link the account again instead.');
  if (pending.purpose === 'reconnect' && connection.accountIdentity !== identity)
    throw new AppError(
      422,
      'invalid_credentials',
      `You signed in to ${LABELS[provider]} as ${link.accountEmail}, but this connection belongs to ${connection.accountEmail ?? 'another account'}. Sign in with that account, or link the new one as a new connection.`,
    );
  try {
    await withGrantLock(em, connection.id, async (tx) => {
      const duplicate = await tx.findOne(CalendarConnection, {
        userId: connection.userId,
        provider,
        accountIdentity: identity,
        id: { $ne: connection.id },
        status: { $ne: 'removed' },
      });
      if (duplicate) throw alreadyLinked(duplicate.id);
      await tx.execute(
        `update calendar_connections set credentials = ?, credentials_version = credentials_version + 1,
           account_email = ?, account_identity = ?, status_reason = null, updated_at = now()
         where id = ?`,
        [
          sealCredentials(config, connection.id, link.credentials),
          link.accountEmail,
          identity,
          connection.id,
        ],
      );
      await recordCalendarListing(tx, { id: connection.id, userId: connection.userId }, listing.calendars);
      await moveOnAfterAccess(tx, connection.id);
    });
  } catch (error) {
    if (error instanceof AppError && error.code === 'already_exists' && pending.purpose === 'link') {
      // Nothing is kept from a link to an account this user already has.
      await changeConnectionStatus(em, connection.id, 'removing');
      await signalConnectionRun(ctx.temporal, config, connection, removeSignal);
    }
    if (error instanceof UniqueConstraintViolationException) throw alreadyLinked(null);
    throw error;
  }
  await resumeRun(ctx, connection);
  return { view: await connectionView(em, connection.id), redirectUri: pending.redirectUri };
}

/** Builds the consent URL and stores its state: hashed, with the PKCE verifier sealed to it. */
async function consentUrl(
  em: EntityManager,
  config: Config,
  module: OAuthModule,
  settings: OAuthClientSettings,
  round: {
    connectionId: string;
    userId: string;
    provider: OAuthProviderKind;
    purpose: OAuthStatePurpose;
    redirectUri: string | null;
  },
): Promise<string> {
  const state = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(48).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  const stateHash = hashToken(state);
  // Rounds abandoned at the consent page leave rows behind: sweep the expired ones as we go.
  await em.execute('delete from oauth_states where expires_at < now()');
  await em.execute(
    `insert into oauth_states (state_hash, connection_id, user_id, provider, purpose, code_verifier, redirect_uri, expires_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      stateHash,
      round.connectionId,
      round.userId,
      round.provider,
      round.purpose,
      encryptJson(config.encryptionKey, codeVerifier, stateAad(stateHash)),
      round.redirectUri,
      new Date(Date.now() + OAUTH_STATE_TTL_MS),
    ],
  );
  return module.authorizationUrl(settings, { state, codeChallenge, forceConsent: true });
}

/** Deletes the state's row and returns it; unknown, expired or another provider's → 400. */
async function consumeState(
  em: EntityManager,
  config: Config,
  provider: OAuthProviderKind,
  state: string | undefined,
) {
  const refused = new AppError(
    400,
    'invalid_oauth_state',
    'This sign-in response is invalid, expired or was already used. Start again from Calbridge.',
  );
  if (!state || state.length > 512) throw refused;
  const stateHash = hashToken(state);
  const [row] = await em.execute<
    {
      connection_id: string;
      provider: string;
      purpose: OAuthStatePurpose;
      code_verifier: Buffer;
      redirect_uri: string | null;
      expires_at: Date;
    }[]
  >('delete from oauth_states where state_hash = ? returning *', [stateHash]);
  if (!row || row.provider !== provider || new Date(row.expires_at).getTime() <= Date.now()) throw refused;
  return {
    connectionId: row.connection_id,
    purpose: row.purpose,
    redirectUri: row.redirect_uri,
    codeVerifier: decryptJson<string>(
      config.encryptionKey,
      Buffer.from(row.code_verifier),
      stateAad(stateHash),
    ),
  };
}

/**
 * Refreshes the stored grant (under the grant lock) and keeps the result. False when the grant is
 * dead or missing: the user must consent again.
 */
async function refreshStoredGrant(
  ctx: ConnectionCommandContext,
  connection: CalendarConnectionRow,
  module: OAuthModule,
  settings: OAuthClientSettings,
): Promise<boolean> {
  const { em, config } = ctx;
  try {
    return await withGrantLock(em, connection.id, async (tx) => {
      const [row] = await tx.execute<{ credentials: Buffer | null }[]>(
        'select credentials from calendar_connections where id = ?',
        [connection.id],
      );
      if (!row?.credentials) return false;
      const stored = unsealCredentials<OAuthCredentials>(config, connection.id, row.credentials);
      const next = await module.refresh(settings, stored);
      await tx.execute(
        'update calendar_connections set credentials = ?, credentials_version = credentials_version + 1, updated_at = now() where id = ?',
        [sealCredentials(config, connection.id, next), connection.id],
      );
      await moveOnAfterAccess(tx, connection.id);
      return true;
    });
  } catch (error) {
    if (error instanceof CredentialsRejectedError) return false;
    throw oauthError(connection.provider as OAuthProviderKind, error);
  }
}

/** Working access ends a parked state: into the import loop, or to the selection when none is saved. */
async function moveOnAfterAccess(tx: EntityManager, connectionId: string): Promise<void> {
  const [selected] = await tx.execute<{ n: number }[]>(
    'select count(*)::int as n from provider_calendars where connection_id = ? and import_for_availability and removed_at is null',
    [connectionId],
  );
  await changeConnectionStatus(tx, connectionId, selected?.n ? 'importing' : 'awaiting_selection', {
    onlyFrom: ['pending_authorization', 'needs_reauth', 'error'],
  });
}

async function resumeRun(ctx: ConnectionCommandContext, connection: CalendarConnectionRow): Promise<void> {
  await signalConnectionRun(ctx.temporal, ctx.config, connection, reconnectSignal);
  await retryPendingInvites(ctx.temporal, ctx.em, connection.userId);
}

function oauthProvider(config: Config, provider: OAuthProviderKind) {
  const module = providerModules[provider];
  const settings = module?.oauth?.settings(config) ?? null;
  if (!module?.oauth || !settings)
    throw new AppError(
      422,
      'provider_not_configured',
      `${LABELS[provider]} is not configured on this server: its OAuth client id and secret are not set.`,
    );
  return { module: module.oauth, connectBody: module.connectBody, settings };
}

function parseBody(connectBody: z.ZodObject, request: ConnectRequest): { redirectUri: string | null } {
  const { provider: _provider, ...fields } = request;
  const body = connectBody.strict().safeParse(fields);
  if (!body.success) throw validationFailed(toFieldProblems(body.error));
  const redirectUri = (body.data as { redirectUri?: unknown }).redirectUri;
  return { redirectUri: redirectUri ? String(redirectUri) : null };
}

/** A failed exchange or refresh, for the person at the browser (never the provider's own words). */
function oauthError(provider: OAuthProviderKind, error: unknown): AppError {
  if (error instanceof CredentialsRejectedError)
    return new AppError(
      422,
      'invalid_credentials',
      `${LABELS[provider]} did not accept this sign-in: ${error.message}. Start again from Calbridge.`,
    );
  return toVerificationError(error);
}

const stateAad = (stateHash: string) => `oauth_states:${stateHash}`;
