/**
 * The provider's booking calendars: the list with upcoming bookings, creating one, each
 * calendar's page (settings, one-time links, deleting) and cancelling a booking as its host.
 */
import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';
import { registerCalendarPages } from './booking-calendars/calendar.ts';
import { registerCalendarListPages } from './booking-calendars/list.ts';
import { registerBookingCancelPages } from './booking-calendars/upcoming-bookings.ts';

export function registerBookingCalendarPages(pages: Pages, ctx: WebContext): void {
  // The list and /new first: "new" would otherwise be read as a calendar's slug.
  registerCalendarListPages(pages, ctx);
  registerCalendarPages(pages, ctx);
  registerBookingCancelPages(pages, ctx);
}
