/**
 * What customers and hosts do with bookings. The API (and later the web pages) calls exactly one
 * of these per request; the booking's run (workflows/booking.ts) does the durable part.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { BookingCalendarRow } from '../db/entities/booking.ts';
import { Appointment, AppointmentInvite, BookingCalendar } from '../db/entities/index.ts';
import type { AppointmentOrigin, AppointmentStatus, InviteStatus, Person } from '../domain/booking.ts';
import { AppError, notFound, validationFailed } from '../domain/errors.ts';
import type { Config } from '../platform/config.ts';
import { bookingWorkflowId } from '../workflows/ids.ts';
import { hostsOf } from './booking-calendars.ts';
import { holdSlot } from './hold.ts';
import { overallInviteStatus } from './invites.ts';
import { isManageToken, manageTokenHash, manageUrl } from './manage-tokens.ts';
import { cancelRun, rescheduleRun, startBookingRun } from './runs.ts';
import { slotUnavailable } from './slots.ts';

export interface BookingContext {
  em: EntityManager;
  config: Config;
  temporal: Client;
}

export interface BookingView {
  id: string;
  bookingCalendar: string | null;
  status: AppointmentStatus;
  start: string;
  end: string;
  hosts: string[];
  attendee: Person;
  notes: string | null;
  manageUrl: string;
  invite: { status: InviteStatus; calendarId?: string };
  workflowId: string;
}

/** Who may see and change a booking: one of its hosts, or whoever holds its manage token. */
export type BookingAccess = { userId: string } | { manageToken: string };

export interface BookingRequest {
  start: Date;
  attendee: Person;
  notes?: string | null | undefined;
  serviceId?: string | undefined;
}

/** Books `start` on the calendar (through a one-time link when given): 201 once held, or why not. */
export async function requestBooking(
  ctx: BookingContext,
  target: { calendar: BookingCalendarRow; oneTimeLinkId: string | null },
  request: BookingRequest,
  now: Date,
): Promise<BookingView> {
  const { calendar } = target;
  if (request.start.getTime() <= now.getTime())
    throw validationFailed([{ path: 'start', message: 'must be in the future' }]);
  if (request.serviceId !== undefined && !(calendar.services ?? []).some((s) => s.id === request.serviceId))
    throw validationFailed([{ path: 'serviceId', message: 'is not a service of this booking calendar' }]);
  if (beyondHorizon(calendar, request.start, now)) throw slotUnavailable();
  const bookingId = randomUUID();
  const [operatorHost] = await hostsOf(ctx.em, calendar.id);
  // One transaction, under the booking's lock: the run starts (no hold without its run), then the
  // hold (the commit point: 201 or the refusal). The run reads the outcome once the lock is free;
  // the booking's data never enters its history.
  const outcome = await holdSlot(
    ctx.em,
    {
      bookingId,
      bookingCalendarId: calendar.id,
      oneTimeLinkId: target.oneTimeLinkId,
      start: request.start.toISOString(),
      attendee: request.attendee,
      notes: request.notes ?? null,
      manageTokenHash: manageTokenHash(ctx.config.encryptionKey, bookingId),
    },
    now,
    { whileLocked: () => startBookingRun(ctx.temporal, ctx.config, operatorHost ?? '', bookingId) },
  );
  if (!outcome.held) throw new AppError(REFUSAL_STATUS[outcome.code], outcome.code, outcome.message);
  // A fresh hold's answer says all the view needs: no second look at what was just written.
  if (outcome.status && outcome.status !== 'held') return bookingView(ctx, bookingId);
  return {
    id: bookingId,
    bookingCalendar: calendar.slug,
    status: 'held',
    start: outcome.start,
    end: outcome.end,
    hosts: [...outcome.hosts].sort(),
    attendee: request.attendee,
    notes: request.notes ?? null,
    manageUrl: manageUrl(ctx.config.PUBLIC_URL, ctx.config.encryptionKey, bookingId),
    invite: { status: outcome.hosts.length ? 'pending' : 'skipped' },
    workflowId: bookingWorkflowId(bookingId),
  };
}

/**
 * Past the calendar's horizon no time is ever offered (it ends within a day or two after
 * `maxDaysAhead` days, in the host's zone). Refusing such a start here keeps instants like
 * 9999-12-31T23:30Z, whose end PostgreSQL cannot store, from failing the hold as a 503.
 */
const beyondHorizon = (calendar: BookingCalendarRow, start: Date, now: Date) =>
  start.getTime() > now.getTime() + (calendar.maxDaysAhead + 3) * 86_400_000;

const REFUSAL_STATUS = { not_found: 404, slot_unavailable: 409, link_used: 410, link_revoked: 410 } as const;

export async function readBooking(
  ctx: BookingContext,
  bookingId: string,
  access: BookingAccess,
): Promise<BookingView> {
  await authorize(ctx, bookingId, access);
  return bookingView(ctx, bookingId);
}

export async function rescheduleBooking(
  ctx: BookingContext,
  bookingId: string,
  access: BookingAccess,
  start: Date,
  now: Date,
): Promise<BookingView> {
  const appointment = await authorize(ctx, bookingId, access);
  if (appointment.status === 'cancelled')
    throw new AppError(409, 'invalid_state', 'This booking was cancelled.');
  if (appointment.endAt.getTime() <= now.getTime())
    throw new AppError(409, 'invalid_state', 'This booking has already taken place.');
  if (start.getTime() <= now.getTime())
    throw validationFailed([{ path: 'start', message: 'must be in the future' }]);
  const calendar = appointment.bookingCalendarId
    ? await ctx.em.findOne(BookingCalendar, { id: appointment.bookingCalendarId })
    : null;
  if (calendar && beyondHorizon(calendar, start, now)) throw slotUnavailable();
  const moved = await rescheduleRun(ctx.temporal, ctx.em, bookingId, start.toISOString());
  if (!moved.moved) throw new AppError(409, moved.code, moved.message);
  return bookingView(ctx, bookingId);
}

/** Cancelling twice is harmless: the second answers the cancelled booking. */
export async function cancelBooking(
  ctx: BookingContext,
  bookingId: string,
  access: BookingAccess,
  reason: string | null,
  now: Date,
): Promise<BookingView> {
  const appointment = await authorize(ctx, bookingId, access);
  if (appointment.status !== 'cancelled') {
    if (appointment.endAt.getTime() <= now.getTime())
      throw new AppError(409, 'invalid_state', 'This booking has already taken place.');
    await cancelRun(ctx.temporal, ctx.em, bookingId, reason);
  }
  return bookingView(ctx, bookingId);
}

async function authorize(ctx: BookingContext, bookingId: string, access: BookingAccess) {
  const appointment = await ctx.em.findOne(Appointment, { id: bookingId, origin: 'booking' });
  if (!appointment) throw notFound('Booking');
  if ('manageToken' in access) {
    if (!isManageToken(ctx.config.encryptionKey, bookingId, access.manageToken)) throw notFound('Booking');
    return appointment;
  }
  const [host] = await ctx.em.execute<{ n: number }[]>(
    'select count(*)::int as n from appointment_hosts where appointment_id = ? and user_id = ?',
    [bookingId, access.userId],
  );
  if (!host?.n) throw notFound('Booking');
  return appointment;
}

export async function bookingView(ctx: BookingContext, bookingId: string): Promise<BookingView> {
  const em = ctx.em.fork();
  const appointment = await em.findOneOrFail(Appointment, { id: bookingId });
  const calendar = appointment.bookingCalendarId
    ? await em.findOne(BookingCalendar, { id: appointment.bookingCalendarId })
    : null;
  const [hostRows, invites] = await Promise.all([
    em.execute<{ user_id: string }[]>('select user_id from appointment_hosts where appointment_id = ?', [
      bookingId,
    ]),
    em.find(AppointmentInvite, { appointmentId: bookingId }),
  ]);
  const invite = invites[0];
  return {
    id: appointment.id,
    bookingCalendar: calendar?.slug ?? null,
    status: appointment.status,
    start: appointment.startAt.toISOString(),
    end: appointment.endAt.toISOString(),
    hosts: hostRows.map((r) => r.user_id).sort(),
    attendee: appointment.attendee!,
    notes: appointment.notes ?? null,
    manageUrl: manageUrl(ctx.config.PUBLIC_URL, ctx.config.encryptionKey, bookingId),
    invite: {
      status: invites.length ? overallInviteStatus(invites.map((i) => i.status)) : 'skipped',
      ...(invite?.calendarId ? { calendarId: invite.calendarId } : {}),
    },
    workflowId: bookingWorkflowId(bookingId),
  };
}

export interface AppointmentView {
  id: string;
  origin: AppointmentOrigin;
  status: AppointmentStatus;
  title: string;
  start: string;
  end: string;
  attendees: Person[];
  bookingCalendar: string | null;
  workflowId: string | null;
}

/** The caller's appointments overlapping [from, to), by start. */
export async function listAppointments(
  em: EntityManager,
  userId: string,
  range: { from: Date; to: Date },
): Promise<AppointmentView[]> {
  const rows = await em.execute<
    {
      id: string;
      origin: AppointmentOrigin;
      status: AppointmentStatus;
      title: string;
      start_at: Date;
      end_at: Date;
      attendees: Person[];
      slug: string | null;
    }[]
  >(
    `select a.id, a.origin, a.status, a.title, a.start_at, a.end_at, a.attendees, bc.slug
       from appointments a
       join appointment_hosts h on h.appointment_id = a.id and h.user_id = ?
       left join booking_calendars bc on bc.id = a.booking_calendar_id
      where a.start_at < ? and a.end_at > ?
      order by a.start_at, a.id
      limit 2000`,
    [userId, range.to, range.from],
  );
  return rows.map((r) => ({
    id: r.id,
    origin: r.origin,
    status: r.status,
    title: r.title,
    start: new Date(r.start_at).toISOString(),
    end: new Date(r.end_at).toISOString(),
    attendees: r.attendees,
    bookingCalendar: r.slug,
    workflowId: r.origin === 'booking' ? bookingWorkflowId(r.id) : null,
  }));
}
