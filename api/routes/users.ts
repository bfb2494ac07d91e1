/** Users (calendar providers), their API tokens and their working-hours schedule. */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { z } from 'zod';
import { ApiToken, Schedule, User } from '../../db/entities/index.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { type DateOverride, defaultWeeklyHours, WEEKDAYS, type WeeklyHours } from '../../domain/schedule.ts';
import { hashToken, newToken } from '../../platform/crypto.ts';
import { canSee, requireUser } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';
import { email, timeZone } from '../schemas.ts';

const userView = z.object({ id: z.string(), email: z.string(), name: z.string(), timeZone: z.string() });
const createdUserView = userView.extend({ apiToken: z.string() });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
const interval = z
  .object({ start: hhmm, end: hhmm })
  .refine((i) => i.start < i.end, { message: 'start must be before end', path: ['end'] });
const intervals = z
  .array(interval)
  .max(48)
  .superRefine((list, ctx) => {
    const sorted = [...list].sort((a, b) => a.start.localeCompare(b.start));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start < sorted[i - 1]!.end)
        ctx.addIssue({ code: 'custom', message: 'intervals must not overlap' });
    }
  });
const weekday = z.enum(WEEKDAYS);
const isoDate = z.iso.date({ message: 'must be a date such as 2026-12-24' });

export const scheduleBody = z.object({
  timeZone,
  weekly: z.partialRecord(weekday, intervals),
  overrides: z
    .array(z.object({ date: isoDate, intervals }))
    .max(1000)
    .default([])
    .refine(
      (list) => new Set(list.map((o) => o.date)).size === list.length,
      'each date may appear only once',
    ),
});
const scheduleView = z.object({
  timeZone: z.string(),
  weekly: z.record(z.string(), z.array(z.object({ start: z.string(), end: z.string() }))),
  overrides: z.array(
    z.object({ date: z.string(), intervals: z.array(z.object({ start: z.string(), end: z.string() })) }),
  ),
});

type UserRow = { id: string; email: string; name: string; timeZone: string };
const toView = (u: UserRow) => ({ id: u.id, email: u.email, name: u.name, timeZone: u.timeZone });

export function registerUserRoutes(api: ApiRoutes, ctx: ApiContext): void {
  api.add(
    {
      method: 'post',
      path: '/v1/users',
      summary: 'Create a user (calendar provider); returns their first API token once.',
      tag: 'Users',
      access: 'admin',
      body: z.object({ email, name: z.string().trim().min(1).max(200), timeZone }),
      responses: {
        201: { description: 'Created.', schema: createdUserView },
        409: { description: 'A user with this e-mail exists (already_exists).' },
      },
    },
    async ({ req, body }) => {
      const em = ctx.em(req);
      const id = body.email.toLowerCase();
      const apiToken = newToken('cbu');
      try {
        await em.transactional(async (tx) => {
          tx.create(User, { id, email: id, name: body.name, timeZone: body.timeZone });
          tx.create(ApiToken, { id: randomUUID(), userId: id, tokenHash: hashToken(apiToken) });
          tx.create(Schedule, {
            userId: id,
            timeZone: body.timeZone,
            weekly: defaultWeeklyHours(),
            overrides: [],
          });
        });
      } catch (error) {
        if (error instanceof UniqueConstraintViolationException)
          throw new AppError(409, 'already_exists', `A user with the e-mail ${id} already exists.`);
        throw error;
      }
      return { status: 201, body: { id, email: id, name: body.name, timeZone: body.timeZone, apiToken } };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/users/:id',
      summary: 'Read a user (admin, or the user themself).',
      tag: 'Users',
      access: 'any',
      params: z.object({ id: z.string().min(1).max(254) }),
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
      return { status: 200, body: toView(user) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/users/:id/tokens',
      summary: 'Issue another API token for a user; the token is shown once.',
      tag: 'Users',
      access: 'admin',
      params: z.object({ id: z.string().min(1).max(254) }),
      responses: {
        201: { description: 'Created.', schema: z.object({ apiToken: z.string() }) },
        404: { description: 'No such user.' },
      },
    },
    async ({ req, params }) => {
      const em = ctx.em(req);
      const id = params.id.toLowerCase();
      if (!(await em.findOne(User, { id }))) throw notFound('User');
      const apiToken = newToken('cbu');
      em.create(ApiToken, { id: randomUUID(), userId: id, tokenHash: hashToken(apiToken) });
      await em.flush();
      return { status: 201, body: { apiToken } };
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
      return { status: 200, body: toView(user) };
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
    async ({ req, caller }) => {
      const schedule = await ctx.em(req).findOne(Schedule, { userId: requireUser(caller) });
      if (!schedule) throw notFound('Schedule');
      return { status: 200, body: scheduleToView(schedule) };
    },
  );

  api.add(
    {
      method: 'put',
      path: '/v1/me/schedule',
      summary: "Replace the caller's working hours and date overrides.",
      tag: 'Users',
      access: 'user',
      body: scheduleBody,
      responses: { 200: { description: 'The saved schedule.', schema: scheduleView } },
    },
    async ({ req, caller, body }) => {
      const em = ctx.em(req);
      const userId = requireUser(caller);
      const weekly: WeeklyHours = {};
      for (const day of weekday.options)
        weekly[day] = [...(body.weekly[day] ?? [])].sort((a, b) => a.start.localeCompare(b.start));
      const overrides: DateOverride[] = [...body.overrides].sort((a, b) => a.date.localeCompare(b.date));
      await em.upsert(Schedule, {
        userId,
        timeZone: body.timeZone,
        weekly,
        overrides,
        updatedAt: new Date(),
      });
      return { status: 200, body: { timeZone: body.timeZone, weekly, overrides } };
    },
  );
}

function scheduleToView(s: { timeZone: string; weekly: WeeklyHours; overrides: DateOverride[] }) {
  return { timeZone: s.timeZone, weekly: s.weekly, overrides: s.overrides };
}
