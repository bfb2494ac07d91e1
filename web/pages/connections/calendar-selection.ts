/**
 * The calendar list of one connection: which calendars are checked for conflicts, and which one is
 * the primary calendar (where bookings are written; one per person, across all connections).
 */
import type { Request } from 'express';
import { saveCalendarSelection } from '../../../connections/commands.ts';
import {
  type CalendarView,
  type ConnectionView,
  connectionView,
  primaryCalendarElsewhere,
} from '../../../connections/views.ts';
import { isRemovalStatus } from '../../../domain/connection-status.ts';
import { AppError, type FieldProblem } from '../../../domain/errors.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import { connectionTitle, ownedConnection } from './owned.ts';

/** The primary choice as posted: a calendar id, none at all, or leave another connection's as it is. */
const KEEP = 'keep';
const NONE = 'none';

interface SelectionForm {
  checked: Set<string>;
  primary: string;
  error?: string | null;
  primaryError?: string | null;
}

const IMPORT_TEXT: Record<string, string> = {
  pending: 'waiting to import',
  importing: 'importing',
  ready: 'imported',
  error: 'import failed',
};

export function registerCalendarSelectionPages(pages: Pages, ctx: WebContext): void {
  const primaryElsewhere = (req: Request, userId: string, connectionId: string) =>
    primaryCalendarElsewhere(ctx.em(req), userId, connectionId);

  const render = async (
    req: Request,
    locals: PageLocals,
    userId: string,
    view: ConnectionView,
    form: SelectionForm | null,
  ): Promise<Html> => {
    const other = await primaryElsewhere(req, userId, view.id);
    const state: SelectionForm = form ?? {
      checked: new Set(view.calendars.filter((c) => c.importForAvailability).map((c) => c.id)),
      primary: view.calendars.find((c) => c.isPrimary)?.id ?? (other ? KEEP : NONE),
    };
    const done =
      req.query.done === 'connected' && !form
        ? 'Connected. Choose the calendars to check for conflicts.'
        : null;
    const title = connectionTitle(view);
    return page(
      { title: `Calendars of ${title}`, session: locals.session, csrfToken: locals.csrfToken, flash: done },
      html`<h1>Calendars of ${title}</h1>
        ${body(view, state, other?.name ?? null, locals.csrfToken)}
        <p><a href="/console/connections/${view.id}">Connection settings</a> · <a href="/console/calendars">Back to Calendars</a></p>`,
    );
  };

  pages.get('/console/connections/:id/calendars', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const connection = await ownedConnection(ctx, req, userId);
    return render(req, locals, userId, await connectionView(ctx.em(req), connection.id), null);
  });

  pages.post('/console/connections/:id/calendars', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const connection = await ownedConnection(ctx, req, userId);
    const view = await connectionView(ctx.em(req), connection.id);
    const posted = req.body?.check;
    const checked = new Set<string>(
      (Array.isArray(posted) ? posted : [posted]).filter((v): v is string => typeof v === 'string'),
    );
    const primary = typeof req.body?.primary === 'string' ? req.body.primary : KEEP;
    try {
      await saveCalendarSelection(useCases(ctx, req), userId, connection.id, {
        // Every calendar of the list, so an unchecked box turns its calendar off.
        calendars: view.calendars.map((cal) => ({ id: cal.id, importForAvailability: checked.has(cal.id) })),
        primaryCalendarId: primary === KEEP ? undefined : primary === NONE ? null : primary,
      });
      return { redirect: '/console/calendars?done=saved' };
    } catch (error) {
      if (!(error instanceof AppError) || ![400, 409, 422].includes(error.status)) throw error;
      const problems = (error.details?.fields as FieldProblem[] | undefined) ?? [];
      const primaryProblem = problems.find((p) => p.path === 'primaryCalendarId');
      const form: SelectionForm = {
        checked,
        primary,
        error: primaryProblem ? 'Choose another primary calendar.' : error.message,
        primaryError: primaryProblem ? `That calendar ${primaryProblem.message}.` : null,
      };
      return {
        status: error.status === 409 ? 409 : 422,
        body: await render(req, locals, userId, view, form),
      };
    }
  });
}

function body(
  view: ConnectionView,
  form: SelectionForm,
  otherPrimary: string | null,
  csrfToken: string,
): Html {
  if (isRemovalStatus(view.status))
    return html`<p>This connection is being removed; its calendars are no longer checked.</p>`;
  if (view.status === 'pending_authorization')
    return html`<p>This connection is waiting for you to allow access at the provider. <a href="/console/connections/new">Start again</a> if you left that page.</p>`;
  if (!view.calendars.length)
    return html`<p>No calendars were found in this account. Add one at the provider; Calbridge lists it at the next sync.</p>`;
  return html`<form method="post" action="/console/connections/${view.id}/calendars" class="calendar-selection">
    ${csrfField(csrfToken)}
    ${formError(form.error)}
    <fieldset>
      <legend>Check for conflicts</legend>
      <p class="hint">Busy time in the checked calendars blocks those times for bookings. Unchecking a calendar removes its imported busy time.</p>
      <ul class="options">${view.calendars.map((cal) => checkbox(cal, form.checked.has(cal.id)))}</ul>
    </fieldset>
    <fieldset${form.primaryError ? html` aria-describedby="primary-error"` : null}>
      <legend>Primary calendar</legend>
      <p class="hint">New bookings are written to your primary calendar. You have one, across all your connections.</p>
      ${form.primaryError ? html`<p class="error" id="primary-error">${form.primaryError}</p>` : null}
      <ul class="options">
        ${view.calendars.map((cal) => primaryRadio(cal, form.primary === cal.id))}
        ${
          otherPrimary
            ? html`<li><input type="radio" id="primary-keep" name="primary" value="${KEEP}"${form.primary === KEEP ? html` checked` : null}>
                <label for="primary-keep">Keep “${otherPrimary}” from another connection</label></li>`
            : null
        }
        <li><input type="radio" id="primary-none" name="primary" value="${NONE}"${form.primary === NONE ? html` checked` : null}>
          <label for="primary-none">No primary calendar</label>
          <span class="hint">Bookings are then not written to any calendar.</span></li>
      </ul>
    </fieldset>
    <button type="submit">Save</button>
  </form>`;
}

function checkbox(cal: CalendarView, checked: boolean): Html {
  const status = cal.importForAvailability ? IMPORT_TEXT[cal.importStatus] : null;
  return html`<li>
    <input type="checkbox" id="check-${cal.id}" name="check" value="${cal.id}"${checked ? html` checked` : null}>
    <label for="check-${cal.id}">${cal.name}</label>
    ${cal.readOnly ? html`<span class="tag">Read-only</span>` : null}
    ${status ? html`<span class="hint">(${status})</span>` : null}
  </li>`;
}

function primaryRadio(cal: CalendarView, checked: boolean): Html {
  if (cal.readOnly)
    return html`<li>
      <input type="radio" id="primary-${cal.id}" name="primary" value="${cal.id}" disabled aria-describedby="primary-${cal.id}-why">
      <label for="primary-${cal.id}">${cal.name}</label>
      <span class="hint" id="primary-${cal.id}-why">Read-only: bookings cannot be written to it.</span>
    </li>`;
  return html`<li>
    <input type="radio" id="primary-${cal.id}" name="primary" value="${cal.id}"${checked ? html` checked` : null}>
    <label for="primary-${cal.id}">${cal.name}</label>
  </li>`;
}
