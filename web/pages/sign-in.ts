/**
 * Signing in: a provider asks for a link by e-mail and opens it (one use, 15 minutes); the
 * administrator signs in with the admin token. Opening the link shows a button rather than signing
 * in at once, because mail scanners fetch links before people do and would spend it.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../../platform/crypto.ts';
import { rateLimit } from '../../platform/rate-limits.ts';
import { email as emailSchema } from '../../platform/validation.ts';
import {
  closeSession,
  openSession,
  SIGN_IN_LINK_MINUTES,
  sendSignInLink,
  useSignInLink,
} from '../../users/sign-in.ts';
import { useCases, type WebContext } from '../context.ts';
import { clearSessionCookie, setSessionCookie } from '../cookies.ts';
import { html } from '../html.ts';
import { csrfField, field, formError, page } from '../layout.ts';
import type { Pages } from '../routing.ts';

/** Only our own paths: never a redirect to another site after sign-in. */
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/(console|admin)(\/[\w\-/?=&%.]*)?$/.test(next) ? next : null;

export function registerSignInPages(pages: Pages, ctx: WebContext): void {
  const perAddress = rateLimit(20, 'sign-in attempts from this address');
  const perEmail = rateLimit(3, 'sign-in links for this address');

  const signInForm = (
    locals: { csrfToken: string; session: null | import('../../users/sign-in.ts').Session },
    values: { email?: string; next?: string | null; error?: string | null; flash?: string | null },
  ) =>
    page(
      { title: 'Sign in', session: locals.session, csrfToken: locals.csrfToken, flash: values.flash ?? null },
      html`<h1>Sign in</h1>
        <p>Enter the e-mail address of your Calbridge account. We will send you a link that signs you in.</p>
        <form method="post" action="/sign-in" novalidate>
          ${csrfField(locals.csrfToken)}
          ${values.next ? html`<input type="hidden" name="next" value="${values.next}">` : null}
          ${field({ name: 'email', label: 'E-mail address', type: 'email', value: values.email ?? '', error: values.error ?? null, required: true, autocomplete: 'email' })}
          <button type="submit">Send me a sign-in link</button>
        </form>
        <p class="aside"><a href="/admin/sign-in">Administrator sign-in</a></p>`,
    );

  pages.get('/sign-in', async (req, _res, locals) => {
    if (locals.session) return { redirect: '/' };
    const flash = req.query['signed-out'] === '1' ? 'You are signed out.' : null;
    return signInForm(locals, { next: safeNext(req.query.next), flash });
  });

  pages.post('/sign-in', async (req, res, locals) => {
    await perAddress(res, req.ip ?? 'unknown');
    const parsed = emailSchema.safeParse(req.body.email ?? '');
    const next = safeNext(req.body.next);
    if (!parsed.success)
      return {
        status: 422,
        body: signInForm(locals, {
          email: String(req.body.email ?? ''),
          next,
          error: 'Enter an e-mail address such as ada@example.com.',
        }),
      };
    await perEmail(res, parsed.data.toLowerCase());
    await sendSignInLink(useCases(ctx, req), parsed.data);
    return page(
      { title: 'Check your e-mail', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Check your e-mail</h1>
        <p>If <strong>${parsed.data}</strong> has a Calbridge account, a sign-in link is on its way. It works once, within ${SIGN_IN_LINK_MINUTES} minutes.</p>
        <p><a href="/sign-in">Use another address</a></p>`,
    );
  });

  pages.get('/sign-in/:token', async (req, _res, locals) =>
    page(
      { title: 'Sign in', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Sign in to Calbridge</h1>
        <form method="post" action="/sign-in/${req.params.token}">
          ${csrfField(locals.csrfToken)}
          <button type="submit">Sign in</button>
        </form>`,
    ),
  );

  pages.post('/sign-in/:token', async (req, res, locals) => {
    await perAddress(res, req.ip ?? 'unknown');
    const token = String(req.params.token);
    const outcome =
      token.length <= 100
        ? await useSignInLink(ctx.em(req), token)
        : ({ ok: false, reason: 'unknown' } as const);
    if (!outcome.ok) {
      const why =
        outcome.reason === 'used'
          ? 'This sign-in link was already used. Each link works once.'
          : outcome.reason === 'expired'
            ? `This sign-in link has expired: links work for ${SIGN_IN_LINK_MINUTES} minutes.`
            : 'This sign-in link is not valid.';
      return {
        status: 410,
        body: page(
          { title: 'Link not valid', session: locals.session, csrfToken: locals.csrfToken },
          html`<h1>This link cannot sign you in</h1><p>${why}</p><p><a href="/sign-in">Get a new sign-in link</a></p>`,
        ),
      };
    }
    if (locals.session) await closeSession(ctx.em(req), locals.session.id);
    setSessionCookie(
      res,
      ctx.config,
      await openSession(ctx.em(req), { kind: 'user', userId: outcome.userId }),
    );
    return { redirect: '/console/calendars' };
  });

  const adminForm = (
    locals: { csrfToken: string; session: null | import('../../users/sign-in.ts').Session },
    error: string | null,
  ) =>
    page(
      { title: 'Administrator sign-in', session: locals.session, csrfToken: locals.csrfToken },
      html`<h1>Administrator sign-in</h1>
        <form method="post" action="/admin/sign-in" novalidate>
          ${csrfField(locals.csrfToken)}
          ${formError(error)}
          ${field({ name: 'token', label: 'Admin token', type: 'password', required: true, autocomplete: 'current-password', hint: 'The ADMIN_TOKEN of this server (npm start prints it).' })}
          <button type="submit">Sign in</button>
        </form>`,
    );

  pages.get('/admin/sign-in', async (_req, _res, locals) => adminForm(locals, null));

  pages.post('/admin/sign-in', async (req, res, locals) => {
    await perAddress(res, req.ip ?? 'unknown');
    const token = z.string().max(500).safeParse(req.body.token);
    if (!token.success || !constantTimeEqual(token.data, ctx.config.ADMIN_TOKEN))
      return { status: 422, body: adminForm(locals, 'That is not the admin token.') };
    if (locals.session) await closeSession(ctx.em(req), locals.session.id);
    setSessionCookie(res, ctx.config, await openSession(ctx.em(req), { kind: 'admin' }));
    return { redirect: '/admin/providers' };
  });

  pages.post('/sign-out', async (req, res, locals) => {
    if (locals.session) await closeSession(ctx.em(req), locals.session.id);
    clearSessionCookie(res, ctx.config);
    return { redirect: '/sign-in?signed-out=1' };
  });
}
