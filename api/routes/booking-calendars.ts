/** Booking calendars: what people book, their slots, bookings and one-time links. */
import { z } from 'zod';
import {
  bookingCalendarChangeInput,
  newBookingCalendarInput,
} from '../../bookings/booking-calendar-input.ts';
import {
  createBookingCalendar,
  deleteBookingCalendar,
  findBookingCalendar,
  listHostedCalendars,
  publicView,
  updateBookingCalendar,
} from '../../bookings/booking-calendars.ts';
import { requestBooking } from '../../bookings/commands.ts';
import { createOneTimeLink, listOneTimeLinks } from '../../bookings/links.ts';
import { bookableSlots } from '../../bookings/slots.ts';
import { publicBudgetsFor } from '../../platform/rate-limits.ts';
import { requireUser } from '../auth.ts';
import { type ApiContext, useCaseContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';
import { cursorParam, encodeCursor, instant, isoInstant, listQuery, page } from '../schemas.ts';
import {
  actorOf,
  bookingBody,
  bookingCalendarView,
  bookingView,
  oneTimeLinkView,
  publicBookingCalendarView,
  slotsQuery,
  slotsView,
  slugParam,
} from './booking-views.ts';

export function registerBookingCalendarRoutes(api: ApiRoutes, ctx: ApiContext): void {
  const { reads: publicReads, bookings } = publicBudgetsFor(ctx.config);

  api.add(
    {
      method: 'post',
      path: '/v1/booking-calendars',
      summary: 'Create a booking calendar. The caller must be one of its hosts (or the admin).',
      tag: 'Booking calendars',
      access: 'any',
      body: newBookingCalendarInput,
      responses: {
        201: { description: 'Created.', schema: bookingCalendarView },
        409: { description: 'The slug is taken (already_exists).' },
      },
    },
    async ({ req, caller, body }) => {
      const view = await createBookingCalendar(ctx.em(req), actorOf(caller), body, ctx.config.PUBLIC_URL);
      return { status: 201, body: view, headers: { Location: `/v1/booking-calendars/${view.slug}` } };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/booking-calendars',
      summary: "The caller's booking calendars, newest first.",
      tag: 'Booking calendars',
      access: 'user',
      query: listQuery,
      responses: { 200: { description: 'A page of booking calendars.', schema: page(bookingCalendarView) } },
    },
    async ({ req, caller, query }) => {
      const after = cursorParam(query.cursor, z.object({ createdAt: isoInstant, id: z.uuid() }));
      const result = await listHostedCalendars(
        ctx.em(req),
        requireUser(caller),
        { limit: query.limit, after },
        ctx.config.PUBLIC_URL,
      );
      return {
        status: 200,
        body: { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null },
      };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/booking-calendars/:slug',
      summary:
        "A booking calendar's public page data: name, type, duration, services (never hosts' private data).",
      tag: 'Booking calendars',
      access: 'public',
      params: slugParam,
      responses: {
        200: { description: 'The booking calendar.', schema: publicBookingCalendarView },
        404: { description: 'Unknown slug.' },
        429: { description: 'Too many requests from this address (rate_limited).' },
      },
    },
    async ({ req, res, params }) => {
      await publicReads(res, req.ip ?? 'unknown');
      return {
        status: 200,
        body: publicView(await findBookingCalendar(ctx.em(req), params.slug), ctx.config.PUBLIC_URL),
      };
    },
  );

  api.add(
    {
      method: 'patch',
      path: '/v1/booking-calendars/:slug',
      summary: 'Change name, duration, interval, buffers, notice, horizon, seats or services (a host).',
      tag: 'Booking calendars',
      access: 'any',
      params: slugParam,
      body: bookingCalendarChangeInput,
      responses: {
        200: { description: 'Changed.', schema: bookingCalendarView },
        404: { description: 'Unknown slug, or not a calendar of the caller.' },
      },
    },
    async ({ req, caller, params, body }) => ({
      status: 200,
      body: await updateBookingCalendar(
        ctx.em(req),
        actorOf(caller),
        params.slug,
        body,
        ctx.config.PUBLIC_URL,
      ),
    }),
  );

  api.add(
    {
      method: 'delete',
      path: '/v1/booking-calendars/:slug',
      summary: 'Delete a booking calendar (a host); its bookings stay as appointments.',
      tag: 'Booking calendars',
      access: 'any',
      params: slugParam,
      responses: { 204: { description: 'Deleted.' }, 404: { description: 'Unknown slug.' } },
    },
    async ({ req, caller, params }) => {
      await deleteBookingCalendar(ctx.em(req), actorOf(caller), params.slug);
      return { status: 204 };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/booking-calendars/:slug/slots',
      summary:
        'Bookable slots in [from, to) (at most 62 days), in UTC. `stale` is true when a calendar that counts has broken sync and its last imported busy time is used.',
      tag: 'Booking',
      access: 'public',
      params: slugParam,
      query: slotsQuery,
      responses: {
        200: { description: 'The slots.', schema: slotsView },
        404: { description: 'Unknown slug.' },
        429: { description: 'Too many requests from this address (rate_limited).' },
      },
    },
    async ({ req, res, params, query }) => {
      await publicReads(res, req.ip ?? 'unknown');
      const em = ctx.em(req);
      const calendar = await findBookingCalendar(em, params.slug);
      return { status: 200, body: await bookableSlots(em, calendar, { ...query, now: new Date() }) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/booking-calendars/:slug/bookings',
      summary:
        'Book a slot: 201 as soon as the slot is held (the invite and e-mails follow durably), or 409 slot_unavailable.',
      tag: 'Booking',
      access: 'public',
      params: slugParam,
      body: bookingBody,
      responses: {
        201: { description: 'Held.', schema: bookingView },
        404: { description: 'Unknown slug.' },
        409: { description: 'The slot is not available (slot_unavailable).' },
        429: { description: 'Too many booking attempts from this address (rate_limited).' },
      },
    },
    async ({ req, res, params, body }) => {
      await bookings(res, req.ip ?? 'unknown');
      const c = useCaseContext(ctx, req);
      const calendar = await findBookingCalendar(c.em, params.slug);
      const view = await requestBooking(c, { calendar, oneTimeLinkId: null }, body, new Date());
      return { status: 201, body: view, headers: { Location: `/v1/bookings/${view.id}` } };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/booking-calendars/:slug/one-time-links',
      summary: 'Make a link good for exactly one booking (a host). The token is shown once.',
      tag: 'One-time links',
      access: 'any',
      params: slugParam,
      body: z.object({ expiresAt: instant.optional() }).strict(),
      responses: {
        201: { description: 'Created.', schema: oneTimeLinkView },
        404: { description: 'Unknown slug, or not a calendar of the caller.' },
      },
    },
    async ({ req, caller, params, body }) => ({
      status: 201,
      body: await createOneTimeLink(
        ctx.em(req),
        actorOf(caller),
        params.slug,
        { expiresAt: body.expiresAt ?? null },
        ctx.config.PUBLIC_URL,
      ),
    }),
  );

  api.add(
    {
      method: 'get',
      path: '/v1/booking-calendars/:slug/one-time-links',
      summary: "The booking calendar's one-time links and their status (a host); never their tokens.",
      tag: 'One-time links',
      access: 'any',
      params: slugParam,
      responses: {
        200: { description: 'The links.', schema: z.object({ items: z.array(oneTimeLinkView) }) },
        404: { description: 'Unknown slug, or not a calendar of the caller.' },
      },
    },
    async ({ req, caller, params }) => ({
      status: 200,
      body: { items: await listOneTimeLinks(ctx.em(req), actorOf(caller), params.slug) },
    }),
  );
}
