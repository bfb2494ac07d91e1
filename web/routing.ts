/**
 * How pages are declared: a handler gets the request and the page locals (session, CSRF token) and
 * returns a page, a page with a status (a form with errors: 422), or a redirect (after a POST that
 * worked: 303, so a reload never posts twice). Errors become pages too, never JSON.
 */
import type express from 'express';
import type { Request, Response, Router } from 'express';
import { AppError } from '../domain/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { PageLocals } from './context.ts';
import { type Html, html } from './html.ts';
import { page } from './layout.ts';

export type PageResult = Html | { status: number; body: Html } | { redirect: string };
export type PageHandler = (req: Request, res: Response, locals: PageLocals) => Promise<PageResult>;

/** Thrown where a page needs a signed-in provider (or the administrator) and there is none. */
export class SignInRequired extends Error {}

export function signedInUser(locals: PageLocals): string {
  if (locals.session?.holder.kind === 'user') return locals.session.holder.userId;
  throw new SignInRequired();
}

export function signedInAdmin(locals: PageLocals): void {
  if (locals.session?.holder.kind !== 'admin') throw new SignInRequired();
}

function send(res: Response, result: PageResult): void {
  res.setHeader('Cache-Control', 'no-store');
  if ('redirect' in result) {
    res.redirect(303, result.redirect);
    return;
  }
  const [status, body] = 'status' in result ? [result.status, result.body] : [200, result];
  res.status(status).type('html').send(body.value);
}

export class Pages {
  readonly router: Router;
  readonly #logger: Logger;
  constructor(router: Router, logger: Logger) {
    this.router = router;
    this.#logger = logger;
  }

  get(path: string, handler: PageHandler): void {
    this.router.get(path, this.wrap(handler));
  }

  post(path: string, handler: PageHandler): void {
    this.router.post(path, this.wrap(handler));
  }

  private wrap(handler: PageHandler): express.RequestHandler {
    return async (req, res) => {
      const locals = res.locals as PageLocals;
      try {
        send(res, await handler(req, res, locals));
      } catch (error) {
        if (res.headersSent) return;
        send(res, this.errorPage(req, locals, error));
      }
    };
  }

  errorPage(req: Request, locals: PageLocals, error: unknown): PageResult {
    if (error instanceof SignInRequired) {
      const next = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      return { redirect: `/sign-in${next}` };
    }
    const frame = { session: locals.session, csrfToken: locals.csrfToken };
    if (error instanceof AppError) {
      const title =
        error.status === 404 ? 'Not found' : error.status === 429 ? 'Too many requests' : 'That did not work';
      const message =
        error.status === 404
          ? 'There is nothing here. The link may be wrong, or what it showed was removed.'
          : error.message;
      return {
        status: error.status,
        body: page(
          { ...frame, title },
          html`<h1>${title}</h1><p>${message}</p><p><a href="/">Go to the start page</a></p>`,
        ),
      };
    }
    this.#logger.error({ err: error, path: req.path }, 'page failed');
    return {
      status: 503,
      body: page(
        { ...frame, title: 'Temporarily unavailable' },
        html`<h1>Temporarily unavailable</h1><p>A service this page depends on is not answering. Please try again in a moment.</p>`,
      ),
    };
  }
}
