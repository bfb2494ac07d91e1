/**
 * One connection's settings: what it is and how it is doing, the sync direction, "Synchronize now",
 * and removing the account after a page that says what removal does.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { changeSyncDirection, removeConnection, requestSync } from '../../../connections/commands.ts';
import { type ConnectionView, connectionView } from '../../../connections/views.ts';
import { isOAuthProvider, SYNC_DIRECTIONS, type SyncDirection } from '../../../domain/connection.ts';
import { isRemovalStatus } from '../../../domain/connection-status.ts';
import { AppError } from '../../../domain/errors.ts';
import { providerModules } from '../../../providers/registry.ts';
import { readUser } from '../../../users/accounts.ts';
import { type PageLocals, useCases, type WebContext } from '../../context.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, formError, page, when } from '../../layout.ts';
import { type Pages, signedInUser } from '../../routing.ts';
import { STATUS_TEXT } from '../calendars.ts';
import { connectionTitle, formValue, ownedConnection, providerName } from './owned.ts';

const direction = z.enum(SYNC_DIRECTIONS);

const DONE: Record<string, string> = {
  direction: 'Sync direction saved. It applies to changes from now on.',
  sync: 'Synchronization started. It runs in the background; the Calendars page shows its progress.',
};

interface FormProblem {
  form: 'direction' | 'sync';
  message: string;
}

export function registerSettingsPages(pages: Pages, ctx: WebContext): void {
  const render = async (
    req: Request,
    locals: PageLocals,
    userId: string,
    view: ConnectionView,
    problem: FormProblem | null = null,
  ): Promise<Html> => {
    const { timeZone } = await readUser(ctx.em(req), userId);
    const flash = problem ? null : (DONE[formValue(req.query.done)] ?? null);
    const title = connectionTitle(view);
    const live = !isRemovalStatus(view.status);
    return page(
      { title: `Settings of ${title}`, session: locals.session, csrfToken: locals.csrfToken, flash },
      html`<h1>Settings of ${title}</h1>
        <dl class="facts">
          <dt>Provider</dt><dd>${providerName(view.provider)}</dd>
          <dt>Account</dt><dd>${view.accountEmail ?? '—'}</dd>
          <dt>Status</dt><dd>${STATUS_TEXT[view.status] ?? view.status}${view.statusReason ? html`: ${view.statusReason}` : null}</dd>
          <dt>Connected since</dt><dd>${when(view.createdAt, timeZone)}</dd>
          <dt>Last sync</dt><dd>${view.lastSyncAt ? when(view.lastSyncAt, timeZone) : '—'}</dd>
        </dl>
        ${
          live
            ? html`<p><a href="/console/connections/${view.id}/calendars">Choose the calendars to check for conflicts</a></p>
                ${directionForm(view, locals.csrfToken, problem?.form === 'direction' ? problem.message : null)}
                ${syncForm(view, locals.csrfToken, problem?.form === 'sync' ? problem.message : null)}
                <section aria-labelledby="remove-heading">
                  <h2 id="remove-heading">Remove account</h2>
                  <p>Stops syncing with this account and deletes what Calbridge imported from it.</p>
                  <p><a class="button secondary" href="/console/connections/${view.id}/remove">Remove account…</a></p>
                </section>`
            : html`<p>This account ${view.status === 'removed' ? 'was removed' : 'is being removed'}: nothing syncs any more.</p>`
        }
        <p><a href="/console/calendars">Back to Calendars</a></p>`,
    );
  };

  const load = async (req: Request, userId: string) => {
    const connection = await ownedConnection(ctx, req, userId);
    return connectionView(ctx.em(req), connection.id);
  };

  /** A refusal from the use case shown on the form it came from; anything else is the error page. */
  const refused = async (
    req: Request,
    locals: PageLocals,
    userId: string,
    view: ConnectionView,
    form: FormProblem['form'],
    error: unknown,
  ) => {
    if (!(error instanceof AppError) || ![400, 409, 422].includes(error.status)) throw error;
    const fields = (error.details?.fields as { message: string }[] | undefined) ?? [];
    const message = fields.length
      ? `Not possible: ${fields.map((f) => f.message).join('; ')}.`
      : error.message;
    const status = error.status === 409 ? 409 : 422;
    return {
      status,
      body: await render(req, locals, userId, await connectionView(ctx.em(req), view.id), { form, message }),
    };
  };

  pages.get('/console/connections/:id', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    return render(req, locals, userId, await load(req, userId));
  });

  pages.post('/console/connections/:id/direction', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const view = await load(req, userId);
    const chosen = direction.safeParse(req.body?.syncDirection);
    if (!chosen.success)
      return {
        status: 422,
        body: await render(req, locals, userId, view, {
          form: 'direction',
          message: 'Choose a sync direction.',
        }),
      };
    try {
      await changeSyncDirection(useCases(ctx, req), userId, view.id, chosen.data);
    } catch (error) {
      return refused(req, locals, userId, view, 'direction', error);
    }
    return { redirect: `/console/connections/${view.id}?done=direction` };
  });

  pages.post('/console/connections/:id/sync', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const view = await load(req, userId);
    const chosen = direction.safeParse(req.body?.direction);
    if (!chosen.success)
      return {
        status: 422,
        body: await render(req, locals, userId, view, { form: 'sync', message: 'Choose what to transfer.' }),
      };
    try {
      await requestSync(useCases(ctx, req), userId, view.id, chosen.data);
    } catch (error) {
      return refused(req, locals, userId, view, 'sync', error);
    }
    return { redirect: `/console/connections/${view.id}?done=sync` };
  });

  pages.get('/console/connections/:id/remove', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const view = await load(req, userId);
    const title = connectionTitle(view);
    if (isRemovalStatus(view.status)) return { redirect: `/console/connections/${view.id}` };
    return page(
      { title: `Remove ${title}`, session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Remove ${title}?</h1>
        <p>When you remove this account:</p>
        <ul>
          <li>Calbridge stops syncing with it.</li>
          <li>The busy time imported from its calendars is deleted, so it no longer blocks bookings.</li>
          <li>${
            isOAuthProvider(view.provider)
              ? `Calbridge's access to your ${providerName(view.provider)} account is revoked.`
              : 'The stored password or feed address is deleted.'
          }</li>
          <li>Your bookings stay, and nothing is deleted from ${providerName(view.provider)} itself.</li>
        </ul>
        <form method="post" action="/console/connections/${view.id}/remove" class="actions">
          ${csrfField(locals.csrfToken)}
          <button type="submit" class="danger">Remove account</button>
          <a href="/console/connections/${view.id}">Cancel, keep it</a>
        </form>`,
    );
  });

  pages.post('/console/connections/:id/remove', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const connection = await ownedConnection(ctx, req, userId);
    await removeConnection(useCases(ctx, req), userId, connection.id);
    return { redirect: '/console/calendars?done=removed' };
  });
}

const DIRECTION_LABELS = (provider: string): Record<SyncDirection, [string, string]> => {
  const name = providerName(provider);
  return {
    both: [
      'Both ways',
      `Changes in ${name} come to Calbridge, and appointments made in Calbridge are written to ${name}.`,
    ],
    inbound: [`From ${name} to Calbridge only`, `Calbridge reads ${name} and writes nothing to it.`],
    outbound: [
      `From Calbridge to ${name} only`,
      `Appointments made in Calbridge are written to ${name}; changes made there are not read back.`,
    ],
  };
};

function directionForm(view: ConnectionView, csrfToken: string, error: string | null): Html {
  const labels = DIRECTION_LABELS(view.provider);
  const readOnly = providerModules[view.provider]?.readOnly ?? false;
  return html`<section aria-labelledby="direction-heading">
    <h2 id="direction-heading">Sync direction</h2>
    <form method="post" action="/console/connections/${view.id}/direction">
      ${csrfField(csrfToken)}
      ${formError(error)}
      <fieldset>
        <legend>Which way changes flow from now on</legend>
        <ul class="options">
          ${SYNC_DIRECTIONS.map((d) => {
            const disabled = d === 'outbound' && readOnly;
            return html`<li>
              <input type="radio" id="direction-${d}" name="syncDirection" value="${d}" aria-describedby="direction-${d}-hint"${view.syncDirection === d ? html` checked` : null}${disabled ? html` disabled` : null}>
              <label for="direction-${d}">${labels[d][0]}</label>
              <span class="hint" id="direction-${d}-hint">${disabled ? `Not possible: ${providerName(view.provider)} feeds are read-only.` : labels[d][1]}</span>
            </li>`;
          })}
        </ul>
      </fieldset>
      <button type="submit">Save sync direction</button>
    </form>
  </section>`;
}

function syncForm(view: ConnectionView, csrfToken: string, error: string | null): Html {
  const name = providerName(view.provider);
  const readOnly = providerModules[view.provider]?.readOnly ?? false;
  const options: [SyncDirection, string][] = [
    ['both', 'Both ways'],
    ['inbound', `From ${name} to Calbridge: existing events become appointments`],
    ['outbound', `From Calbridge to ${name}: existing appointments are written to your primary calendar`],
  ];
  return html`<section aria-labelledby="sync-heading">
    <h2 id="sync-heading">Synchronize now</h2>
    <p>Sync normally carries only changes made after the connection. Synchronize now also transfers the items that already existed (“old” items), once, in the background.</p>
    <form method="post" action="/console/connections/${view.id}/sync">
      ${csrfField(csrfToken)}
      ${formError(error)}
      <fieldset>
        <legend>What to transfer</legend>
        <ul class="options">
          ${options.map(([d, label]) => {
            const disabled = d === 'outbound' && readOnly;
            return html`<li>
              <input type="radio" id="sync-${d}" name="direction" value="${d}"${d === 'both' ? html` checked` : null}${disabled ? html` disabled` : null}>
              <label for="sync-${d}">${label}</label>
            </li>`;
          })}
        </ul>
      </fieldset>
      <button type="submit">Synchronize now</button>
    </form>
  </section>`;
}
