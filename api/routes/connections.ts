/** Calendar connections: each route parses, calls one use case in connections/, and returns its view. */
import { z } from 'zod';
import {
  changeSyncDirection,
  linkConnection,
  reconnectConnection,
  removeConnection,
  requestSync,
  saveCalendarSelection,
} from '../../connections/commands.ts';
import { connectAttemptLimit } from '../../connections/connect-attempts.ts';
import {
  type ConnectionView,
  findOwnedConnection,
  listConnections,
  listImportedEvents,
  connectionView as readConnectionView,
} from '../../connections/views.ts';
import {
  CALENDAR_WARNING_KINDS,
  IMPORT_STATUSES,
  IMPORTED_EVENT_STATUSES,
  PROVIDER_KINDS,
  SYNC_DIRECTIONS,
} from '../../domain/connection.ts';
import { CONNECTION_STATUSES } from '../../domain/connection-status.ts';
import { validationFailed } from '../../domain/errors.ts';
import { requireUser } from '../auth.ts';
import { type ApiContext, useCaseContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';
import { cursorParam, encodeCursor, instant, isoInstant, listQuery, page, uuidParam } from '../schemas.ts';

const direction = z.enum(SYNC_DIRECTIONS);

const calendarView = z.object({
  id: z.string(),
  name: z.string(),
  color: z.string().nullable(),
  readOnly: z.boolean(),
  importForAvailability: z.boolean(),
  isPrimary: z.boolean(),
  importStatus: z.enum(IMPORT_STATUSES),
  lastSyncedAt: z.string().nullable(),
  eventCount: z.number(),
  error: z.string().nullable(),
  warnings: z.array(
    z.object({
      objectKey: z.string().nullable(),
      kind: z.enum(CALENDAR_WARNING_KINDS),
      message: z.string(),
    }),
  ),
});
const connectionView: z.ZodType<ConnectionView> = z.object({
  id: z.string(),
  provider: z.enum(PROVIDER_KINDS),
  accountEmail: z.string().nullable(),
  status: z.enum(CONNECTION_STATUSES),
  statusReason: z.string().nullable(),
  syncDirection: direction,
  calendars: z.array(calendarView),
  lastSyncAt: z.string().nullable(),
  createdAt: z.string(),
  workflowId: z.string(),
});
/** Create and reconnect answers: OAuth providers add where to send the user for consent. */
const authorizingView = (connectionView as unknown as z.ZodObject).extend({
  authorizationUrl: z.string().optional().meta({
    description:
      'google/microsoft: open this consent page in the browser; the provider then calls GET /v1/oauth/{provider}/callback. Absent when no consent is needed.',
  }),
});
const eventView = z.object({
  id: z.string(),
  calendarId: z.string(),
  start: z.string(),
  end: z.string(),
  allDay: z.boolean(),
  busy: z.boolean(),
  status: z.enum(IMPORTED_EVENT_STATUSES),
  title: z.string().optional(),
});

/** The create/reconnect body: `provider` plus that provider's own fields (checked by its module). */
const connectBody = z
  .object({ provider: z.enum(PROVIDER_KINDS, { message: `must be one of ${PROVIDER_KINDS.join(', ')}` }) })
  .passthrough();

/** Reconnect may leave `provider` out: it is the connection's own (`{}` for Google and Microsoft). */
const reconnectBody = z
  .object({
    provider: z.enum(PROVIDER_KINDS, { message: `must be one of ${PROVIDER_KINDS.join(', ')}` }).optional(),
  })
  .passthrough();

const DAY_MS = 86_400_000;

export function registerConnectionRoutes(api: ApiRoutes, ctx: ApiContext): void {
  // Each attempt makes the server fetch a user-supplied URL: a per-user budget, shared with the pages.
  const limitConnectAttempts = connectAttemptLimit(ctx.config);

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
        201: {
          description:
            'Linked; status awaiting_selection. For google and microsoft: status pending_authorization with the authorizationUrl to send the user to.',
          schema: authorizingView,
        },
        409: { description: 'This account is already linked (already_exists).' },
        422: {
          description:
            'invalid_credentials, provider_unreachable, invalid_feed, destination_not_allowed, or provider_not_configured (no OAuth client for google/microsoft on this server). Nothing is kept.',
        },
        429: {
          description:
            'Too many connection attempts by this user, or the provider is rate limiting us (rate_limited); see Retry-After.',
        },
      },
    },
    async ({ req, res, caller, body }) => {
      await limitConnectAttempts(res, requireUser(caller));
      const view = await linkConnection(useCaseContext(ctx, req), requireUser(caller), body);
      return { status: 201, body: view, headers: { Location: `/v1/connections/${view.id}` } };
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
      const after = cursorParam(query.cursor, z.object({ createdAt: isoInstant, id: z.uuid() }));
      const result = await listConnections(ctx.em(req), requireUser(caller), { limit: query.limit, after });
      return {
        status: 200,
        body: { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null },
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
      const connection = await findOwnedConnection(em, requireUser(caller), params.id);
      return { status: 200, body: await readConnectionView(em, connection.id) };
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
    async ({ req, caller, params, body }) => ({
      status: 200,
      body: await saveCalendarSelection(useCaseContext(ctx, req), requireUser(caller), params.id, body),
    }),
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
        409: { description: 'The connection is being removed (invalid_state).' },
      },
    },
    async ({ req, caller, params, body }) => ({
      status: 200,
      body: await changeSyncDirection(
        useCaseContext(ctx, req),
        requireUser(caller),
        params.id,
        body.syncDirection,
      ),
    }),
  );

  api.add(
    {
      method: 'post',
      path: '/v1/connections/:id/sync',
      summary:
        'Synchronize now: a sync pass at once, run in the background. The requested direction is recorded on the run (its `status` query); moving old appointments comes with two-way sync.',
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
        409: { description: 'The connection is being removed (invalid_state).' },
      },
    },
    async ({ req, caller, params, body }) => {
      const run = await requestSync(useCaseContext(ctx, req), requireUser(caller), params.id, body.direction);
      return { status: 202, body: { accepted: true, direction: body.direction, workflowId: run.workflowId } };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/connections/:id/reconnect',
      summary:
        'Store new credentials (verified first) and resume sync where it stopped; OAuth providers take {} (or {"provider"}) alone.',
      tag: 'Connections',
      access: 'user',
      params: uuidParam,
      body: reconnectBody,
      responses: {
        200: {
          description:
            'Reconnected. For google and microsoft: resumed at once when the stored grant still works, else the authorizationUrl to consent again.',
          schema: authorizingView,
        },
        404: { description: 'Not found.' },
        409: { description: 'The connection was removed (invalid_state).' },
        422: { description: 'The new credentials were rejected; the old ones are kept.' },
        429: {
          description:
            'Too many connection attempts by this user, or the provider is rate limiting us (rate_limited); see Retry-After.',
        },
      },
    },
    async ({ req, res, caller, params, body }) => {
      await limitConnectAttempts(res, requireUser(caller));
      return {
        status: 200,
        body: await reconnectConnection(useCaseContext(ctx, req), requireUser(caller), params.id, body),
      };
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
    async ({ req, caller, params }) => ({
      status: 202,
      body: await removeConnection(useCaseContext(ctx, req), requireUser(caller), params.id),
    }),
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
      const connection = await findOwnedConnection(em, requireUser(caller), params.id);
      const from = query.from ?? new Date(Date.now() - 30 * DAY_MS);
      const to = query.to ?? new Date(Date.now() + 365 * DAY_MS);
      if (to <= from) throw validationFailed([{ path: 'to', message: 'must be after from' }]);
      const after = cursorParam(query.cursor, z.object({ start: isoInstant, id: z.uuid() }));
      const result = await listImportedEvents(em, connection, {
        from,
        to,
        calendarId: query.calendarId,
        limit: query.limit,
        after,
      });
      return {
        status: 200,
        body: { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null },
      };
    },
  );
}
