/** Calendar connections: link, select calendars, sync settings, reconnect, remove, inspect. */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { SearchAttributePair, SignalDefinition } from '@temporalio/common';
import { z } from 'zod';
import { openProvider, sealCredentials } from '../../connections/credentials.ts';
import type { CalendarConnectionRow } from '../../db/entities/connection.ts';
import { CalendarConnection, ProviderCalendar } from '../../db/entities/index.ts';
import { pgArray } from '../../db/sql.ts';
import type { ProviderKind } from '../../domain/connection.ts';
import { hashToken } from '../../platform/crypto.ts';
import type { ProviderCalendar as ListedCalendar } from '../../providers/contract.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  NotFoundError,
  ProviderError,
  ProviderUnreachableError,
  RateLimitedError,
} from '../../providers/errors.ts';
import { providerModules } from '../../providers/registry.ts';
import {
  calendarsSavedSignal,
  connectionWorkflow,
  reconnectSignal,
  removeSignal,
  settingsChangedSignal,
  syncNowSignal,
} from '../../workflows/connection.ts';
import { connectionWorkflowId } from '../../workflows/ids.ts';
import { CalbridgeProvider, CalbridgeStatus, CalbridgeUser } from '../../workflows/search-attributes.ts';
import { requireUser } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { AppError, invalidState, notFound, validationFailed } from '../errors.ts';
import { type ApiRoutes, toFieldProblems } from '../routing.ts';
import { decodeCursor, encodeCursor, instant, listQuery, page, uuidParam } from '../schemas.ts';

const VERIFY_TIMEOUT_MS = 15_000;
const providerKinds = ['google', 'microsoft', 'icloud', 'caldav', 'ics'] as const;
const direction = z.enum(['both', 'inbound', 'outbound']);

const calendarView = z.object({
  id: z.string(),
  name: z.string(),
  color: z.string().nullable(),
  readOnly: z.boolean(),
  importForAvailability: z.boolean(),
  isPrimary: z.boolean(),
  importStatus: z.enum(['idle', 'pending', 'importing', 'ready', 'error']),
  lastSyncedAt: z.string().nullable(),
  eventCount: z.number(),
  error: z.string().nullable(),
});
const connectionView = z.object({
  id: z.string(),
  provider: z.enum(providerKinds),
  accountEmail: z.string().nullable(),
  status: z.string(),
  statusReason: z.string().nullable(),
  syncDirection: direction,
  calendars: z.array(calendarView),
  lastSyncAt: z.string().nullable(),
  createdAt: z.string(),
  workflowId: z.string(),
  authorizationUrl: z.string().optional(),
});
const eventView = z.object({
  id: z.string(),
  calendarId: z.string(),
  start: z.string(),
  end: z.string(),
  allDay: z.boolean(),
  busy: z.boolean(),
  status: z.string(),
  title: z.string().optional(),
});

/** The create/reconnect body: `provider` plus that provider's own fields (from its module). */
const connectBody = z
  .object({ provider: z.enum(providerKinds, { message: `must be one of ${providerKinds.join(', ')}` }) })
  .passthrough();

function parseProviderBody(body: z.output<typeof connectBody>) {
  const module = providerModules[body.provider];
  if (!module) {
    throw validationFailed(
      [{ path: 'provider', message: `${body.provider} connections are not available on this server yet` }],
      `${body.provider} connections are not available on this server yet.`,
    );
  }
  const { provider: _, ...fields } = body;
  const parsed = module.connectBody.strict().safeParse(fields);
  if (!parsed.success) throw validationFailed(toFieldProblems(parsed.error));
  return { module, fields: parsed.data };
}

/** Verifies access and lists calendars within 15 s, mapping provider errors to the API's 422s. */
async function verifyAndList(
  ctx: ApiContext,
  parts: { provider: ProviderKind; serverUrl: string | null; credentials: Record<string, unknown> },
): Promise<{ accountEmail: string | null; calendars: ListedCalendar[] }> {
  const provider = openProvider(ctx.config, parts);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderUnreachableError('The provider did not answer within 15 seconds.')),
      VERIFY_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        const account = await provider.verifyAccess();
        return { accountEmail: account.accountEmail, calendars: await provider.listCalendars() };
      })(),
      timeout,
    ]);
  } catch (error) {
    throw providerErrorToApi(error);
  } finally {
    clearTimeout(timer);
  }
}

function providerErrorToApi(error: unknown): AppError {
  if (error instanceof CredentialsRejectedError)
    return new AppError(
      422,
      'invalid_credentials',
      'The provider rejected these credentials. Check the username and password (for iCloud, an app-specific password).',
    );
  if (error instanceof InvalidDataError)
    return new AppError(
      422,
      'invalid_feed',
      `The address answered, but not with a calendar: ${error.message}`,
    );
  if (error instanceof NotFoundError)
    return new AppError(422, 'provider_unreachable', `Nothing was found at that address: ${error.message}`);
  if (error instanceof RateLimitedError)
    return new AppError(
      429,
      'rate_limited',
      'The provider is rate limiting requests. Try again shortly.',
      error.retryAfterMs ? { retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) } : undefined,
    );
  if (error instanceof ProviderError)
    return new AppError(422, 'provider_unreachable', `The provider could not be reached: ${error.message}`);
  return new AppError(
    422,
    'provider_unreachable',
    `The provider could not be reached: ${(error as Error)?.message ?? 'unknown error'}`,
  );
}

type ConnectionRef = {
  id: string;
  userId: string;
  provider: ProviderKind;
  status: string;
  workflowId: string;
};

/** What an operator filters on in the Temporal UI. */
const searchAttributes = (
  c: Pick<ConnectionRef, 'userId' | 'provider' | 'status'>,
): SearchAttributePair[] => [
  { key: CalbridgeUser, value: c.userId },
  { key: CalbridgeProvider, value: c.provider },
  { key: CalbridgeStatus, value: c.status },
];

const alreadyLinked = (connectionId: string | null) =>
  new AppError(
    409,
    'already_exists',
    'This account is already linked.',
    connectionId ? { connectionId } : undefined,
  );

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The API view of connections, with their calendars read in one query however many there are. */
async function loadViews(em: EntityManager, connections: CalendarConnectionRow[]) {
  const calendars = connections.length
    ? await em.find(
        ProviderCalendar,
        { connectionId: { $in: connections.map((c) => c.id) }, removedAt: null },
        { orderBy: { name: 'asc', id: 'asc' } },
      )
    : [];
  return connections.map((c) => ({
    id: c.id,
    provider: c.provider,
    accountEmail: c.accountEmail ?? null,
    status: c.status,
    statusReason: c.statusReason ?? null,
    syncDirection: c.syncDirection,
    calendars: calendars
      .filter((cal) => cal.connectionId === c.id)
      .map((cal) => ({
        id: cal.id,
        name: cal.name,
        color: cal.color ?? null,
        readOnly: cal.readOnly,
        importForAvailability: cal.importForAvailability,
        isPrimary: cal.isPrimary,
        importStatus: cal.importStatus,
        lastSyncedAt: iso(cal.lastSyncedAt),
        eventCount: cal.eventCount,
        error: cal.error ?? null,
      })),
    lastSyncAt: iso(c.lastSyncAt),
    createdAt: c.createdAt.toISOString(),
    workflowId: c.workflowId,
  }));
}

async function loadView(em: EntityManager, connection: CalendarConnectionRow | { id: string }) {
  const c =
    'userId' in connection ? connection : await em.findOneOrFail(CalendarConnection, { id: connection.id });
  const [view] = await loadViews(em, [c]);
  return view!;
}

export function registerConnectionRoutes(api: ApiRoutes, ctx: ApiContext): void {
  /** The caller's connection, or 404 (also for another user's id). */
  const owned = async (em: EntityManager, userId: string, id: string) => {
    const c = await em.findOne(CalendarConnection, { id, userId });
    if (!c) throw notFound('Connection');
    return c;
  };

  /** The caller's connection, which must not be (being) removed: 409 invalid_state otherwise. */
  const ownedLive = async (em: EntityManager, userId: string, id: string) => {
    const c = await owned(em, userId, id);
    if (c.status === 'removing' || c.status === 'removed')
      throw invalidState('This connection is being removed.');
    return c;
  };

  /** Delivers a signal, starting the workflow again if its run has ended (so no request is lost). */
  const signal = async <Args extends unknown[]>(
    c: ConnectionRef,
    def: SignalDefinition<Args>,
    ...signalArgs: Args
  ) => {
    const options = {
      workflowId: c.workflowId,
      taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
      args: [{ connectionId: c.id }],
      signal: def,
      signalArgs,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: searchAttributes(c),
    };
    // The SDK's option type is conditional on the signal's arity, which a generic Args cannot resolve.
    await ctx.temporal.workflow.signalWithStart(connectionWorkflow, options as never);
  };

  api.add(
    {
      method: 'post',
      path: '/v1/connections',
      summary:
        'Link a calendar account. For icloud, caldav and ics the call verifies access and lists the calendars (up to 15 s) before answering.',
      tag: 'Connections',
      access: 'user',
      body: connectBody,
      responses: {
        201: { description: 'Linked; status awaiting_selection.', schema: connectionView },
        409: { description: 'This account is already linked (already_exists).' },
        422: { description: 'invalid_credentials, provider_unreachable or invalid_feed. Nothing is kept.' },
      },
    },
    async ({ req, caller, body }) => {
      const userId = requireUser(caller);
      const { module, fields } = parseProviderBody(body);
      const stored = module.toStored(fields, ctx.config);
      const em = ctx.em(req);
      const accountIdentity = hashToken(stored.identity);
      const existing = await em.findOne(CalendarConnection, {
        userId,
        provider: module.kind,
        accountIdentity,
        status: { $ne: 'removed' },
      });
      if (existing) throw alreadyLinked(existing.id);
      const verified = await verifyAndList(ctx, { provider: module.kind, ...stored });
      const id = randomUUID();
      const workflowId = connectionWorkflowId(id);
      await em
        .transactional(async (tx) => {
          tx.create(CalendarConnection, {
            id,
            accountIdentity,
            userId,
            provider: module.kind,
            accountEmail: verified.accountEmail ?? stored.accountEmail,
            serverUrl: stored.serverUrl,
            status: 'awaiting_selection',
            credentials: sealCredentials(ctx.config, id, stored.credentials),
            workflowId,
          });
          for (const cal of verified.calendars) {
            tx.create(ProviderCalendar, {
              id: randomUUID(),
              connectionId: id,
              userId,
              externalId: cal.externalId,
              name: cal.name,
              color: cal.color,
              readOnly: cal.readOnly,
              providerPrimary: cal.providerPrimary,
            });
          }
        })
        .catch((error) => {
          // A concurrent request linked the same account first (unique index on the identity).
          if (error instanceof UniqueConstraintViolationException) throw alreadyLinked(null);
          throw error;
        });
      try {
        await ctx.temporal.workflow.start(connectionWorkflow, {
          workflowId,
          taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
          args: [{ connectionId: id }],
          typedSearchAttributes: searchAttributes({
            userId,
            provider: module.kind,
            status: 'awaiting_selection',
          }),
        });
      } catch (error) {
        // Nothing is kept from a failed attempt.
        await em.nativeDelete(CalendarConnection, { id });
        throw error;
      }
      return {
        status: 201,
        body: await loadView(em, { id }),
        headers: { Location: `/v1/connections/${id}` },
      };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/connections',
      summary: "The caller's connections, newest first.",
      tag: 'Connections',
      access: 'user',
      query: listQuery,
      responses: { 200: { description: 'A page of connections.', schema: page(connectionView) } },
    },
    async ({ req, caller, query }) => {
      const userId = requireUser(caller);
      const em = ctx.em(req);
      const after = decodeCursor(query.cursor, z.object({ createdAt: z.string(), id: z.string() }));
      if (query.cursor && !after)
        throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API issued' }]);
      const rows = await em.find(
        CalendarConnection,
        {
          userId,
          ...(after
            ? {
                $or: [
                  { createdAt: { $lt: new Date(after.createdAt) } },
                  { createdAt: new Date(after.createdAt), id: { $lt: after.id } },
                ],
              }
            : {}),
        },
        { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.limit + 1 },
      );
      const items = await loadViews(em, rows.slice(0, query.limit));
      const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
      return {
        status: 200,
        body: {
          items,
          nextCursor: last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null,
        },
      };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/connections/:id',
      summary: 'One connection with its calendars and their import status.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      responses: {
        200: { description: 'The connection.', schema: connectionView },
        404: { description: 'Not found.' },
      },
    },
    async ({ req, caller, params }) => {
      const em = ctx.em(req);
      return { status: 200, body: await loadView(em, await owned(em, requireUser(caller), params.id)) };
    },
  );

  api.add(
    {
      method: 'put',
      path: '/v1/connections/:id/calendars',
      summary:
        'Save: choose which calendars count for availability and (optionally) the primary calendar; the import starts in the background.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      body: z.object({
        calendars: z.array(z.object({ id: z.uuid(), importForAvailability: z.boolean() })).max(500),
        primaryCalendarId: z.uuid().nullable().optional(),
      }),
      responses: {
        200: { description: 'Saved.', schema: connectionView },
        404: { description: 'Not found.' },
        409: { description: 'The connection is being removed (invalid_state).' },
      },
    },
    async ({ req, caller, params, body }) => {
      const userId = requireUser(caller);
      const em = ctx.em(req);
      const c = await ownedLive(em, userId, params.id);
      const calendars = await em.find(ProviderCalendar, { connectionId: c.id, removedAt: null });
      const byId = new Map(calendars.map((cal) => [cal.id, cal]));
      const problems = body.calendars.flatMap((entry, i) =>
        byId.has(entry.id)
          ? []
          : [{ path: `calendars.${i}.id`, message: 'is not a calendar of this connection' }],
      );
      if (new Set(body.calendars.map((e) => e.id)).size !== body.calendars.length)
        problems.push({ path: 'calendars', message: 'lists a calendar twice' });
      if (body.primaryCalendarId) {
        const primary = byId.get(body.primaryCalendarId);
        if (!primary)
          problems.push({ path: 'primaryCalendarId', message: 'is not a calendar of this connection' });
        else if (primary.readOnly)
          problems.push({
            path: 'primaryCalendarId',
            message: 'is read-only and cannot be the primary calendar',
          });
      }
      if (problems.length) throw validationFailed(problems);

      const turnedOff: string[] = [];
      await em.transactional(async (tx) => {
        for (const entry of body.calendars) {
          const cal = byId.get(entry.id)!;
          if (entry.importForAvailability && !cal.importForAvailability) {
            cal.importForAvailability = true;
            cal.importStatus = 'pending';
            cal.error = null;
          } else if (!entry.importForAvailability && cal.importForAvailability) {
            cal.importForAvailability = false;
            cal.importStatus = 'idle';
            turnedOff.push(cal.id);
          }
        }
        if (body.primaryCalendarId !== undefined) {
          // At most one primary per user, across all connections (a partial unique index backs this).
          await tx.nativeUpdate(ProviderCalendar, { userId, isPrimary: true }, { isPrimary: false });
          await tx.flush();
          for (const cal of calendars) cal.isPrimary = cal.id === body.primaryCalendarId;
        }
        // The workflow writes this row too: update only the column, and only from the state we expect.
        if (calendars.some((cal) => cal.importForAvailability))
          await tx.nativeUpdate(
            CalendarConnection,
            { id: c.id, status: 'awaiting_selection' },
            { status: 'importing' },
          );
      });
      // Busy time of a calendar that no longer counts disappears at once, not at the next pass.
      if (turnedOff.length) {
        await em.execute('delete from imported_events where calendar_id = any(?::uuid[])', [
          pgArray(turnedOff),
        ]);
        await em.execute('update provider_calendars set event_count = 0 where id = any(?::uuid[])', [
          pgArray(turnedOff),
        ]);
      }
      await signal(c, calendarsSavedSignal);
      em.clear();
      return { status: 200, body: await loadView(em, { id: c.id }) };
    },
  );

  api.add(
    {
      method: 'patch',
      path: '/v1/connections/:id',
      summary: 'Change the sync direction (applies to changes from now on).',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      body: z.object({ syncDirection: direction }).strict(),
      responses: {
        200: { description: 'Updated.', schema: connectionView },
        404: { description: 'Not found.' },
      },
    },
    async ({ req, caller, params, body }) => {
      const em = ctx.em(req);
      const c = await ownedLive(em, requireUser(caller), params.id);
      if (c.syncDirection !== body.syncDirection) {
        await em.nativeUpdate(CalendarConnection, { id: c.id }, { syncDirection: body.syncDirection });
        c.syncDirection = body.syncDirection;
        await signal(c, settingsChangedSignal);
      }
      return { status: 200, body: await loadView(em, c) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/connections/:id/sync',
      summary: 'Synchronize now: a one-off transfer in the given direction, run in the background.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      body: z.object({ direction: direction.default('both') }),
      responses: {
        202: {
          description: 'Accepted.',
          schema: z.object({ accepted: z.literal(true), direction, workflowId: z.string() }),
        },
        404: { description: 'Not found.' },
        409: { description: 'Removed, or no calendar selected yet (invalid_state).' },
      },
    },
    async ({ req, caller, params, body }) => {
      const em = ctx.em(req);
      const c = await ownedLive(em, requireUser(caller), params.id);
      await signal(c, syncNowSignal, { direction: body.direction });
      return { status: 202, body: { accepted: true, direction: body.direction, workflowId: c.workflowId } };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/connections/:id/reconnect',
      summary: 'Store new credentials (verified first) and resume sync where it stopped.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      body: connectBody,
      responses: {
        200: { description: 'Reconnected.', schema: connectionView },
        404: { description: 'Not found.' },
        409: { description: 'The connection was removed (invalid_state).' },
        422: { description: 'The new credentials were rejected; the old ones are kept.' },
      },
    },
    async ({ req, caller, params, body }) => {
      const em = ctx.em(req);
      const c = await owned(em, requireUser(caller), params.id);
      if (c.status === 'removed')
        throw invalidState('This connection was removed; link the account again instead.');
      if (body.provider !== c.provider)
        throw validationFailed([
          { path: 'provider', message: `must be ${c.provider}, the provider of this connection` },
        ]);
      const { module, fields } = parseProviderBody(body);
      const stored = module.toStored(fields, ctx.config);
      const verified = await verifyAndList(ctx, { provider: module.kind, ...stored });
      await em.execute(
        `update calendar_connections set credentials = ?, credentials_version = credentials_version + 1, server_url = ?,
           account_email = ?, status_reason = null, updated_at = now() where id = ?`,
        [
          sealCredentials(ctx.config, c.id, stored.credentials),
          stored.serverUrl,
          verified.accountEmail ?? stored.accountEmail,
          c.id,
        ],
      );
      await em.refresh(c);
      await signal(c, reconnectSignal);
      return { status: 200, body: await loadView(em, c) };
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/v1/connections/:id',
      summary:
        'Remove: sync stops and every event imported through this connection is deleted, in the background.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      responses: {
        202: { description: 'Removal started.', schema: connectionView },
        404: { description: 'Not found.' },
      },
    },
    async ({ req, caller, params }) => {
      const em = ctx.em(req);
      const c = await owned(em, requireUser(caller), params.id);
      if (c.status !== 'removed') {
        if (c.status !== 'removing') {
          await em.nativeUpdate(CalendarConnection, { id: c.id }, { status: 'removing' });
          c.status = 'removing';
        }
        await signal(c, removeSignal);
      }
      return { status: 202, body: await loadView(em, c) };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/connections/:id/events',
      summary: 'Imported events overlapping [from, to) (for operations and debugging).',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      query: listQuery.extend({
        from: instant.optional(),
        to: instant.optional(),
        calendarId: z.uuid().optional(),
      }),
      responses: {
        200: { description: 'A page of events, by start time.', schema: page(eventView) },
        404: { description: 'Not found.' },
      },
    },
    async ({ req, caller, params, query }) => {
      const em = ctx.em(req);
      const c = await owned(em, requireUser(caller), params.id);
      const from = query.from ?? new Date(Date.now() - 30 * 86_400_000);
      const to = query.to ?? new Date(Date.now() + 365 * 86_400_000);
      if (to <= from) throw validationFailed([{ path: 'to', message: 'must be after from' }]);
      const after = decodeCursor(query.cursor, z.object({ start: z.string(), id: z.string() }));
      if (query.cursor && !after)
        throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API issued' }]);
      const rows = await em.execute<
        {
          id: string;
          calendar_id: string;
          start_at: Date;
          end_at: Date;
          all_day: boolean;
          busy: boolean;
          status: string;
          title: string | null;
        }[]
      >(
        `select e.id, e.calendar_id, e.start_at, e.end_at, e.all_day, e.busy, e.status, e.title
           from imported_events e join provider_calendars pc on pc.id = e.calendar_id
          where pc.connection_id = ? and e.user_id = ? and e.during && tstzrange(?, ?, '[)')
            and (?::uuid is null or e.calendar_id = ?::uuid)
            and (?::timestamptz is null or (e.start_at, e.id) > (?::timestamptz, ?::uuid))
          order by e.start_at, e.id limit ?`,
        [
          c.id,
          c.userId,
          from,
          to,
          query.calendarId ?? null,
          query.calendarId ?? null,
          after?.start ?? null,
          after?.start ?? null,
          after?.id ?? null,
          query.limit + 1,
        ],
      );
      const items = rows.slice(0, query.limit).map((r) => ({
        id: r.id,
        calendarId: r.calendar_id,
        start: new Date(r.start_at).toISOString(),
        end: new Date(r.end_at).toISOString(),
        allDay: r.all_day,
        busy: r.busy,
        status: r.status,
        ...(r.title ? { title: r.title } : {}),
      }));
      const last = rows.length > query.limit ? items[items.length - 1] : undefined;
      return {
        status: 200,
        body: { items, nextCursor: last ? encodeCursor({ start: last.start, id: last.id }) : null },
      };
    },
  );
}
