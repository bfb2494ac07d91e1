/**
 * The provider's Calendars page: every connection with its provider, account and status, and each
 * calendar's import status, event count and last sync. While an import runs the page refreshes
 * its list in place (web/static/app.js polls /console/calendars/list). A connection that needs
 * reconnecting shows a banner with the Reconnect button; the reconnect e-mail links here.
 */

import type { ConnectionView } from '../../connections/views.ts';
import { currentConnectionViews } from '../../connections/views.ts';
import { readUser } from '../../users/accounts.ts';
import type { WebContext } from '../context.ts';
import { type Html, html } from '../html.ts';
import { csrfField, page, when } from '../layout.ts';
import { type Pages, signedInUser } from '../routing.ts';

export const PROVIDER_NAMES: Record<string, string> = {
  google: 'Google',
  microsoft: 'Microsoft 365',
  icloud: 'iCloud',
  caldav: 'CalDAV',
  ics: 'ICS feed',
};

export const STATUS_TEXT: Record<string, string> = {
  pending_authorization: 'Waiting for consent',
  awaiting_selection: 'Choose calendars',
  importing: 'Importing',
  active: 'Connected',
  needs_reauth: 'Needs reconnecting',
  error: 'Error',
  removing: 'Being removed',
  removed: 'Removed',
};

const IMPORT_TEXT: Record<string, string> = {
  idle: 'Not checked for conflicts',
  pending: 'Waiting to import',
  importing: 'Importing…',
  ready: 'Ready',
  error: 'Error',
};

/** True while something on the page is still changing on its own (the script keeps polling). */
const inProgress = (connections: ConnectionView[]) =>
  connections.some(
    (c) =>
      c.status === 'importing' ||
      c.status === 'removing' ||
      c.calendars.some((cal) => cal.importStatus === 'pending' || cal.importStatus === 'importing'),
  );

function connectionCard(c: ConnectionView, timeZone: string, csrfToken: string): Html {
  const name = PROVIDER_NAMES[c.provider] ?? c.provider;
  return html`<article class="connection" aria-labelledby="conn-${c.id}" data-status="${c.status}">
    <header>
      <h2 id="conn-${c.id}">${name}${c.accountEmail ? html` · <span class="account">${c.accountEmail}</span>` : null}</h2>
      <p class="status status-${c.status}">${STATUS_TEXT[c.status] ?? c.status}</p>
    </header>
    ${
      c.status === 'needs_reauth'
        ? html`<div class="banner" role="alert">
            <p><strong>This calendar needs reconnecting.</strong> ${c.statusReason ?? 'Its access was revoked or its password changed.'} Your busy time imported so far still counts.</p>
            <form method="post" action="/console/connections/${c.id}/reconnect">${csrfField(csrfToken)}<button type="submit">Reconnect</button></form>
          </div>`
        : null
    }
    ${
      c.calendars.length
        ? html`<table>
            <thead><tr><th scope="col">Calendar</th><th scope="col">Import</th><th scope="col">Events</th><th scope="col">Last sync</th></tr></thead>
            <tbody>${c.calendars.map(
              (cal) => html`<tr>
                <th scope="row">${cal.name}${cal.isPrimary ? html` <span class="tag">Primary</span>` : null}${cal.readOnly ? html` <span class="tag">Read-only</span>` : null}</th>
                <td class="import-${cal.importStatus}">${IMPORT_TEXT[cal.importStatus] ?? cal.importStatus}${cal.error ? html`<br><span class="error">${cal.error}</span>` : null}</td>
                <td>${cal.importForAvailability ? cal.eventCount : '—'}</td>
                <td>${cal.lastSyncedAt ? when(cal.lastSyncedAt, timeZone) : '—'}</td>
              </tr>`,
            )}</tbody>
          </table>`
        : html`<p>No calendars listed yet.</p>`
    }
    <p class="actions">
      ${c.status === 'awaiting_selection' ? html`<a class="button" href="/console/connections/${c.id}/calendars">Choose calendars</a>` : html`<a href="/console/connections/${c.id}/calendars">Calendars to check</a>`}
      <a href="/console/connections/${c.id}">Settings</a>
    </p>
  </article>`;
}

export function registerCalendarPages(pages: Pages, ctx: WebContext): void {
  const load = async (req: import('express').Request, userId: string) => {
    const em = ctx.em(req);
    const [connections, user] = await Promise.all([currentConnectionViews(em, userId), readUser(em, userId)]);
    return { connections, timeZone: user.timeZone };
  };

  const list = (connections: ConnectionView[], timeZone: string, csrfToken: string) =>
    html`<div id="connections" data-refresh="/console/calendars/list" data-live="${inProgress(connections) ? 'yes' : 'no'}" aria-live="polite">
      ${connections.length ? connections.map((c) => connectionCard(c, timeZone, csrfToken)) : html`<p>You have not connected a calendar yet.</p>`}
    </div>`;

  pages.get('/console/calendars', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const { connections, timeZone } = await load(req, userId);
    const flash = typeof req.query.done === 'string' ? (DONE[req.query.done] ?? null) : null;
    return page(
      { title: 'Calendars', session: locals.session, csrfToken: locals.csrfToken, flash },
      html`<h1>Calendars</h1>
        <p><a class="button" href="/console/connections/new">Add a new calendar connection</a></p>
        ${list(connections, timeZone, locals.csrfToken)}`,
    );
  });

  // The list alone, for the page's script to swap in while imports run.
  pages.get('/console/calendars/list', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const { connections, timeZone } = await load(req, userId);
    return list(connections, timeZone, locals.csrfToken);
  });
}

const DONE: Record<string, string> = {
  saved: 'Saved. The import runs in the background; this page follows it.',
  connected: 'Connected. Choose the calendars to check for conflicts.',
  removed: 'The account is being removed.',
  reconnected: 'Reconnected. Sync resumes where it stopped.',
};
