/** Users (calendar providers), their API tokens and their working-hours schedule. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApiToken, User } from '../../db/entities/index.ts';
import { notFound, validationFailed } from '../../domain/errors.ts';
import { hashToken, newToken } from '../../platform/crypto.ts';
import { text } from '../../platform/validation.ts';
import { createUser, newUserInput, userView as toUserView } from '../../users/accounts.ts';
import { readSchedule, saveSchedule, scheduleInput } from '../../users/schedule.ts';
import { canSee, requireUser } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';
import { decodeCursor, encodeCursor, isoInstant, listQuery, page } from '../schemas.ts';

const zoneView = z.string().meta({ description: 'IANA time zone name in its canonical spelling.' });
const userView = z.object({ id: z.email(), email: z.email(), name: z.string(), timeZone: zoneView });
const newTokenView = z.object({
  apiToken: z.string().meta({ description: 'The bearer token; shown only in this response.' }),
  tokenId: z.uuid().meta({ description: 'Names the token for GET and DELETE /v1/users/{id}/tokens.' }),
});
const createdUserView = userView.extend(newTokenView.shape);
const tokenView = z.object({
  id: z.uuid(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
});
const userParams = z.object({ id: text(254).min(1) });
const tokensAfter = z.object({ createdAt: isoInstant, id: z.uuid() });

const scheduleView = z.object({
  timeZone: zoneView,
  weekly: z.record(z.string(), z.array(z.object({ start: z.string(), end: z.string() }))),
  overrides: z.array(
    z.object({ date: z.string(), intervals: z.array(z.object({ start: z.string(), end: z.string() })) }),
  ),
});

export function registerUserRoutes(api: ApiRoutes, ctx: ApiContext): void {
  api.add(
    {
      method: 'post',
      path: '/v1/users',
      summary: 'Create a user (calendar provider); returns their first API token once.',
      tag: 'Users',
      access: 'admin',
      body: newUserInput,
      responses: {
        201: { description: 'Created.', schema: createdUserView },
        409: { description: 'A user with this e-mail exists (already_exists).' },
      },
    },
    async ({ req, body }) => ({ status: 201, body: await createUser(ctx.em(req), body) }),
  );

  api.add(
    {
      method: 'get',
      path: '/v1/users/:id',
      summary: 'Read a user (admin, or the user themself).',
      tag: 'Users',
      access: 'any',
      params: userParams,
      responses: {
        200: { description: 'The user.', schema: userView },
        404: { description: 'No such user.' },
      },
    },
    async ({ req, params, caller }) => {
      const id = params.id.toLowerCase();
      if (!canSee(caller, id)) throw notFound('User');
      const user = await ctx.em(req).findOne(User, { id });
      if (!user) throw notFound('User');
      return { status: 200, body: toUserView(user) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/users/:id/tokens',
      summary: 'Issue another API token for a user; the token is shown once.',
      tag: 'Users',
      access: 'admin',
      params: userParams,
      responses: {
        201: { description: 'Created.', schema: newTokenView },
        404: { description: 'No such user.' },
      },
    },
    async ({ req, params }) => {
      const em = ctx.em(req);
      const id = params.id.toLowerCase();
      if (!(await em.findOne(User, { id }))) throw notFound('User');
      const apiToken = newToken('cbu');
      const tokenId = randomUUID();
      em.create(ApiToken, { id: tokenId, userId: id, tokenHash: hashToken(apiToken) });
      await em.flush();
      return { status: 201, body: { apiToken, tokenId } };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/users/:id/tokens',
      summary:
        "A user's API tokens, newest first: ids and use, never the tokens (admin, or the user themself).",
      tag: 'Users',
      access: 'any',
      params: userParams,
      query: listQuery,
      responses: {
        200: { description: 'A page of tokens.', schema: page(tokenView) },
        404: { description: 'No such user.' },
      },
    },
    async ({ req, params, query, caller }) => {
      const em = ctx.em(req);
      const userId = params.id.toLowerCase();
      if (!canSee(caller, userId) || !(await em.findOne(User, { id: userId }))) throw notFound('User');
      const after = decodeCursor(query.cursor, tokensAfter);
      if (query.cursor && !after)
        throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API issued' }]);
      const rows = await em.find(
        ApiToken,
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
      const items = rows.slice(0, query.limit).map((token) => ({
        id: token.id,
        createdAt: token.createdAt.toISOString(),
        lastUsedAt: token.lastUsedAt ? token.lastUsedAt.toISOString() : null,
      }));
      const last = rows.length > query.limit ? items.at(-1) : undefined;
      return {
        status: 200,
        body: { items, nextCursor: last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null },
      };
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/v1/users/:id/tokens/:tokenId',
      summary: "Revoke one of a user's API tokens: it stops working at once (admin, or the user themself).",
      tag: 'Users',
      access: 'any',
      params: userParams.extend({ tokenId: z.uuid({ message: 'must be a UUID' }) }),
      responses: {
        204: { description: 'Revoked.' },
        404: { description: 'No such user or token.' },
      },
    },
    async ({ req, params, caller }) => {
      const userId = params.id.toLowerCase();
      if (!canSee(caller, userId)) throw notFound('Token');
      // The authenticator looks every token up on each request, so a deleted one fails the next one.
      const deleted = await ctx.em(req).nativeDelete(ApiToken, { id: params.tokenId, userId });
      if (!deleted) throw notFound('Token');
      return { status: 204 };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/me',
      summary: 'The calling user.',
      tag: 'Users',
      access: 'user',
      responses: { 200: { description: 'The caller.', schema: userView } },
    },
    async ({ req, caller }) => {
      const user = await ctx.em(req).findOne(User, { id: requireUser(caller) });
      if (!user) throw notFound('User');
      return { status: 200, body: toUserView(user) };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/me/schedule',
      summary: "The caller's working hours (default Monday to Friday 09:00-17:00).",
      tag: 'Users',
      access: 'user',
      responses: { 200: { description: 'The schedule.', schema: scheduleView } },
    },
    async ({ req, caller }) => ({
      status: 200,
      body: await readSchedule(ctx.em(req), requireUser(caller)),
    }),
  );

  api.add(
    {
      method: 'put',
      path: '/v1/me/schedule',
      summary: "Replace the caller's working hours and date overrides.",
      tag: 'Users',
      access: 'user',
      body: scheduleInput,
      responses: { 200: { description: 'The saved schedule.', schema: scheduleView } },
    },
    async ({ req, caller, body }) => ({
      status: 200,
      body: await saveSchedule(ctx.em(req), requireUser(caller), body),
    }),
  );
}
