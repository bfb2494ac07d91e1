/**
 * One booking calendar's page, /console/booking-calendars/{slug}: its booking link, its settings,
 * its one-time links, and deleting it. Only its hosts see it; anyone else gets the 404 page.
 */
import type { Request } from 'express';
import {
  type BookingCalendarView,
  deleteBookingCalendar,
  findHostedCalendar,
  hostView,
  updateBookingCalendar,
} from '../../../bookings/booking-calendars.ts';
import {
  createOneTimeLink,
  listOneTimeLinks,
  type OneTimeLinkView,
  revokeOneTimeLink,
} from '../../../bookings/links.ts';
import { notFound } from '../../../domain/errors.ts';
import type { PageLocals, WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import { copyRow, flashOf, idParam, minutesText, slugParam, userActor, zoneOf } from './common.ts';
import { oneTimeLinksSection } from './one-time-links.ts';
import {
  CHANGE_FIELDS,
  parseChange,
  readValues,
  refusalErrors,
  type SettingsErrors,
  type SettingsValues,
  settingsFields,
  valuesOf,
} from './settings-form.ts';

const DONE: Record<string, string> = {
  created: 'Created. Share the booking link below.',
  saved: 'Saved.',
  revoked: 'The one-time link was revoked; it can no longer be used.',
};

interface CalendarPageState {
  values?: SettingsValues;
  errors?: SettingsErrors;
  created?: OneTimeLinkView | null;
  flash?: string | null;
}

export function registerCalendarPages(pages: Pages, ctx: WebContext): void {
  const load = async (req: Request, userId: string, slug: string) => {
    const em = ctx.em(req);
    const { calendar, hosts } = await findHostedCalendar(em, userActor(userId), slug);
    const view = hostView(calendar, hosts, ctx.config.PUBLIC_URL);
    const [links, timeZone] = await Promise.all([
      listOneTimeLinks(em, userActor(userId), slug),
      zoneOf(em, userId),
    ]);
    return { view, links, timeZone };
  };

  const calendarPage = async (
    req: Request,
    locals: PageLocals,
    userId: string,
    slug: string,
    state: CalendarPageState = {},
  ): Promise<Html> => {
    const { view, links, timeZone } = await load(req, userId, slug);
    const errors = state.errors ?? {};
    return page(
      { title: view.name, session: locals.session, csrfToken: locals.csrfToken, flash: state.flash ?? null },
      html`<p><a href="/console/booking-calendars">← Booking calendars</a></p>
        <h1>${view.name}</h1>
        <p><span class="tag">${view.slug}</span> · ${minutesText(view.durationMinutes)}</p>
        ${copyRow('booking-link', 'Booking link', view.url)}
        <section aria-labelledby="settings">
          <h2 id="settings">Settings</h2>
          <form method="post" action="/console/booking-calendars/${view.slug}" novalidate>
            ${csrfField(locals.csrfToken)}
            ${formError(Object.keys(errors).length ? (errors.form ?? 'The changes were not saved: please correct the fields marked below.') : null)}
            ${settingsFields(state.values ?? valuesOf(view), errors, ctx.config.PUBLIC_URL, false)}
            <button type="submit">Save changes</button>
          </form>
        </section>
        ${oneTimeLinksSection({ slug: view.slug, links, created: state.created ?? null, timeZone, csrfToken: locals.csrfToken })}
        ${deleteSection(view)}`,
    );
  };

  pages.get('/console/booking-calendars/:slug', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    return calendarPage(req, locals, userId, slugParam(req), { flash: flashOf(req, DONE) });
  });

  pages.post('/console/booking-calendars/:slug', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const slug = slugParam(req);
    const values = readValues(req.body ?? {}, CHANGE_FIELDS);
    const parsed = parseChange(values);
    const withValues = (errors: SettingsErrors) => ({ values: { ...values, slug }, errors });
    if (!parsed.data)
      return { status: 422, body: await calendarPage(req, locals, userId, slug, withValues(parsed.errors)) };
    try {
      await updateBookingCalendar(ctx.em(req), userActor(userId), slug, parsed.data, ctx.config.PUBLIC_URL);
    } catch (error) {
      const { status, errors } = refusalErrors(error);
      return { status, body: await calendarPage(req, locals, userId, slug, withValues(errors)) };
    }
    return { redirect: `/console/booking-calendars/${slug}?done=saved` };
  });

  // Answered directly rather than redirected: the token is in this response only, and putting it
  // in a URL to survive a redirect would leave it in the history and logs.
  pages.post('/console/booking-calendars/:slug/one-time-links', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const slug = slugParam(req);
    const created = await createOneTimeLink(
      ctx.em(req),
      userActor(userId),
      slug,
      { expiresAt: null },
      ctx.config.PUBLIC_URL,
    );
    return { status: 201, body: await calendarPage(req, locals, userId, slug, { created }) };
  });

  pages.post('/console/booking-calendars/:slug/one-time-links/:id/revoke', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const slug = slugParam(req);
    // Through its calendar first, so a link of another of the host's calendars is not revoked here.
    const links = await listOneTimeLinks(ctx.em(req), userActor(userId), slug);
    const id = idParam(req, 'One-time link');
    if (!links.some((l) => l.id === id)) throw notFound('One-time link');
    await revokeOneTimeLink(ctx.em(req), userActor(userId), id);
    return { redirect: `/console/booking-calendars/${slug}?done=revoked#one-time-links` };
  });

  pages.get('/console/booking-calendars/:slug/delete', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const { view } = await load(req, userId, slugParam(req));
    return page(
      { title: `Delete ${view.name}`, session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Delete “${view.name}”?</h1>
        <p>Its booking link and one-time links stop working. Bookings already made stay in your
          calendar and can still be cancelled.</p>
        <form method="post" action="/console/booking-calendars/${view.slug}/delete">
          ${csrfField(locals.csrfToken)}
          <p class="actions">
            <button type="submit" class="danger">Delete booking calendar</button>
            <a href="/console/booking-calendars/${view.slug}">Keep it</a>
          </p>
        </form>`,
    );
  });

  pages.post('/console/booking-calendars/:slug/delete', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    await deleteBookingCalendar(ctx.em(req), userActor(userId), slugParam(req));
    return { redirect: '/console/booking-calendars?done=deleted' };
  });
}

function deleteSection(view: BookingCalendarView): Html {
  return html`<section aria-labelledby="delete-calendar">
    <h2 id="delete-calendar">Delete booking calendar</h2>
    <p>Bookings already made stay.</p>
    <p><a class="button secondary" href="/console/booking-calendars/${view.slug}/delete">Delete booking calendar…</a></p>
  </section>`;
}
