/**
 * Reconnecting a connection whose access stopped working (the Calendars page's banner button):
 * Google and Microsoft go back to consent, or resume at once when the stored grant still works;
 * the password and feed providers ask for the new credentials, verified before they replace the old.
 */
import { reconnectConnection } from '../../../connections/commands.ts';
import { connectAttemptLimit } from '../../../connections/connect-attempts.ts';
import type { CalendarConnectionRow } from '../../../db/entities/connection.ts';
import { isOAuthProvider } from '../../../domain/connection.ts';
import { isRemovalStatus } from '../../../domain/connection-status.ts';
import { AppError } from '../../../domain/errors.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import {
  attempt,
  type CredentialProblems,
  type CredentialValues,
  credentialFields,
  isCredentialProvider,
  readCredentials,
} from './credentials.ts';
import { connectionTitle, ownedConnection, providerName } from './owned.ts';

const RECONNECTED = '/console/calendars?done=reconnected';

export function registerReconnectPages(pages: Pages, ctx: WebContext): void {
  const limitAttempts = connectAttemptLimit(ctx.config);

  const render = (
    locals: PageLocals,
    connection: CalendarConnectionRow,
    values: CredentialValues,
    problems: CredentialProblems | null,
  ): Html => {
    const title = connectionTitle(connection);
    const frame = { title: `Reconnect ${title}`, session: locals.session, csrfToken: locals.csrfToken };
    const back = html`<p><a href="/console/calendars">Back to Calendars</a></p>`;
    if (isRemovalStatus(connection.status))
      return page(
        frame,
        html`<h1>Reconnect ${title}</h1>${formError(problems?.message)}
          <p>This connection was removed. <a href="/console/connections/new">Add the account again</a> instead.</p>${back}`,
      );
    const provider = connection.provider;
    const form = isCredentialProvider(provider)
      ? html`<p>Enter the current ${provider === 'ics' ? 'feed address' : 'password'}. Calbridge checks it before replacing the old one; sync then resumes where it stopped, without duplicates.</p>
          ${provider === 'icloud' ? html`<p>Create a new app-specific password at appleid.apple.com (Sign-In and Security → App-Specific Passwords).</p>` : null}
          <form method="post" action="/console/connections/${connection.id}/reconnect" novalidate>
            ${csrfField(locals.csrfToken)}
            <input type="hidden" name="credentials" value="yes">
            ${credentialFields(provider, values, problems)}
            <button type="submit">Reconnect</button>
          </form>`
      : html`${formError(problems?.message)}
          <p>You will sign in at ${providerName(provider)} and allow access again. Sync then resumes where it stopped.</p>
          <form method="post" action="/console/connections/${connection.id}/reconnect">
            ${csrfField(locals.csrfToken)}
            <button type="submit">Reconnect with ${providerName(provider)}</button>
          </form>`;
    return page(frame, html`<h1>Reconnect ${title}</h1>${form}${back}`);
  };

  /** What the form starts with: the account as stored, never a secret. */
  const storedValues = (connection: CalendarConnectionRow): CredentialValues => ({
    ...(connection.provider === 'caldav' ? { serverUrl: connection.serverUrl ?? '' } : {}),
    ...(connection.accountEmail ? { username: connection.accountEmail } : {}),
  });

  pages.get('/console/connections/:id/reconnect', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const connection = await ownedConnection(ctx, req, userId);
    return render(locals, connection, storedValues(connection), null);
  });

  pages.post('/console/connections/:id/reconnect', async (req, res, locals) => {
    const userId = signedInUser(locals);
    const connection = await ownedConnection(ctx, req, userId);
    const provider = connection.provider;
    if (isOAuthProvider(provider)) {
      try {
        await limitAttempts(res, userId);
        const view = await reconnectConnection(useCases(ctx, req), userId, connection.id, {
          redirectUri: `${ctx.config.PUBLIC_URL}/console/connections/authorized`,
        });
        return { redirect: view.authorizationUrl ?? RECONNECTED };
      } catch (error) {
        return refused(locals, connection, error);
      }
    }
    if (!isCredentialProvider(provider)) return { redirect: `/console/connections/${connection.id}` };
    // The banner's button carries no credentials: it opens the form that asks for them.
    if (req.body?.credentials !== 'yes')
      return { redirect: `/console/connections/${connection.id}/reconnect` };
    const values = readCredentials(provider, req.body);
    const outcome = await attempt(provider, values, async () => {
      await limitAttempts(res, userId);
      return reconnectConnection(useCases(ctx, req), userId, connection.id, values);
    });
    if (!outcome.ok)
      return { status: outcome.problems.status, body: render(locals, connection, values, outcome.problems) };
    return { redirect: RECONNECTED };
  });

  const refused = (locals: PageLocals, connection: CalendarConnectionRow, error: unknown) => {
    if (!(error instanceof AppError) || ![409, 422, 429].includes(error.status)) throw error;
    return {
      status: error.status,
      body: render(locals, connection, {}, { status: error.status, message: error.message, fields: {} }),
    };
  };
}
