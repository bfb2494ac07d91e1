/**
 * One-time links (public, by token), bookings (by a host's token or the manage token from the
 * invite and e-mails) and the caller's appointments.
 */
import { z } from 'zod';
import { publicView } from '../../bookings/booking-calendars.ts';
import { cancelInput, oneTimeLinkToken, rescheduleInput } from '../../bookings/booking-input.ts';
import {
  type BookingAccess,
  cancelBooking,
  listAppointments,
  readBooking,
  requestBooking,
  rescheduleBooking,
} from '../../bookings/commands.ts';
import { revokeOneTimeLink, usableLink } from '../../bookings/links.ts';
import { bookableSlots } from '../../bookings/slots.ts';
import { notFound, validationFailed } from '../../domain/errors.ts';
import { publicBudgetsFor } from '../../platform/rate-limits.ts';
import { text } from '../../platform/validation.ts';
import { type Caller, requireUser } from '../auth.ts';
import { type ApiContext, useCaseContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';
import { instant, uuidParam } from '../schemas.ts';
import {
  actorOf,
  appointmentView,
  bookingBody,
  bookingView,
  publicBookingCalendarView,
  slotsQuery,
  slotsView,
} from './booking-views.ts';

const tokenParam = z.object({ token: oneTimeLinkToken });
const manageQuery = z.object({ token: text(100).optional() });

export function registerBookingRoutes(api: ApiRoutes, ctx: ApiContext): void {
  const { reads: publicReads, bookings } = publicBudgetsFor(ctx.config);
  /** A host's token, else the manage token; neither → 404 (a booking id alone reveals nothing). */
  const accessOf = (caller: Caller, token: string | undefined): BookingAccess => {
    if (caller.kind === 'user') return { userId: caller.userId };
    if (token) return { manageToken: token };
    throw notFound('Booking');
  };

  api.add(
    {
      method: 'get',
      path: '/v1/one-time-links/:token',
      summary: 'What a one-time link books, while it is still usable; 410 link_used / link_revoked after.',
      tag: 'One-time links',
      access: 'public',
      params: tokenParam,
      responses: {
        200: {
          description: 'Usable.',
          schema: z.object({ status: z.literal('active'), bookingCalendar: publicBookingCalendarView }),
        },
        404: { description: 'Unknown token.' },
        410: {
          description: 'Already used (link_used) or revoked/expired (link_revoked): contact the owner.',
        },
        429: { description: 'Too many requests from this address (rate_limited).' },
      },
    },
    async ({ req, res, params }) => {
      await publicReads(res, req.ip ?? 'unknown');
      const { calendar } = await usableLink(ctx.em(req), params.token);
      return {
        status: 200,
        body: { status: 'active', bookingCalendar: publicView(calendar, ctx.config.PUBLIC_URL) },
      };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/one-time-links/:token/slots',
      summary: 'Bookable slots through a one-time link, as for the booking calendar.',
      tag: 'One-time links',
      access: 'public',
      params: tokenParam,
      query: slotsQuery,
      responses: {
        200: { description: 'The slots.', schema: slotsView },
        404: { description: 'Unknown token.' },
        410: { description: 'Already used or revoked.' },
        429: { description: 'Too many requests from this address (rate_limited).' },
      },
    },
    async ({ req, res, params, query }) => {
      await publicReads(res, req.ip ?? 'unknown');
      const em = ctx.em(req);
      const { calendar } = await usableLink(em, params.token);
      return { status: 200, body: await bookableSlots(em, calendar, { ...query, now: new Date() }) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/one-time-links/:token/bookings',
      summary: 'Book through a one-time link: of any number of racing requests, exactly one books.',
      tag: 'One-time links',
      access: 'public',
      params: tokenParam,
      body: bookingBody,
      responses: {
        201: { description: 'Held.', schema: bookingView },
        404: { description: 'Unknown token.' },
        409: { description: 'The slot is not available (slot_unavailable).' },
        410: { description: 'Already used (link_used) or revoked (link_revoked).' },
        429: { description: 'Too many booking attempts from this address (rate_limited).' },
      },
    },
    async ({ req, res, params, body }) => {
      await bookings(res, req.ip ?? 'unknown');
      const c = useCaseContext(ctx, req);
      const { link, calendar } = await usableLink(c.em, params.token);
      const view = await requestBooking(c, { calendar, oneTimeLinkId: link.id }, body, new Date());
      return { status: 201, body: view, headers: { Location: `/v1/bookings/${view.id}` } };
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/v1/one-time-links/:id',
      summary: 'Revoke a one-time link (a host); later use answers 410 link_revoked.',
      tag: 'One-time links',
      access: 'any',
      params: uuidParam,
      responses: { 204: { description: 'Revoked.' }, 404: { description: 'Unknown link.' } },
    },
    async ({ req, caller, params }) => {
      await revokeOneTimeLink(ctx.em(req), actorOf(caller), params.id);
      return { status: 204 };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/v1/bookings/:id',
      summary:
        'A booking, for one of its hosts or with the manage token (`?token=`) from the invite and e-mails.',
      tag: 'Bookings',
      access: 'public',
      params: uuidParam,
      query: manageQuery,
      responses: {
        200: { description: 'The booking.', schema: bookingView },
        404: { description: 'Not found.' },
      },
    },
    async ({ req, caller, params, query }) => ({
      status: 200,
      body: await readBooking(useCaseContext(ctx, req), params.id, accessOf(caller, query.token)),
    }),
  );

  api.add(
    {
      method: 'post',
      path: '/v1/bookings/:id/cancel',
      summary:
        "Cancel: the event leaves the host's calendar and both parties get a cancellation. Twice is harmless.",
      tag: 'Bookings',
      access: 'public',
      params: uuidParam,
      query: manageQuery,
      body: cancelInput,
      responses: {
        200: { description: 'Cancelled.', schema: bookingView },
        404: { description: 'Not found.' },
        409: { description: 'The booking has already taken place (invalid_state).' },
      },
    },
    async ({ req, caller, params, query, body }) => ({
      status: 200,
      body: await cancelBooking(
        useCaseContext(ctx, req),
        params.id,
        accessOf(caller, query.token),
        body.reason ?? null,
        new Date(),
      ),
    }),
  );

  api.add(
    {
      method: 'post',
      path: '/v1/bookings/:id/reschedule',
      summary: 'Move to another start: 200, or 409 slot_unavailable with the old time kept.',
      tag: 'Bookings',
      access: 'public',
      params: uuidParam,
      query: manageQuery,
      body: rescheduleInput,
      responses: {
        200: { description: 'Moved.', schema: bookingView },
        404: { description: 'Not found.' },
        409: {
          description:
            'The new time is taken (slot_unavailable), or the booking is cancelled or over (invalid_state).',
        },
      },
    },
    async ({ req, caller, params, query, body }) => ({
      status: 200,
      body: await rescheduleBooking(
        useCaseContext(ctx, req),
        params.id,
        accessOf(caller, query.token),
        body.start,
        new Date(),
      ),
    }),
  );

  api.add(
    {
      method: 'get',
      path: '/v1/appointments',
      summary: "The caller's appointments overlapping [from, to) (at most 366 days), each with its origin.",
      tag: 'Appointments',
      access: 'user',
      query: z.object({ from: instant, to: instant }),
      responses: {
        200: { description: 'The appointments.', schema: z.object({ items: z.array(appointmentView) }) },
      },
    },
    async ({ req, caller, query }) => {
      if (query.to <= query.from) throw validationFailed([{ path: 'to', message: 'must be after from' }]);
      if (query.to.getTime() - query.from.getTime() > 366 * 86_400_000)
        throw validationFailed([{ path: 'to', message: 'must be at most 366 days after from' }]);
      return {
        status: 200,
        body: {
          items: await listAppointments(ctx.em(req), requireUser(caller), { from: query.from, to: query.to }),
        },
      };
    },
  );
}
