/**
 * The pages for people, served by the same HTTP server as the API (api/app.ts mounts this router):
 * sign-in, the provider's console, the administrator's page, and the public booking pages. Pages
 * call the same use cases as the API (connections/, bookings/, users/), never the JSON API itself.
 */
import path from 'node:path';
import express, { type Router } from 'express';
import { AppError } from '../domain/errors.ts';
import { findSession } from '../users/sign-in.ts';
import type { PageLocals, WebContext } from './context.ts';
import { BROWSER_COOKIE, readCookies, SESSION_COOKIE, setBrowserCookie } from './cookies.ts';
import { CSRF_FIELD, csrfTokens } from './csrf.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { registerAdminPages } from './pages/admin.ts';
import { registerBookingCalendarPages } from './pages/booking-calendars.ts';
import { registerCalendarPages } from './pages/calendars.ts';
import { registerConnectionPages } from './pages/connections.ts';
import { registerPublicBookingPages } from './pages/public-booking.ts';
import { registerSchedulePages } from './pages/schedule.ts';
import { registerSignInPages } from './pages/sign-in.ts';
import { Pages } from './routing.ts';

/** Where the pages live; every other path belongs to the API. */
const PAGE_PATHS = /^\/($|sign-in|sign-out|console|admin|book\/|l\/|manage\/)/;

export function createWebRouter(ctx: WebContext): Router {
  const router = express.Router();
  router.use(
    '/static',
    express.static(path.join(import.meta.dirname, 'static'), {
      index: false,
      maxAge: '1h',
    }),
  );

  const csrf = csrfTokens(ctx.config.encryptionKey);
  const pagesOnly = express.Router();
  pagesOnly.use((_req, res, next) => {
    // Our own script and stylesheet only; no framing (clickjacking); and no manage or one-time
    // token in a Referer sent to another site.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  pagesOnly.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 500 }));
  pagesOnly.use(async (req, res, next) => {
    try {
      const cookies = readCookies(req);
      let browserId = cookies[BROWSER_COOKIE];
      if (!browserId || !/^[\w-]{40,64}$/.test(browserId)) {
        browserId = csrf.newBrowserId();
        setBrowserCookie(res, ctx.config, browserId);
        // A POST from a browser we never gave a form cannot carry a valid token.
        if (req.method === 'POST') browserId = undefined;
      }
      const sessionToken = cookies[SESSION_COOKIE];
      const session =
        sessionToken && sessionToken.length <= 100 ? await findSession(ctx.em(req), sessionToken) : null;
      const locals = res.locals as PageLocals & { browserId?: string };
      locals.session = session;
      locals.csrfToken = browserId ? csrf.tokenFor(browserId, session?.id ?? null) : '';
      if (req.method === 'POST' && !csrf.verify(req.body?.[CSRF_FIELD], browserId, session?.id ?? null)) {
        res
          .status(403)
          .type('html')
          .send(
            page(
              { title: 'Form expired', session, csrfToken: locals.csrfToken },
              html`<h1>This form has expired</h1>
                <p>For your safety the form could not be accepted: it was opened in another browser session, or before you signed in or out. Go back, reload the page and send it again.</p>`,
            ).value,
          );
        return;
      }
      next();
    } catch (error) {
      next(error);
    }
  });

  const pages = new Pages(pagesOnly, ctx.logger);
  pages.get('/', async (_req, _res, locals) => ({
    redirect:
      locals.session?.holder.kind === 'admin'
        ? '/admin/providers'
        : locals.session
          ? '/console/calendars'
          : '/sign-in',
  }));
  registerSignInPages(pages, ctx);
  registerAdminPages(pages, ctx);
  registerCalendarPages(pages, ctx);
  registerConnectionPages(pages, ctx);
  registerSchedulePages(pages, ctx);
  registerBookingCalendarPages(pages, ctx);
  registerPublicBookingPages(pages, ctx);

  // A form the body parser refused (too large, broken encoding), or a failure before any page ran
  // (the session lookup with the database down): a page, never the API's JSON.
  pagesOnly.use(((error, req, res, _next) => {
    const locals = res.locals as Partial<PageLocals>;
    const status = (error as { status?: unknown }).status;
    const refused =
      typeof status === 'number' &&
      status >= 400 &&
      status < 500 &&
      (error as { expose?: unknown }).expose === true;
    const result = pages.errorPage(
      req,
      { session: locals.session ?? null, csrfToken: locals.csrfToken ?? '' },
      refused
        ? new AppError(
            status === 413 ? 413 : 400,
            'validation_failed',
            'The form could not be read: it may be too large. Go back and try again.',
          )
        : error,
    );
    if (res.headersSent) return;
    if ('redirect' in result) res.redirect(303, result.redirect);
    else if ('status' in result) res.status(result.status).type('html').send(result.body.value);
  }) as express.ErrorRequestHandler);

  router.use((req, res, next) => (PAGE_PATHS.test(req.path) ? pagesOnly(req, res, next) : next()));
  return router;
}
