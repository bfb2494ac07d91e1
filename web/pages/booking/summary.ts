/**
 * One booking as its customer sees it (confirmation and manage pages): what, when in the customer's
 * zone, with whom and its state. Only the booking's own data and the hosts' names: nothing else
 * of theirs.
 */
import { findBookingCalendar } from '../../../bookings/booking-calendars.ts';
import type { BookingContext, BookingView } from '../../../bookings/commands.ts';
import { AppError } from '../../../domain/errors.ts';
import { readUser } from '../../../users/accounts.ts';
import { type Html, html } from '../../html.ts';
import { when } from '../../layout.ts';

export interface BookingDetails {
  booking: BookingView;
  /** The booking calendar's name; null once the calendar was deleted (its bookings stay). */
  calendarName: string | null;
  hostNames: string[];
  /** The zone the customer booked in (UTC when they named none). */
  zone: string;
}

/** A missing calendar or host only drops a line of the page; any other failure is real. */
const unlessGone = <T>(promise: Promise<T>, fallback: T) =>
  promise.catch((error) => {
    if (error instanceof AppError && error.status === 404) return fallback;
    throw error;
  });

export async function bookingDetails(ctx: BookingContext, booking: BookingView): Promise<BookingDetails> {
  const [calendar, hostNames] = await Promise.all([
    booking.bookingCalendar ? unlessGone(findBookingCalendar(ctx.em, booking.bookingCalendar), null) : null,
    Promise.all(booking.hosts.map((id) => unlessGone(readUser(ctx.em, id), null))),
  ]);
  return {
    booking,
    calendarName: calendar?.name ?? null,
    hostNames: hostNames.flatMap((host) => (host ? [host.name] : [])),
    zone: booking.attendee.timeZone ?? 'UTC',
  };
}

export const isOver = (booking: BookingView, now: Date) => new Date(booking.end).getTime() <= now.getTime();

const STATUS_TEXT = { held: 'Booked', confirmed: 'Confirmed', cancelled: 'Cancelled' } as const;

export const minutesOf = (booking: Pick<BookingView, 'start' | 'end'>) =>
  Math.round((Date.parse(booking.end) - Date.parse(booking.start)) / 60_000);

export function bookingSummary(details: BookingDetails, now: Date): Html {
  const { booking, zone } = details;
  const status =
    booking.status !== 'cancelled' && isOver(booking, now) ? 'Taken place' : STATUS_TEXT[booking.status];
  return html`<dl class="summary">
    ${details.calendarName ? html`<dt>What</dt><dd>${details.calendarName}</dd>` : null}
    <dt>When</dt><dd>${when(booking.start, zone)}, ${minutesOf(booking)} minutes</dd>
    ${details.hostNames.length ? html`<dt>With</dt><dd>${details.hostNames.join(', ')}</dd>` : null}
    <dt>Booked by</dt><dd>${booking.attendee.name} (${booking.attendee.email})</dd>
    <dt>Status</dt><dd><span class="tag">${status}</span></dd>
  </dl>`;
}
