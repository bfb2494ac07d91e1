/**
 * GET /console/booking-calendars: the provider's booking calendars with their public links, and
 * their upcoming bookings; GET/POST /console/booking-calendars/new: creating one.
 */
import {
  type BookingCalendarView,
  createBookingCalendar,
  listHostedCalendars,
} from '../../../bookings/booking-calendars.ts';
import type { PageLocals, WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import { copyRow, flashOf, minutesText, userActor, zoneOf } from './common.ts';
import {
  CREATE_FIELDS,
  NEW_CALENDAR_VALUES,
  parseNewCalendar,
  readValues,
  refusalErrors,
  type SettingsErrors,
  type SettingsValues,
  settingsFields,
} from './settings-form.ts';
import { upcomingBookings, upcomingBookingsSection } from './upcoming-bookings.ts';

/** More than anyone keeps by hand; the API pages through the rest. */
const LISTED = 200;

const DONE: Record<string, string> = {
  deleted: 'The booking calendar was deleted. Its bookings stay in your calendar.',
  cancelled: 'Cancelled; the customer was told by e-mail.',
};

function calendarCard(calendar: BookingCalendarView, index: number): Html {
  return html`<li class="booking-calendar">
    <h3><a href="/console/booking-calendars/${calendar.slug}">${calendar.name}</a></h3>
    <p><span class="tag">${calendar.slug}</span> · ${minutesText(calendar.durationMinutes)}</p>
    ${copyRow(`calendar-link-${index}`, html`Booking link for ${calendar.name}`, calendar.url)}
  </li>`;
}

export function registerCalendarListPages(pages: Pages, ctx: WebContext): void {
  pages.get('/console/booking-calendars', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const em = ctx.em(req);
    const [{ items }, bookings, timeZone] = await Promise.all([
      listHostedCalendars(em, userId, { limit: LISTED, after: null }, ctx.config.PUBLIC_URL),
      upcomingBookings(req, ctx, userId),
      zoneOf(em, userId),
    ]);
    const names = new Map(items.map((c) => [c.slug, c.name]));
    return page(
      {
        title: 'Booking calendars',
        session: locals.session,
        csrfToken: locals.csrfToken,
        flash: flashOf(req, DONE),
      },
      html`<h1>Booking calendars</h1>
        <p>Each booking calendar has a public link where people book a time with you, within your
          <a href="/console/schedule">schedule</a> and around the busy time in your calendars.</p>
        <p><a class="button" href="/console/booking-calendars/new">Create a booking calendar</a></p>
        <section aria-labelledby="your-calendars">
          <h2 id="your-calendars">Your booking calendars</h2>
          ${
            items.length
              ? html`<ul class="booking-calendars">${items.map(calendarCard)}</ul>`
              : html`<p>You have no booking calendar yet.</p>`
          }
        </section>
        ${upcomingBookingsSection(bookings, names, timeZone)}`,
    );
  });

  const newForm = (locals: PageLocals, values: SettingsValues, errors: SettingsErrors): Html =>
    page(
      { title: 'Create a booking calendar', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Create a booking calendar</h1>
        <form method="post" action="/console/booking-calendars/new" novalidate>
          ${csrfField(locals.csrfToken)}
          ${formError(Object.keys(errors).length ? (errors.form ?? 'The booking calendar was not created: please correct the fields marked below.') : null)}
          ${settingsFields(values, errors, ctx.config.PUBLIC_URL, true)}
          <p class="actions">
            <button type="submit">Create booking calendar</button>
            <a href="/console/booking-calendars">Back to booking calendars</a>
          </p>
        </form>`,
    );

  pages.get('/console/booking-calendars/new', async (_req, _res, locals) => {
    signedInUser(locals);
    return newForm(locals, NEW_CALENDAR_VALUES, {});
  });

  pages.post('/console/booking-calendars/new', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const values = readValues(req.body ?? {}, CREATE_FIELDS);
    const parsed = parseNewCalendar(values, userId);
    if (!parsed.data) return { status: 422, body: newForm(locals, values, parsed.errors) };
    try {
      const created = await createBookingCalendar(
        ctx.em(req),
        userActor(userId),
        parsed.data,
        ctx.config.PUBLIC_URL,
      );
      return { redirect: `/console/booking-calendars/${created.slug}?done=created` };
    } catch (error) {
      const { status, errors } = refusalErrors(error);
      return { status, body: newForm(locals, values, errors) };
    }
  });
}
