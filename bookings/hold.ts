/**
 * The commit point of a booking: in one transaction, consume the one-time link (if any), re-check
 * the host's imported busy time and rules, and hold the time under the exclusion constraint on
 * `appointment_hosts` (invariant 1: two blocking holds of one host never overlap, whatever races).
 * The held span includes the calendar's buffers, so availability and the constraint agree exactly.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  Appointment,
  AppointmentHost,
  AppointmentInvite,
  BookingCalendar,
  OneTimeLink,
} from '../db/entities/index.ts';
import type { Person } from '../domain/booking.ts';
import { AppError } from '../domain/errors.ts';
import { hostsOf } from './booking-calendars.ts';
import { assertUsable, ownerName } from './links.ts';
import { assertBookable, slotUnavailable } from './slots.ts';

export interface HoldRequest {
  bookingId: string;
  bookingCalendarId: string;
  oneTimeLinkId: string | null;
  start: string;
  attendee: Person;
  notes: string | null;
  manageTokenHash: string;
}

export type HoldOutcome =
  | { held: true; start: string; end: string; hosts: string[] }
  | { held: false; code: 'slot_unavailable' | 'link_used' | 'link_revoked' | 'not_found'; message: string };

/** Holds the slot, or explains (as an outcome, not a throw) why it cannot be held. Idempotent per booking id. */
export async function holdSlot(rootEm: EntityManager, request: HoldRequest, now: Date): Promise<HoldOutcome> {
  try {
    return await rootEm.fork().transactional(async (em) => {
      const existing = await em.findOne(Appointment, { id: request.bookingId });
      if (existing)
        return {
          held: true,
          start: existing.startAt.toISOString(),
          end: existing.endAt.toISOString(),
          hosts: await hostsOf(em, request.bookingCalendarId),
        };

      const calendar = await em.findOne(BookingCalendar, { id: request.bookingCalendarId });
      if (!calendar) throw new AppError(404, 'not_found', 'Booking calendar not found.');
      if (request.oneTimeLinkId) await consumeLink(em, request.oneTimeLinkId, calendar.id);

      const hosts = await hostsOf(em, calendar.id);
      const { start, end, held } = await assertBookable(em, calendar, hosts, new Date(request.start), now);

      em.create(Appointment, {
        id: request.bookingId,
        origin: 'booking',
        bookingCalendarId: calendar.id,
        oneTimeLinkId: request.oneTimeLinkId,
        status: 'held',
        title: calendar.name,
        startAt: start,
        endAt: end,
        timeZone: request.attendee.timeZone ?? null,
        attendee: request.attendee,
        attendees: [request.attendee],
        notes: request.notes,
        manageTokenHash: request.manageTokenHash,
        sequence: 0,
      });
      for (const userId of hosts) {
        em.create(AppointmentHost, {
          appointmentId: request.bookingId,
          userId,
          startAt: held.start,
          endAt: held.end,
          blocking: true,
        });
        em.create(AppointmentInvite, { appointmentId: request.bookingId, userId, status: 'pending' });
      }
      await em.flush();
      return { held: true, start: start.toISOString(), end: end.toISOString(), hosts };
    });
  } catch (error) {
    if (isExclusionViolation(error)) return refused(slotUnavailable());
    if (
      error instanceof AppError &&
      ['slot_unavailable', 'link_used', 'link_revoked', 'not_found'].includes(error.code)
    )
      return refused(error);
    throw error;
  }
}

function refused(error: AppError): HoldOutcome {
  return { held: false, code: error.code as 'slot_unavailable', message: error.message };
}

/** Marks the link used, in the hold's transaction: of any number of racing bookings, one gets it. */
async function consumeLink(em: EntityManager, linkId: string, bookingCalendarId: string): Promise<void> {
  const consumed = await em.execute<{ id: string }[]>(
    `update one_time_links set status = 'used', used_at = now()
      where id = ? and booking_calendar_id = ? and status = 'active' and (expires_at is null or expires_at > now())
      returning id`,
    [linkId, bookingCalendarId],
  );
  if (consumed.length) return;
  const link = await em.findOne(OneTimeLink, { id: linkId });
  if (!link) throw new AppError(404, 'not_found', 'One-time link not found.');
  assertUsable(link, await ownerName(em, bookingCalendarId));
  throw new AppError(410, 'link_used', 'This link has already been used.');
}

/** PostgreSQL's exclusion_violation (23P01): another blocking hold of the host overlaps. */
export function isExclusionViolation(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if ((e as { code?: string }).code === '23P01') return true;
  }
  return false;
}
