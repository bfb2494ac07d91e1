/**
 * A customer's own booking, opened from the link in its e-mails (`/manage/{id}?token=…`): see it,
 * pick a new time, or cancel it. The token is the only key, so it travels in every link and form
 * of these pages; a wrong one is "not found", like an unknown booking.
 */
import type { Request } from 'express';
import { findBookingCalendar } from '../../../bookings/booking-calendars.ts';
import { cancelInput, rescheduleInput } from '../../../bookings/booking-input.ts';
import { cancelBooking, readBooking, rescheduleBooking } from '../../../bookings/commands.ts';
import { bookableSlots } from '../../../bookings/slots.ts';
import { AppError } from '../../../domain/errors.ts';
import { instant } from '../../../platform/validation.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { fieldErrors } from '../../forms.ts';
import { html } from '../../html.ts';
import { csrfField, formError, page, when } from '../../layout.ts';
import type { PageResult, Pages } from '../../routing.ts';
import type { PublicLimits } from './book.ts';
import { bookingIdOf, manageTokenOf, textOf } from './request-values.ts';
import { bookingDetails, bookingSummary, isOver } from './summary.ts';
import { timesSection, withQuery } from './times.ts';
import { chosenZone, dayOf, dayPage } from './zones.ts';

const DONE: Record<string, string> = {
  rescheduled: 'Rescheduled. An e-mail with the new time is on its way.',
  cancelled: 'Your booking is cancelled. An e-mail confirming it is on its way.',
};

const TAKEN = 'That time was just booked by someone else — please pick another time.';

export function registerManagePages(pages: Pages, ctx: WebContext, limits: PublicLimits): void {
  /** The booking the request names, if its token opens it. */
  const load = async (req: Request, tokenValue: unknown) => {
    const c = useCases(ctx, req);
    const id = bookingIdOf(req.params.id);
    const token = manageTokenOf(tokenValue);
    const details = await bookingDetails(c, await readBooking(c, id, { manageToken: token }));
    const now = new Date();
    const changeable = details.booking.status !== 'cancelled' && !isOver(details.booking, now);
    return { c, id, token, details, now, changeable, home: withQuery(`/manage/${id}`, { token }) };
  };
  type Loaded = Awaited<ReturnType<typeof load>>;

  const frame = (locals: PageLocals, title: string, flash: string | null = null) => ({
    title,
    session: locals.session,
    csrfToken: locals.csrfToken,
    flash,
  });

  pages.get('/manage/:id', async (req, _res, locals) => {
    const { details, now, changeable, id, token } = await load(req, req.query.token);
    const flash = DONE[textOf(req.query.done)] ?? null;
    const { booking, zone } = details;
    const state =
      booking.status === 'cancelled'
        ? html`<p>This booking was cancelled.</p>`
        : !changeable
          ? html`<p>This booking has taken place.</p>`
          : html`<p class="actions">
              <a class="button" href="${withQuery(`/manage/${id}/reschedule`, { token, timeZone: zone })}">Pick a new time</a>
              <a class="button secondary" href="${withQuery(`/manage/${id}/cancel`, { token })}">Cancel this booking</a>
            </p>`;
    return page(
      frame(locals, 'Your booking', flash),
      html`<h1>Your booking</h1>${bookingSummary(details, now)}${state}`,
    );
  });

  /** The free times to move to, with `notice` (why the visitor is picking again) above them. */
  const timesPage = async (
    locals: PageLocals,
    loaded: Loaded,
    options: { zone: string; from: unknown; notice?: string | null },
  ) => {
    const { details, id, token, now } = loaded;
    const calendar = details.booking.bookingCalendar
      ? await findBookingCalendar(loaded.c.em, details.booking.bookingCalendar).catch((error) => {
          if (error instanceof AppError && error.status === 404) return null;
          throw error;
        })
      : null;
    if (!calendar)
      return page(
        frame(locals, 'Pick a new time'),
        html`<h1>Pick a new time</h1>
          <p>The booking page of this booking no longer exists, so its time cannot be changed here. You can still cancel it.</p>
          <p><a href="${loaded.home}">Back to your booking</a></p>`,
      );
    const days = dayPage(options.from, options.zone, now, calendar.maxDaysAhead);
    const slots = await bookableSlots(loaded.c.em, calendar, {
      from: days.from,
      to: days.to,
      timeZone: options.zone,
      now,
    });
    return page(
      frame(locals, 'Pick a new time'),
      html`<h1>Pick a new time</h1>
        <p>Now booked: <strong>${when(details.booking.start, options.zone)}</strong>. <a href="${loaded.home}">Keep this time</a></p>
        ${formError(options.notice)}
        ${timesSection({
          path: `/manage/${id}/reschedule`,
          keep: { token },
          zone: options.zone,
          days,
          slots,
          slotHref: (start) =>
            withQuery(`/manage/${id}/reschedule/confirm`, { token, start, timeZone: options.zone }),
        })}`,
    );
  };

  pages.get('/manage/:id/reschedule', async (req, res, locals) => {
    await limits.reads(res, req.ip ?? 'unknown');
    const loaded = await load(req, req.query.token);
    if (!loaded.changeable) return { redirect: loaded.home };
    const zone = chosenZone(req.query.timeZone) ?? loaded.details.zone;
    return timesPage(locals, loaded, { zone, from: req.query.from });
  });

  pages.get('/manage/:id/reschedule/confirm', async (req, _res, locals) => {
    const loaded = await load(req, req.query.token);
    if (!loaded.changeable) return { redirect: loaded.home };
    const zone = chosenZone(req.query.timeZone) ?? loaded.details.zone;
    const start = instant.safeParse(textOf(req.query.start));
    const again = withQuery(`/manage/${loaded.id}/reschedule`, { token: loaded.token, timeZone: zone });
    if (!start.success) return { redirect: again };
    return page(
      frame(locals, 'Move your booking'),
      html`<h1>Move your booking?</h1>
        <dl class="summary">
          <dt>From</dt><dd>${when(loaded.details.booking.start, zone)}</dd>
          <dt>To</dt><dd><strong>${when(start.data, zone)}</strong></dd>
        </dl>
        <form method="post" action="/manage/${loaded.id}/reschedule">
          ${csrfField(locals.csrfToken)}
          <input type="hidden" name="token" value="${loaded.token}">
          <input type="hidden" name="start" value="${start.data.toISOString()}">
          <input type="hidden" name="timeZone" value="${zone}">
          <p class="actions">
            <button type="submit">Move my booking</button>
            <a href="${again}">Pick another time</a>
          </p>
        </form>`,
    );
  });

  pages.post('/manage/:id/reschedule', async (req, _res, locals): Promise<PageResult> => {
    const body = req.body ?? {};
    const loaded = await load(req, body.token);
    if (!loaded.changeable) return { redirect: loaded.home };
    const zone = chosenZone(body.timeZone) ?? loaded.details.zone;
    const start = textOf(body.start);
    const pickAgain = async (status: number, notice: string): Promise<PageResult> => ({
      status,
      body: await timesPage(locals, loaded, {
        zone,
        from: instant.safeParse(start).success ? dayOf(start, zone) : null,
        notice,
      }),
    });
    const parsed = rescheduleInput.safeParse({ start });
    if (!parsed.success) return pickAgain(422, 'Please pick a time from the list.');
    try {
      await rescheduleBooking(
        loaded.c,
        loaded.id,
        { manageToken: loaded.token },
        parsed.data.start,
        new Date(),
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'slot_unavailable') return pickAgain(409, TAKEN);
      if (error instanceof AppError && error.code === 'validation_failed')
        return pickAgain(422, 'That time is no longer available — please pick another time.');
      // Cancelled or over meanwhile: the booking's page says which.
      if (error instanceof AppError && error.code === 'invalid_state') return { redirect: loaded.home };
      throw error;
    }
    return { redirect: withQuery(`/manage/${loaded.id}`, { token: loaded.token, done: 'rescheduled' }) };
  });

  const cancelForm = (locals: PageLocals, loaded: Loaded, reason: string, error: string | null) =>
    page(
      frame(locals, 'Cancel your booking'),
      html`<h1>Cancel your booking?</h1>
        ${bookingSummary(loaded.details, loaded.now)}
        <form method="post" action="/manage/${loaded.id}/cancel" novalidate>
          ${csrfField(locals.csrfToken)}
          ${formError(error ? 'Please correct the field marked below.' : null)}
          <input type="hidden" name="token" value="${loaded.token}">
          <div class="field${error ? ' has-error' : ''}">
            <label for="f-reason">Reason (optional)</label>
            <p class="hint" id="f-reason-hint">Sent to the host with the cancellation.</p>
            <textarea id="f-reason" name="reason" rows="3" aria-describedby="f-reason-hint${error ? ' f-reason-error' : ''}"${error ? html` aria-invalid="true"` : null}>${reason}</textarea>
            ${error ? html`<p class="error" id="f-reason-error">${error}</p>` : null}
          </div>
          <p class="actions">
            <button type="submit" class="danger">Cancel this booking</button>
            <a href="${loaded.home}">Keep my booking</a>
          </p>
        </form>`,
    );

  pages.get('/manage/:id/cancel', async (req, _res, locals) => {
    const loaded = await load(req, req.query.token);
    if (!loaded.changeable) return { redirect: loaded.home };
    return cancelForm(locals, loaded, '', null);
  });

  pages.post('/manage/:id/cancel', async (req, _res, locals) => {
    const body = req.body ?? {};
    const loaded = await load(req, body.token);
    const reason = textOf(body.reason);
    const parsed = cancelInput.safeParse({ reason: reason.trim() || undefined });
    if (!parsed.success)
      return {
        status: 422,
        body: cancelForm(
          locals,
          loaded,
          reason,
          fieldErrors(parsed.error).reason ?? 'Please shorten the reason.',
        ),
      };
    await cancelBooking(
      loaded.c,
      loaded.id,
      { manageToken: loaded.token },
      parsed.data.reason ?? null,
      new Date(),
    );
    return { redirect: withQuery(`/manage/${loaded.id}`, { token: loaded.token, done: 'cancelled' }) };
  });
}
