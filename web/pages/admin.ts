/** The administrator's page: the providers (users) of this server, and creating one. */
import { AppError } from '../../domain/errors.ts';
import { createUser, listUsers, newUserInput } from '../../users/accounts.ts';
import { sendSignInLink } from '../../users/sign-in.ts';
import { useCases, type WebContext } from '../context.ts';
import { fieldErrors } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, field, page, when } from '../layout.ts';
import { type Pages, signedInAdmin } from '../routing.ts';

export function registerAdminPages(pages: Pages, ctx: WebContext): void {
  const view = async (
    req: import('express').Request,
    locals: import('../context.ts').PageLocals,
    form: { values?: Record<string, string>; errors?: Record<string, string>; flash?: string | null } = {},
  ): Promise<Html> => {
    const users = await listUsers(ctx.em(req));
    const values = form.values ?? {};
    const errors = form.errors ?? {};
    return page(
      { title: 'Providers', session: locals.session, csrfToken: locals.csrfToken, flash: form.flash ?? null },
      html`<h1>Providers</h1>
        <section aria-labelledby="new-provider">
          <h2 id="new-provider">Create a provider</h2>
          <p>They get a welcome e-mail with a link that signs them in.</p>
          <form method="post" action="/admin/providers" novalidate>
            ${csrfField(locals.csrfToken)}
            ${field({ name: 'email', label: 'E-mail address', type: 'email', value: values.email, error: errors.email, required: true, autocomplete: 'off' })}
            ${field({ name: 'name', label: 'Name', value: values.name, error: errors.name, required: true, autocomplete: 'off' })}
            ${field({ name: 'timeZone', label: 'Time zone', value: values.timeZone ?? 'UTC', error: errors.timeZone, required: true, hint: 'An IANA name such as Europe/Berlin.', attributes: html`list="time-zones"` })}
            <datalist id="time-zones">${Intl.supportedValuesOf('timeZone').map((z) => html`<option value="${z}">`)}</datalist>
            <button type="submit">Create and send the welcome e-mail</button>
          </form>
        </section>
        <section aria-labelledby="all-providers">
          <h2 id="all-providers">All providers</h2>
          ${
            users.length
              ? html`<table>
                  <thead><tr><th scope="col">E-mail</th><th scope="col">Name</th><th scope="col">Time zone</th><th scope="col">Created</th></tr></thead>
                  <tbody>${users.map((u) => html`<tr><td>${u.id}</td><td>${u.name}</td><td>${u.timeZone}</td><td>${when(u.createdAt, 'UTC')}</td></tr>`)}</tbody>
                </table>`
              : html`<p>No providers yet.</p>`
          }
        </section>`,
    );
  };

  pages.get('/admin/providers', async (req, _res, locals) => {
    signedInAdmin(locals);
    const created = typeof req.query.created === 'string' ? req.query.created : null;
    return view(req, locals, { flash: created ? `Created ${created} and sent the welcome e-mail.` : null });
  });

  pages.post('/admin/providers', async (req, _res, locals) => {
    signedInAdmin(locals);
    const values = {
      email: String(req.body.email ?? ''),
      name: String(req.body.name ?? ''),
      timeZone: String(req.body.timeZone ?? ''),
    };
    const parsed = newUserInput.safeParse(values);
    if (!parsed.success)
      return { status: 422, body: await view(req, locals, { values, errors: fieldErrors(parsed.error) }) };
    try {
      const user = await createUser(ctx.em(req), parsed.data);
      await sendSignInLink(useCases(ctx, req), user.id, 'welcome');
      return { redirect: `/admin/providers?created=${encodeURIComponent(user.id)}` };
    } catch (error) {
      if (error instanceof AppError && error.code === 'already_exists')
        return {
          status: 409,
          body: await view(req, locals, {
            values,
            errors: { email: 'A provider with this e-mail already exists.' },
          }),
        };
      throw error;
    }
  });
}
