/**
 * What a user can do with a calendar connection. The API's routes (and later the web pages) call
 * exactly one of these; each checks ownership, changes PostgreSQL in one transaction, tells the
 * connection's run, and returns the connection as it now is.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { retryPendingInvites } from '../bookings/runs.ts';
import type { CalendarConnectionRow } from '../db/entities/connection.ts';
import { CalendarConnection } from '../db/entities/index.ts';
import { pgArray } from '../db/sql.ts';
import { isOAuthProvider, type ProviderKind, type SyncDirection } from '../domain/connection.ts';
import { isRemovalStatus, REMOVAL_STATUSES } from '../domain/connection-status.ts';
import {
  AppError,
  type FieldProblem,
  invalidState,
  toFieldProblems,
  validationFailed,
} from '../domain/errors.ts';
import type { Config } from '../platform/config.ts';
import { hashToken } from '../platform/crypto.ts';
import { providerModules } from '../providers/registry.ts';
import {
  calendarsSavedSignal,
  reconnectSignal,
  removeSignal,
  settingsChangedSignal,
  syncNowSignal,
} from '../workflows/connection.ts';
import { connectionWorkflowId } from '../workflows/ids.ts';
import {
  applyCalendarSelection,
  type CalendarSelection,
  liveCalendars,
  recordCalendarListing,
} from './calendars.ts';
import { sealCredentials } from './credentials.ts';
import { type AuthorizingView, reconnectAuthorization, startAuthorization } from './oauth.ts';
import { type ConnectionRun, signalConnectionRun, startConnectionRun } from './runs.ts';
import { changeConnectionStatus } from './status.ts';
import { verifyAndList } from './verify.ts';
import { type ConnectionView, connectionView, findOwnedConnection } from './views.ts';

export interface ConnectionCommandContext {
  /** The caller's unit of work (one per HTTP request). */
  em: EntityManager;
  config: Config;
  temporal: Client;
}

/** A create or reconnect request: the provider and that provider's own fields, not yet checked. */
export interface ConnectRequest {
  provider: ProviderKind;
  [field: string]: unknown;
}

/** Links an account: verifies access, stores the sealed credentials and calendars, starts its run. */
export async function linkConnection(
  ctx: ConnectionCommandContext,
  userId: string,
  request: ConnectRequest,
): Promise<AuthorizingView> {
  if (isOAuthProvider(request.provider)) return startAuthorization(ctx, userId, request.provider, request);
  const { em, config } = ctx;
  const { kind, stored } = parseConnectRequest(config, request);
  const accountIdentity = hashToken(stored.identity);
  const existing = await em.findOne(CalendarConnection, {
    userId,
    provider: kind,
    accountIdentity,
    status: { $ne: 'removed' },
  });
  if (existing) throw alreadyLinked(existing.id);
  const verified = await verifyAndList(config, { provider: kind, ...stored });

  const id = randomUUID();
  const run: ConnectionRun = {
    id,
    userId,
    provider: kind,
    status: 'awaiting_selection',
    workflowId: connectionWorkflowId(id),
  };
  await em
    .transactional(async (tx) => {
      tx.create(CalendarConnection, {
        id,
        accountIdentity,
        userId,
        provider: kind,
        accountEmail: verified.accountEmail ?? stored.accountEmail,
        serverUrl: stored.serverUrl,
        status: run.status,
        credentials: sealCredentials(config, id, stored.credentials),
        workflowId: run.workflowId,
      });
      await tx.flush();
      await recordCalendarListing(tx, { id, userId }, verified.calendars);
    })
    .catch((error) => {
      // A concurrent request linked the same account first (unique index on the identity).
      if (error instanceof UniqueConstraintViolationException) throw alreadyLinked(null);
      throw error;
    });
  try {
    await startConnectionRun(ctx.temporal, config, run);
  } catch (error) {
    // Nothing is kept from a failed attempt.
    await em.nativeDelete(CalendarConnection, { id });
    throw error;
  }
  return connectionView(em, id);
}

/**
 * Save: which calendars count for availability, and optionally the user's primary calendar. The
 * import of newly selected calendars starts in the background.
 */
export async function saveCalendarSelection(
  ctx: ConnectionCommandContext,
  userId: string,
  connectionId: string,
  selection: CalendarSelection,
): Promise<ConnectionView> {
  const { em } = ctx;
  const connection = await findLiveConnection(em, userId, connectionId);
  const calendars = await liveCalendars(em, connection.id);
  const problems = selectionProblems(calendars, selection);
  if (problems.length) throw validationFailed(problems);
  await em.transactional(async (tx) => {
    const anySelected = await applyCalendarSelection(tx, userId, calendars, selection);
    if (anySelected)
      await changeConnectionStatus(tx, connection.id, 'importing', { onlyFrom: ['awaiting_selection'] });
  });
  await signalConnectionRun(ctx.temporal, ctx.config, connection, calendarsSavedSignal);
  return connectionView(em, connection.id);
}

/** The sync direction for changes from now on. */
export async function changeSyncDirection(
  ctx: ConnectionCommandContext,
  userId: string,
  connectionId: string,
  syncDirection: SyncDirection,
): Promise<ConnectionView> {
  const { em } = ctx;
  const connection = await findLiveConnection(em, userId, connectionId);
  if (syncDirection === 'outbound' && providerModules[connection.provider]?.readOnly)
    throw validationFailed([
      {
        path: 'syncDirection',
        message: `${connection.provider} calendars are read-only: nothing can be written to them, so the direction cannot be outbound`,
      },
    ]);
  if (connection.syncDirection !== syncDirection) {
    await em.nativeUpdate(CalendarConnection, { id: connection.id }, { syncDirection });
    await signalConnectionRun(ctx.temporal, ctx.config, connection, settingsChangedSignal);
  }
  return connectionView(em, connection.id);
}

/** "Synchronize now": a one-off pass in `direction`, run in the background. */
export async function requestSync(
  ctx: ConnectionCommandContext,
  userId: string,
  connectionId: string,
  direction: SyncDirection,
): Promise<{ workflowId: string }> {
  const connection = await findLiveConnection(ctx.em, userId, connectionId);
  await signalConnectionRun(ctx.temporal, ctx.config, connection, syncNowSignal, { direction });
  return { workflowId: connection.workflowId };
}

/**
 * Replaces the credentials (verified first; on failure the old ones stay) and lets the run resume
 * where it stopped. Allowed in any status but `removed`.
 */
export async function reconnectConnection(
  ctx: ConnectionCommandContext,
  userId: string,
  connectionId: string,
  body: Omit<ConnectRequest, 'provider'> & { provider?: ProviderKind },
): Promise<AuthorizingView> {
  const { em, config } = ctx;
  const connection = await findOwnedConnection(em, userId, connectionId);
  if (connection.status === 'removed') throw removedAlready();
  const request: ConnectRequest = { ...body, provider: body.provider ?? connection.provider };
  if (request.provider !== connection.provider)
    throw validationFailed([
      { path: 'provider', message: `must be ${connection.provider}, the provider of this connection` },
    ]);
  if (isOAuthProvider(connection.provider)) {
    if (isRemovalStatus(connection.status)) throw removedAlready();
    return reconnectAuthorization(ctx, userId, connection, request);
  }
  const { kind, stored } = parseConnectRequest(config, request);
  const verified = await verifyAndList(config, { provider: kind, ...stored });
  await em
    .transactional(async (tx) => {
      const updated = await tx.execute<{ id: string }[]>(
        `update calendar_connections set credentials = ?, credentials_version = credentials_version + 1,
           server_url = ?, account_email = ?, account_identity = ?, status_reason = null, updated_at = now()
         where id = ? and status <> all(?::text[]) returning id`,
        [
          sealCredentials(config, connection.id, stored.credentials),
          stored.serverUrl,
          verified.accountEmail ?? stored.accountEmail,
          hashToken(stored.identity),
          connection.id,
          pgArray(REMOVAL_STATUSES),
        ],
      );
      // The user removed it while we were verifying: never store credentials on a removed connection.
      if (!updated.length) throw removedAlready();
      // Verified credentials end a parked state now; the run rediscovers and syncs from here.
      const selected = (await liveCalendars(tx, connection.id)).some((cal) => cal.importForAvailability);
      await changeConnectionStatus(tx, connection.id, selected ? 'importing' : 'awaiting_selection', {
        onlyFrom: ['needs_reauth', 'error'],
      });
    })
    .catch((error) => {
      // The new credentials are another account this user has already linked.
      if (error instanceof UniqueConstraintViolationException) throw alreadyLinked(null);
      throw error;
    });
  await signalConnectionRun(ctx.temporal, config, connection, reconnectSignal);
  await retryPendingInvites(ctx.temporal, em, userId);
  return connectionView(em, connection.id);
}

/** Removal: the run stops syncing and deletes everything imported, in the background. */
export async function removeConnection(
  ctx: ConnectionCommandContext,
  userId: string,
  connectionId: string,
): Promise<ConnectionView> {
  const { em } = ctx;
  const connection = await findOwnedConnection(em, userId, connectionId);
  if (connection.status !== 'removed') {
    connection.status = await changeConnectionStatus(em, connection.id, 'removing');
    await signalConnectionRun(ctx.temporal, ctx.config, connection, removeSignal);
  }
  return connectionView(em, connection.id);
}

/** The caller's connection, which must not be (being) removed. */
async function findLiveConnection(
  em: EntityManager,
  userId: string,
  connectionId: string,
): Promise<CalendarConnectionRow> {
  const connection = await findOwnedConnection(em, userId, connectionId);
  if (isRemovalStatus(connection.status)) throw invalidState('This connection is being removed.');
  return connection;
}

/** Checks the provider's own fields with its module, and turns them into what is stored. */
function parseConnectRequest(config: Config, request: ConnectRequest) {
  const { provider, ...fields } = request;
  const module = providerModules[provider];
  if (!module?.toStored) {
    const message = `${provider} connections are not available on this server yet`;
    throw validationFailed([{ path: 'provider', message }], `${message}.`);
  }
  const parsed = module.connectBody.strict().safeParse(fields);
  if (!parsed.success) throw validationFailed(toFieldProblems(parsed.error));
  return { kind: module.kind, stored: module.toStored(parsed.data, config) };
}

function selectionProblems(
  calendars: { id: string; readOnly: boolean }[],
  selection: CalendarSelection,
): FieldProblem[] {
  const byId = new Map(calendars.map((cal) => [cal.id, cal]));
  const problems = selection.calendars.flatMap((entry, i) =>
    byId.has(entry.id)
      ? []
      : [{ path: `calendars.${i}.id`, message: 'is not a calendar of this connection' }],
  );
  if (new Set(selection.calendars.map((e) => e.id)).size !== selection.calendars.length)
    problems.push({ path: 'calendars', message: 'lists a calendar twice' });
  if (selection.primaryCalendarId) {
    const primary = byId.get(selection.primaryCalendarId);
    if (!primary)
      problems.push({ path: 'primaryCalendarId', message: 'is not a calendar of this connection' });
    else if (primary.readOnly)
      problems.push({
        path: 'primaryCalendarId',
        message: 'is read-only and cannot be the primary calendar',
      });
  }
  return problems;
}

export const alreadyLinked = (connectionId: string | null) =>
  new AppError(
    409,
    'already_exists',
    'This account is already linked.',
    connectionId ? { connectionId } : undefined,
  );

const removedAlready = () => invalidState('This connection was removed; link the account again instead.');
