/**
 * Booking without an account: `/book/{slug}` for a booking calendar and `/l/{token}` for a one-time
 * link to one (the same pages; the booking then consumes the link). Times → form → booked, with
 * Post/Redirect/Get; a time someone else took meanwhile sends the visitor back to fresh times.
 */
import type { Request } from 'express';
import { bookingCalendarSlug } from '../../../bookings/booking-calendar-input.ts';
import { findBookingCalendar, publicView } from '../../../bookings/booking-calendars.ts';
import { bookingRequestInput, oneTimeLinkToken } from '../../../bookings/booking-input.ts';
import { readBooking, requestBooking } from '../../../bookings/commands.ts';
import { usableLink } from '../../../bookings/links.ts';
import { bookableSlots } from '../../../bookings/slots.ts';
import type { BookingCalendarRow } from '../../../db/entities/booking.ts';
import { AppError, notFound } from '../../../domain/errors.ts';
import type { RateLimit } from '../../../platform/rate-limits.ts';
import { instant } from '../../../platform/validation.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { fieldErrors } from '../../forms.ts';
import { html } from '../../html.ts';
import { formError, page } from '../../layout.ts';
import type { PageHandler, PageResult, Pages } from '../../routing.ts';
import { type BookingFormValues, bookingForm, calendarFacts, emptyValues } from './book-form.ts';
import { bookingIdOf, manageTokenOf, textOf } from './request-values.ts';
import { bookingDetails, bookingSummary } from './summary.ts';
import { timesSection, withQuery } from './times.ts';
import { chosenZone, dayOf, dayPage } from './zones.ts';

export const TAKEN = 'That time was just booked by someone else — please pick another time.';

export interface PublicLimits {
  reads: RateLimit;
  bookings: RateLimit;
}

/** What a visitor books through: the page's own path, the calendar, and the link it consumes. */
interface Target {
  path: string;
  calendar: BookingCalendarRow;
  oneTimeLinkId: string | null;
}

type Resolve = (req: Request) => Promise<Target>;

const ip = (req: Request) => req.ip ?? 'unknown';

/** A used, revoked or expired link: what happened and whom to ask, never an error page. */
function guardLink(handler: PageHandler): PageHandler {
  return async (req, res, locals) => {
    try {
      return await handler(req, res, locals);
    } catch (error) {
      if (!(error instanceof AppError) || (error.code !== 'link_used' && error.code !== 'link_revoked'))
        throw error;
      return {
        status: 410,
        body: page(
          { title: 'Link no longer valid', session: locals.session, csrfToken: locals.csrfToken },
          html`<h1>This link can no longer be used</h1><p>${error.message}</p>`,
        ),
      };
    }
  };
}

export function registerBookingFlow(pages: Pages, ctx: WebContext, limits: PublicLimits): void {
  const bySlug: Resolve = async (req) => {
    const slug = bookingCalendarSlug.safeParse(req.params.slug);
    if (!slug.success) throw notFound('Booking calendar');
    const calendar = await findBookingCalendar(ctx.em(req), slug.data);
    return { path: `/book/${slug.data}`, calendar, oneTimeLinkId: null };
  };
  const byLink: Resolve = async (req) => {
    const token = oneTimeLinkToken.safeParse(req.params.token);
    if (!token.success) throw notFound('One-time link');
    const { link, calendar } = await usableLink(ctx.em(req), token.data);
    return { path: `/l/${token.data}`, calendar, oneTimeLinkId: link.id };
  };

  const timesPage = async (
    req: Request,
    locals: PageLocals,
    target: Target,
    options: { zone: string; from: unknown; notice?: string | null },
  ) => {
    const now = new Date();
    const days = dayPage(options.from, options.zone, now, target.calendar.maxDaysAhead);
    const slots = await bookableSlots(ctx.em(req), target.calendar, {
      from: days.from,
      to: days.to,
      timeZone: options.zone,
      now,
    });
    const view = publicView(target.calendar, ctx.config.PUBLIC_URL);
    return page(
      { title: view.name, session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>${view.name}</h1>
        ${calendarFacts(view)}
        ${formError(options.notice)}
        ${timesSection({
          path: target.path,
          zone: options.zone,
          days,
          slots,
          slotHref: (start) => withQuery(`${target.path}/confirm`, { start, timeZone: options.zone }),
        })}`,
    );
  };

  const showTimes =
    (resolve: Resolve): PageHandler =>
    async (req, res, locals) => {
      await limits.reads(res, ip(req));
      const target = await resolve(req);
      const asked = textOf(req.query.timeZone);
      const known = chosenZone(asked);
      const zone = known ?? 'UTC';
      const notice = asked && !known ? `“${asked}” is not a time zone we know: times are in UTC.` : null;
      return timesPage(req, locals, target, { zone, from: req.query.from, notice });
    };

  const showForm =
    (resolve: Resolve): PageHandler =>
    async (req, res, locals) => {
      await limits.reads(res, ip(req));
      const target = await resolve(req);
      const zone = chosenZone(req.query.timeZone) ?? 'UTC';
      const start = instant.safeParse(textOf(req.query.start));
      if (!start.success) return { redirect: withQuery(target.path, { timeZone: zone }) };
      const view = publicView(target.calendar, ctx.config.PUBLIC_URL);
      return page(
        { title: `Book ${view.name}`, session: locals.session, csrfToken: locals.csrfToken },
        bookingForm(
          target.path,
          view,
          { start: start.data.toISOString(), zone, values: emptyValues, errors: {} },
          locals.csrfToken,
        ),
      );
    };

  const book =
    (resolve: Resolve): PageHandler =>
    async (req, res, locals) => {
      await limits.bookings(res, ip(req));
      const target = await resolve(req);
      const body = req.body ?? {};
      const zone = chosenZone(body.timeZone) ?? 'UTC';
      const start = textOf(body.start);
      const values: BookingFormValues = {
        name: textOf(body.name),
        email: textOf(body.email),
        notes: textOf(body.notes),
        serviceId: textOf(body.serviceId),
      };
      const pickAgain = async (status: number, notice: string): Promise<PageResult> => ({
        status,
        body: await timesPage(req, locals, target, {
          zone,
          from: instant.safeParse(start).success ? dayOf(start, zone) : null,
          notice,
        }),
      });
      const parsed = bookingRequestInput.safeParse({
        start,
        attendee: { name: values.name, email: values.email, timeZone: zone },
        notes: values.notes.trim() || undefined,
        serviceId: values.serviceId || undefined,
      });
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error);
        if (errors.start) return pickAgain(422, 'Please pick a time from the list.');
        const view = publicView(target.calendar, ctx.config.PUBLIC_URL);
        return {
          status: 422,
          body: page(
            { title: `Book ${view.name}`, session: locals.session, csrfToken: locals.csrfToken },
            bookingForm(
              target.path,
              view,
              {
                start,
                zone,
                values,
                errors: {
                  name:
                    errors['attendee.name'] &&
                    (values.name.trim() ? errors['attendee.name'] : 'Enter your name.'),
                  email: errors['attendee.email'] && 'Enter an e-mail address such as ada@example.com.',
                  notes: errors.notes,
                  serviceId: errors.serviceId && 'Choose one of the services.',
                },
              },
              locals.csrfToken,
            ),
          ),
        };
      }
      try {
        const booking = await requestBooking(
          useCases(ctx, req),
          { calendar: target.calendar, oneTimeLinkId: target.oneTimeLinkId },
          parsed.data,
          new Date(),
        );
        const token = new URL(booking.manageUrl).searchParams.get('token');
        return { redirect: withQuery(`${target.path}/booked/${booking.id}`, { token }) };
      } catch (error) {
        if (error instanceof AppError && error.code === 'slot_unavailable') return pickAgain(409, TAKEN);
        // The time passed while the visitor typed.
        if (error instanceof AppError && error.code === 'validation_failed')
          return pickAgain(422, 'That time is no longer available — please pick another time.');
        throw error;
      }
    };

  // The booking just made, by its manage token: the link that led here may be spent by now.
  const booked: PageHandler = async (req, _res, locals) => {
    const c = useCases(ctx, req);
    const id = bookingIdOf(req.params.id);
    const token = manageTokenOf(req.query.token);
    const details = await bookingDetails(c, await readBooking(c, id, { manageToken: token }));
    return page(
      { title: 'Booked', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>You are booked</h1>
        ${bookingSummary(details, new Date())}
        <p>A confirmation e-mail is on its way to <strong>${details.booking.attendee.email}</strong>, with a link to reschedule or cancel.</p>
        <p><a href="${withQuery(`/manage/${id}`, { token })}">Reschedule or cancel this booking</a></p>`,
    );
  };

  for (const [base, resolve] of [
    ['/book/:slug', bySlug],
    ['/l/:token', byLink],
  ] as const) {
    pages.get(base, guardLink(showTimes(resolve)));
    pages.get(`${base}/confirm`, guardLink(showForm(resolve)));
    pages.post(`${base}/confirm`, guardLink(book(resolve)));
    pages.get(`${base}/booked/:id`, booked);
  }
}
