/**
 * Signed-in clients for page tests, without going through the e-mail each time (test/web/
 * sign-in.test.ts covers that): a session opened the way the sign-in link opens one.
 */
import type { BrowserContext } from 'playwright-core';
import { openSession } from '../../users/sign-in.ts';
import type { Platform } from '../harness/platform.ts';
import { FormClient } from './form-client.ts';

export async function sessionFor(platform: Platform, userId: string): Promise<string> {
  return openSession(platform.orm.em.fork(), { kind: 'user', userId });
}

/** A FormClient signed in as `userId`. */
export async function signedInClient(platform: Platform, userId: string): Promise<FormClient> {
  const client = new FormClient(platform.apiUrl);
  client.cookies.set('cb_session', await sessionFor(platform, userId));
  return client;
}

/** Signs a browser context in as `userId` (before its first page). */
export async function signInBrowser(
  context: BrowserContext,
  platform: Platform,
  userId: string,
): Promise<void> {
  await context.addCookies([
    {
      name: 'cb_session',
      value: await sessionFor(platform, userId),
      url: platform.apiUrl,
      httpOnly: true,
      sameSite: 'Lax',
    },
  ]);
}
