/**
 * A booking after its hold: confirmed once its invite and e-mails are on their way, moved to
 * another start (re-held under the same exclusion constraint, the old time kept if the new one is
 * taken), or cancelled (its hold released). Each change raises the iTIP SEQUENCE.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Appointment, BookingCalendar } from '../db/entities/index.ts';
import type { AppointmentStatus } from '../domain/booking.ts';
import type { QueuedEmail } from '../domain/email.ts';
import { AppError } from '../domain/errors.ts';
import type { Config } from '../platform/config.ts';
import { hostsOf } from './booking-calendars.ts';
import { isExclusionViolation } from './hold.ts';
import { queueBookingNotices } from './notices.ts';
import { assertBookable, slotUnavailable } from './slots.ts';

export type RescheduleOutcome =
  | { moved: true; start: string; end: string }
  | { moved: false; code: 'slot_unavailable' | 'invalid_state'; message: string };

/**
 * held → confirmed, with the confirmation e-mails queued in the same transaction; a booking
 * cancelled meanwhile stays cancelled and gets none. Safe to repeat: the outbox dedupes.
 */
export async function confirmBookingWithNotices(
  rootEm: EntityManager,
  config: Config,
  bookingId: string,
): Promise<{ status: AppointmentStatus; emails: QueuedEmail[] }> {
  return rootEm.fork().transactional(async (em) => {
    const status = await confirmBooking(em, bookingId);
    const emails =
      status === 'cancelled' ? [] : await queueBookingNotices(em, config, bookingId, 'confirmed');
    return { status, emails };
  });
}

/** held → confirmed; a booking cancelled meanwhile stays cancelled. */
export async function confirmBooking(em: EntityManager, bookingId: string): Promise<AppointmentStatus> {
  const rows = await em.execute<{ status: AppointmentStatus }[]>(
    `update appointments set status = 'confirmed', updated_at = now(), version = version + 1
      where id = ? and status = 'held' returning status`,
    [bookingId],
  );
  if (rows[0]) return rows[0].status;
  const current = await em.findOneOrFail(Appointment, { id: bookingId });
  return current.status;
}

export async function moveBooking(
  rootEm: EntityManager,
  bookingId: string,
  startIso: string,
  now: Date,
): Promise<RescheduleOutcome> {
  try {
    return await rootEm.fork().transactional(async (em) => {
      const [appointment] = await em.execute<
        { status: AppointmentStatus; booking_calendar_id: string | null }[]
      >('select status, booking_calendar_id from appointments where id = ? for update', [bookingId]);
      if (!appointment || appointment.status === 'cancelled')
        throw new AppError(409, 'invalid_state', 'This booking was cancelled.');
      const calendar = appointment.booking_calendar_id
        ? await em.findOne(BookingCalendar, { id: appointment.booking_calendar_id })
        : null;
      if (!calendar)
        throw new AppError(409, 'invalid_state', 'Its booking calendar was deleted: it cannot be moved.');
      // The booking's own hold does not stand in its way.
      await em.execute('update appointment_hosts set blocking = false where appointment_id = ?', [bookingId]);
      const hosts = await hostsOf(em, calendar.id);
      const { start, end, held } = await assertBookable(em, calendar, hosts, new Date(startIso), now);
      await em.execute(
        'update appointment_hosts set start_at = ?, end_at = ?, blocking = true where appointment_id = ?',
        [held.start, held.end, bookingId],
      );
      await em.execute(
        `update appointments set start_at = ?, end_at = ?, sequence = sequence + 1, updated_at = now(),
           version = version + 1 where id = ?`,
        [start, end, bookingId],
      );
      return { moved: true, start: start.toISOString(), end: end.toISOString() };
    });
  } catch (error) {
    if (isExclusionViolation(error)) return { moved: false, ...codeOf(slotUnavailable()) };
    if (error instanceof AppError && (error.code === 'slot_unavailable' || error.code === 'invalid_state'))
      return { moved: false, ...codeOf(error) };
    throw error;
  }
}

/** Cancels and releases the hold; `changed` is false when it was cancelled already. */
export async function cancelBooking(
  em: EntityManager,
  bookingId: string,
  reason: string | null,
): Promise<{ changed: boolean }> {
  return em.fork().transactional(async (tx) => {
    const rows = await tx.execute<{ id: string }[]>(
      `update appointments set status = 'cancelled', cancelled_at = now(), cancel_reason = ?, sequence = sequence + 1,
         updated_at = now(), version = version + 1
       where id = ? and status <> 'cancelled' returning id`,
      [reason, bookingId],
    );
    await tx.execute('update appointment_hosts set blocking = false where appointment_id = ?', [bookingId]);
    return { changed: rows.length > 0 };
  });
}

function codeOf(error: AppError): { code: 'slot_unavailable' | 'invalid_state'; message: string } {
  return { code: error.code as 'slot_unavailable', message: error.message };
}
