/**
 * "Add a new calendar connection": the product first, then either consent at Google or Microsoft
 * (the OAuth callback sends the browser back to /console/connections/authorized) or a form for the
 * password and feed providers, whose credentials are verified before anything is kept.
 */
import type { Request } from 'express';
import { linkConnection } from '../../../connections/commands.ts';
import { connectAttemptLimit } from '../../../connections/connect-attempts.ts';
import { findOwnedConnection } from '../../../connections/views.ts';
import { isOAuthProvider, type OAuthProviderKind } from '../../../domain/connection.ts';
import { AppError, notFound } from '../../../domain/errors.ts';
import { providerModules } from '../../../providers/registry.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import {
  attempt,
  type CredentialProblems,
  type CredentialProvider,
  type CredentialValues,
  credentialFields,
  isCredentialProvider,
  readCredentials,
} from './credentials.ts';
import { formValue, isConnectionId } from './owned.ts';

const OAUTH_CHOICES: { provider: OAuthProviderKind; name: string; about: string }[] = [
  {
    provider: 'google',
    name: 'Google',
    about: 'Google Calendar or Google Workspace. You sign in at Google and allow access.',
  },
  {
    provider: 'microsoft',
    name: 'Microsoft 365',
    about: 'Outlook and Microsoft 365 calendars. You sign in at Microsoft and allow access.',
  },
];

const FORM_CHOICES: { provider: CredentialProvider; name: string; about: string }[] = [
  {
    provider: 'icloud',
    name: 'iCloud',
    about: 'Apple calendars, with your Apple ID and an app-specific password.',
  },
  {
    provider: 'caldav',
    name: 'Another CalDAV server',
    about: 'Nextcloud, Fastmail, Radicale and other servers: the server URL, a username and a password.',
  },
  { provider: 'ics', name: 'ICS URL', about: 'A read-only calendar feed (.ics or webcal:// address).' },
];

const FORM_TITLES: Record<CredentialProvider, string> = {
  icloud: 'Connect iCloud',
  caldav: 'Connect a CalDAV server',
  ics: 'Connect an ICS feed',
};

/** Why the wizard was shown again after consent (the callback's status), in words. */
/**
 * What went wrong at the provider, by the error code the OAuth callback sends back. Only these fixed
 * sentences are shown: the query string is the visitor's to edit, so no text from it is.
 */
const CONSENT_PROBLEMS: Record<string, string> = {
  invalid_credentials:
    'Access was not granted: consent was declined, or you signed in with another account than the one this connection belongs to. Start again below.',
  already_exists: 'That account is already connected. You find it on your Calendars page.',
  provider_unreachable: 'The provider could not be reached. Try again in a moment.',
  provider_not_configured: 'This provider is not available on this server.',
  invalid_state: 'This connection was removed in the meantime. Start again below.',
  validation_failed: 'The provider did not send what Calbridge needs. Start again below.',
  rate_limited: 'Too many attempts. Wait a minute and start again.',
};

const PROBLEMS: Record<string, string> = {
  'not-completed': 'The connection was not completed. Start again below.',
  ...CONSENT_PROBLEMS,
};

export function registerWizardPages(pages: Pages, ctx: WebContext): void {
  const limitAttempts = connectAttemptLimit(ctx.config);
  const configured = (provider: OAuthProviderKind) =>
    Boolean(providerModules[provider]?.oauth?.settings(ctx.config));

  const choices = (locals: PageLocals, error: string | null = null): Html =>
    page(
      { title: 'Add a calendar connection', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Add a new calendar connection</h1>
        <p>Where is the calendar you want Calbridge to check for conflicts?</p>
        ${formError(error)}
        <ul class="choices connect-choices">
          ${OAUTH_CHOICES.map(({ provider, name, about }) =>
            configured(provider)
              ? html`<li>
                  <form method="post" action="/console/connections/new/${provider}">
                    ${csrfField(locals.csrfToken)}
                    <button type="submit" class="secondary" aria-describedby="about-${provider}">${name}</button>
                  </form>
                  <p class="hint" id="about-${provider}">${about}</p>
                </li>`
              : html`<li>
                  <p class="unavailable"><strong>${name}</strong></p>
                  <p class="hint">Not available on this server: the administrator has not set up ${name} sign-in.</p>
                </li>`,
          )}
          ${FORM_CHOICES.map(
            ({ provider, name, about }) => html`<li>
              <a class="button secondary" href="/console/connections/new/${provider}" aria-describedby="about-${provider}">${name}</a>
              <p class="hint" id="about-${provider}">${about}</p>
            </li>`,
          )}
        </ul>
        <p><a href="/console/calendars">Back to Calendars</a></p>`,
    );

  const credentialsForm = (
    locals: PageLocals,
    provider: CredentialProvider,
    values: CredentialValues,
    problems: CredentialProblems | null,
  ): Html =>
    page(
      { title: FORM_TITLES[provider], session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>${FORM_TITLES[provider]}</h1>
        ${provider === 'icloud' ? icloudHelp : null}
        <form method="post" action="/console/connections/new/${provider}" novalidate>
          ${csrfField(locals.csrfToken)}
          ${credentialFields(provider, values, problems)}
          <p class="hint">Calbridge checks these by signing in and listing your calendars; this can take a few seconds.</p>
          <button type="submit">Connect</button>
        </form>
        <p><a href="/console/connections/new">Choose another kind of calendar</a></p>`,
    );

  pages.get('/console/connections/new', async (req, _res, locals) => {
    signedInUser(locals);
    return choices(locals, PROBLEMS[formValue(req.query.problem)] ?? null);
  });

  pages.get('/console/connections/new/:provider', async (req, _res, locals) => {
    signedInUser(locals);
    const provider = String(req.params.provider);
    if (!isCredentialProvider(provider)) throw notFound('Page');
    return credentialsForm(locals, provider, readCredentials(provider, {}), null);
  });

  pages.post('/console/connections/new/:provider', async (req, res, locals) => {
    const userId = signedInUser(locals);
    const provider = String(req.params.provider);
    if (isOAuthProvider(provider)) {
      try {
        await limitAttempts(res, userId);
        const view = await linkConnection(useCases(ctx, req), userId, {
          provider,
          redirectUri: `${ctx.config.PUBLIC_URL}/console/connections/authorized`,
        });
        if (view.authorizationUrl) return { redirect: view.authorizationUrl };
        return { redirect: `/console/connections/${view.id}/calendars?done=connected` };
      } catch (error) {
        if (error instanceof AppError && (error.status === 422 || error.status === 429))
          return { status: error.status, body: choices(locals, error.message) };
        throw error;
      }
    }
    if (!isCredentialProvider(provider)) throw notFound('Page');
    const values = readCredentials(provider, req.body ?? {});
    const outcome = await attempt(provider, values, async () => {
      await limitAttempts(res, userId);
      return linkConnection(useCases(ctx, req), userId, { provider, ...values });
    });
    if (!outcome.ok)
      return {
        status: outcome.problems.status,
        body: credentialsForm(locals, provider, values, outcome.problems),
      };
    return { redirect: `/console/connections/${outcome.value.id}/calendars?done=connected` };
  });

  // Where the OAuth callback sends the browser after consent, with the connection and its status.
  pages.get('/console/connections/authorized', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    if (req.query.status === 'error') {
      const code = formValue(req.query.error);
      return {
        redirect: `/console/connections/new?problem=${CONSENT_PROBLEMS[code] ? code : 'not-completed'}`,
      };
    }
    const status = await consentOutcome(ctx, req, userId);
    if (status?.status === 'awaiting_selection')
      return { redirect: `/console/connections/${status.id}/calendars?done=connected` };
    if (status?.status === 'importing' || status?.status === 'active')
      return { redirect: '/console/calendars?done=reconnected' };
    return { redirect: '/console/connections/new?problem=not-completed' };
  });
}

/** The connection the callback names, if it is the signed-in provider's (its status read afresh). */
async function consentOutcome(ctx: WebContext, req: Request, userId: string) {
  const id = formValue(req.query.connectionId);
  if (!isConnectionId(id)) return null;
  try {
    return await findOwnedConnection(ctx.em(req), userId, id);
  } catch (error) {
    if (error instanceof AppError && error.status === 404) return null;
    throw error;
  }
}

const icloudHelp = html`<section class="help" aria-labelledby="app-password-help">
  <h2 id="app-password-help">First, create an app-specific password</h2>
  <p>Apple does not let other apps use your Apple ID password. Create a password just for Calbridge:</p>
  <ol>
    <li>Sign in at <strong>appleid.apple.com</strong>.</li>
    <li>Open <strong>Sign-In and Security</strong>, then <strong>App-Specific Passwords</strong>.</li>
    <li>Add one named “Calbridge” and copy it. It looks like <strong>xxxx-xxxx-xxxx-xxxx</strong>.</li>
  </ol>
  <p>You can revoke it there at any time; Calbridge then asks you to reconnect.</p>
</section>`;
