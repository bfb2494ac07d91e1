/** The two cookies of the pages: the session, and the browser id the CSRF tokens are bound to. */

import { parse } from 'cookie';
import type { Request, Response } from 'express';
import type { Config } from '../platform/config.ts';
import { SESSION_DAYS } from '../users/sign-in.ts';

export const SESSION_COOKIE = 'cb_session';
export const BROWSER_COOKIE = 'cb_browser';

export const readCookies = (req: Request): Record<string, string | undefined> =>
  req.headers.cookie ? parse(req.headers.cookie) : {};

function options(config: Config, maxAgeMs?: number) {
  return {
    httpOnly: true,
    // Lax: the cookie comes along when a person follows a link to us (an e-mail, a redirect back
    // from Google), never on a cross-site POST.
    sameSite: 'lax' as const,
    secure: config.PUBLIC_URL.startsWith('https://'),
    path: '/',
    ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}),
  };
}

export const setSessionCookie = (res: Response, config: Config, token: string) =>
  res.cookie(SESSION_COOKIE, token, options(config, SESSION_DAYS * 86_400_000));

export const clearSessionCookie = (res: Response, config: Config) =>
  res.clearCookie(SESSION_COOKIE, options(config));

export const setBrowserCookie = (res: Response, config: Config, id: string) =>
  res.cookie(BROWSER_COOKIE, id, options(config, 400 * 86_400_000));
