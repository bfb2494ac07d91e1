/**
 * Activities of the booking workflow (workflows/booking.ts), thin over bookings/. Each takes the
 * booking id (never a secret) and is safe to retry: the hold is idempotent per booking id, invites
 * are written under the booking's deterministic identity, e-mails are deduplicated by key.
 */
import {
  cancelBooking,
  confirmBooking,
  confirmBookingWithNotices,
  moveBooking,
} from '../bookings/changes.ts';
import { type HoldRequest, holdSlot, settleHold } from '../bookings/hold.ts';
import { markInvitesFailed, syncInvites } from '../bookings/invites.ts';
import { type BookingNoticeKind, composeBookingNotices, queueBookingNotices } from '../bookings/notices.ts';
import type { AppointmentStatus } from '../domain/booking.ts';
import type { QueuedEmail } from '../domain/email.ts';
import type { ActivityDeps } from './deps.ts';
import { sendQueuedNow } from './email.ts';
import { providerCall } from './failures.ts';
import { withHeartbeat } from './heartbeat.ts';

export type { RescheduleOutcome } from '../bookings/changes.ts';
export type { HoldOutcome, HoldRequest } from '../bookings/hold.ts';
export type { BookingNoticeKind } from '../bookings/notices.ts';

export function createBookingActivities(deps: ActivityDeps) {
  const { orm, config } = deps;
  return {
    /** Runs started with the `hold` update (before the API held slots itself) hold through this. */
    holdSlot: (request: HoldRequest) => holdSlot(orm.em, request, new Date()),
    settleHold: (bookingId: string) => settleHold(orm.em, bookingId),
    /**
     * held → confirmed with the confirmation e-mails queued (one transaction), then one attempt to
     * send them; answers the status and the messages that did not go.
     */
    async confirmAndSendNotices(
      bookingId: string,
    ): Promise<{ status: AppointmentStatus; undelivered: QueuedEmail[] }> {
      const { status, emails } = await confirmBookingWithNotices(orm.em, config, bookingId);
      return { status, undelivered: await sendQueuedNow(deps, emails) };
    },
    /** Queues the booking's notices of `kind`, then one attempt to send them; answers those that did not go. */
    async queueAndSendNotices(bookingId: string, kind: BookingNoticeKind): Promise<QueuedEmail[]> {
      return sendQueuedNow(deps, await queueBookingNotices(orm.em.fork(), config, bookingId, kind));
    },
    moveBooking: (bookingId: string, start: string) => moveBooking(orm.em, bookingId, start, new Date()),
    cancelBooking: (bookingId: string, reason: string | null) => cancelBooking(orm.em, bookingId, reason),
    syncInvites: (bookingId: string) =>
      withHeartbeat(() => providerCall(() => syncInvites(orm.em, config, bookingId))),
    markInvitesFailed: (bookingId: string, message: string) =>
      markInvitesFailed(orm.em.fork(), bookingId, message),
    // Booking runs started before the two steps above were one (workflows/booking.ts) call these.
    confirmBookingWithNotices: (bookingId: string) => confirmBookingWithNotices(orm.em, config, bookingId),
    queueBookingNotices: (bookingId: string, kind: BookingNoticeKind) =>
      queueBookingNotices(orm.em.fork(), config, bookingId, kind),
    // Booking runs started before e-mails went through the outbox still call these.
    confirmBooking: (bookingId: string) => confirmBooking(orm.em.fork(), bookingId),
    composeBookingNotices: (bookingId: string, kind: BookingNoticeKind) =>
      composeBookingNotices(orm.em, config, bookingId, kind),
  };
}
