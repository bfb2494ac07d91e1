/**
 * The provider's upcoming bookings (next 60 days, every booking calendar, shown on the booking
 * calendars page) and cancelling one as its host: a confirmation with an optional reason, then the
 * same cancelBooking the API calls, which tells the customer by e-mail.
 */
import type { Request } from 'express';
import { cancelInput } from '../../../bookings/booking-input.ts';
import {
  type AppointmentView,
  cancelBooking,
  listAppointments,
  readBooking,
} from '../../../bookings/commands.ts';
import type { AppointmentStatus } from '../../../domain/booking.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { fieldErrors } from '../../forms.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page, when } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import { idParam, minutesText, zoneOf } from './common.ts';

const HORIZON_DAYS = 60;

const STATUS_TEXT: Record<AppointmentStatus, string> = {
  held: 'Being confirmed',
  confirmed: 'Confirmed',
  cancelled: 'Cancelled',
};

/** Bookings (not other appointments: those are not cancelled from here) from now on. */
export async function upcomingBookings(req: Request, ctx: WebContext, userId: string) {
  const from = new Date();
  const to = new Date(from.getTime() + HORIZON_DAYS * 86_400_000);
  const all = await listAppointments(ctx.em(req), userId, { from, to });
  return all.filter((a) => a.origin === 'booking');
}

export function upcomingBookingsSection(
  bookings: AppointmentView[],
  calendarNames: Map<string, string>,
  timeZone: string,
): Html {
  return html`<section aria-labelledby="upcoming-bookings">
    <h2 id="upcoming-bookings">Upcoming bookings</h2>
    <p class="hint">The next ${HORIZON_DAYS} days, times in ${timeZone}.</p>
    ${
      bookings.length
        ? html`<ul class="bookings">${bookings.map((b) => {
            const customer = b.attendees[0];
            const start = when(b.start, timeZone);
            const calendar = b.bookingCalendar
              ? (calendarNames.get(b.bookingCalendar) ?? b.bookingCalendar)
              : 'A deleted booking calendar';
            return html`<li class="booking" data-status="${b.status}">
              <p class="booking-when"><strong>${start}</strong>, ${minutesText((Date.parse(b.end) - Date.parse(b.start)) / 60_000)}</p>
              <p>${customer ? html`${customer.name} &lt;<a href="mailto:${customer.email}">${customer.email}</a>&gt;` : 'No customer details'}</p>
              <p>${calendar} · <span class="tag status-${b.status}">${STATUS_TEXT[b.status]}</span></p>
              ${
                b.status === 'cancelled'
                  ? null
                  : html`<p><a class="button secondary" href="/console/bookings/${b.id}/cancel">Cancel<span class="visually-hidden"> the booking with ${customer?.name ?? 'the customer'} on ${start}</span></a></p>`
              }
            </li>`;
          })}</ul>`
        : html`<p>No bookings in the next ${HORIZON_DAYS} days.</p>`
    }
  </section>`;
}

export function registerBookingCancelPages(pages: Pages, ctx: WebContext): void {
  const confirmation = async (
    req: Request,
    locals: PageLocals,
    userId: string,
    form: { reason?: string; error?: string | null } = {},
  ): Promise<Html> => {
    const id = idParam(req, 'Booking');
    const booking = await readBooking(useCases(ctx, req), id, { userId });
    const timeZone = await zoneOf(ctx.em(req), userId);
    const reasonError = form.error ?? null;
    return page(
      { title: 'Cancel a booking', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Cancel this booking?</h1>
        <dl class="facts">
          <dt>When</dt><dd>${when(booking.start, timeZone)}</dd>
          <dt>Customer</dt><dd>${booking.attendee.name} (${booking.attendee.email})</dd>
          <dt>Status</dt><dd>${STATUS_TEXT[booking.status]}</dd>
        </dl>
        ${
          booking.status === 'cancelled'
            ? html`<p>This booking is already cancelled.</p><p><a href="/console/booking-calendars">Back to booking calendars</a></p>`
            : html`<p>The event leaves your calendar and the customer is told by e-mail.</p>
              <form method="post" action="/console/bookings/${booking.id}/cancel" novalidate>
                ${csrfField(locals.csrfToken)}
                ${formError(reasonError ? 'The booking was not cancelled: see the reason field.' : null)}
                <div class="field${reasonError ? ' has-error' : ''}">
                  <label for="f-reason">Reason (optional)</label>
                  <p class="hint" id="f-reason-hint">Sent to the customer with the cancellation.</p>
                  <textarea id="f-reason" name="reason" rows="3" maxlength="1000"
                    aria-describedby="f-reason-hint${reasonError ? ' f-reason-error' : ''}"
                    ${reasonError ? html`aria-invalid="true"` : null}>${form.reason ?? ''}</textarea>
                  ${reasonError ? html`<p class="error" id="f-reason-error">${reasonError}</p>` : null}
                </div>
                <p class="actions">
                  <button type="submit" class="danger">Cancel the booking</button>
                  <a href="/console/booking-calendars">Keep it</a>
                </p>
              </form>`
        }`,
    );
  };

  pages.get('/console/bookings/:id/cancel', async (req, _res, locals) =>
    confirmation(req, locals, signedInUser(locals)),
  );

  pages.post('/console/bookings/:id/cancel', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const raw = [req.body?.reason].flat()[0];
    const reason = typeof raw === 'string' ? raw.trim() : '';
    const parsed = cancelInput.safeParse(reason ? { reason } : {});
    if (!parsed.success)
      return {
        status: 422,
        body: await confirmation(req, locals, userId, {
          reason,
          error: fieldErrors(parsed.error).reason ?? 'This reason cannot be sent.',
        }),
      };
    await cancelBooking(
      useCases(ctx, req),
      idParam(req, 'Booking'),
      { userId },
      parsed.data.reason ?? null,
      new Date(),
    );
    return { redirect: '/console/booking-calendars?done=cancelled' };
  });
}
