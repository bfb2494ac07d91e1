/**
 * Signing in to the pages over HTTP: the administrator creates a provider, whose welcome e-mail
 * carries a single-use link that opens a session; sign-out ends it; forms without the CSRF token
 * of this browser are refused; links expire and work once; nobody learns who has an account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../platform/crypto.ts';
import { findSession, openSession } from '../../users/sign-in.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { FormClient } from './form-client.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

const outbox = async (to: string) =>
  platform.orm.em
    .fork()
    .execute<{ subject: string; text_body: string; status: string }[]>(
      'select subject, text_body, status from email_outbox where to_address = ? order by created_at',
      [to],
    );
const linkIn = (text: string) => {
  const match = /https?:\/\/[^\s]+\/sign-in\/(cbl_[\w-]+)/.exec(text);
  if (!match) throw new Error(`no sign-in link in: ${text}`);
  return `/sign-in/${match[1]}`;
};

async function signedInAdmin() {
  const admin = new FormClient(platform.apiUrl);
  await admin.get('/admin/sign-in');
  const wrong = await admin.post('/admin/sign-in', { token: 'not-the-token' });
  expect(wrong.status).toBe(422);
  expect(wrong.text).toContain('That is not the admin token.');
  const signedIn = await admin.post('/admin/sign-in', { token: platform.adminToken });
  expect(signedIn.status).toBe(303);
  expect(signedIn.location).toBe('/admin/providers');
  return admin;
}

describe('sign-in pages', () => {
  it('creates a provider who signs in once through the welcome e-mail, and signs out', async () => {
    const admin = await signedInAdmin();
    const page = await admin.get('/admin/providers');
    expect(page.status).toBe(200);
    const email = `grace-${Date.now().toString(36)}@example.com`;

    const invalid = await admin.post('/admin/providers', {
      email: 'not-an-address',
      name: '',
      timeZone: 'Mars/Base',
    });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('aria-invalid="true"');
    expect(invalid.text).toContain('value="not-an-address"');
    expect(invalid.text).toMatch(/IANA time zone/);

    const created = await admin.post('/admin/providers', {
      email,
      name: 'Grace Hopper',
      timeZone: 'Europe/Paris',
    });
    expect(created.status).toBe(303);
    const again = await admin.post('/admin/providers', { email, name: 'Grace', timeZone: 'UTC' });
    expect(again.status).toBe(409);
    expect(again.text).toContain('already exists');

    const [welcome] = await outbox(email);
    expect(welcome!.subject).toBe('Welcome to Calbridge');
    const link = linkIn(welcome!.text_body);
    await eventually(async () => (await outbox(email))[0]?.status === 'sent', {
      what: 'the welcome e-mail sent',
    });

    // Opening the link signs in only when the person presses the button (mail scanners only GET).
    const grace = new FormClient(platform.apiUrl);
    const opened = await grace.get(link);
    expect(opened.status).toBe(200);
    expect(grace.cookies.has('cb_session')).toBe(false);
    const signedIn = await grace.post(link);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/console/calendars');
    const sessionCookie = signedIn.setCookies.find((c) => c.startsWith('cb_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);
    expect(sessionCookie).not.toMatch(/Secure/i); // PUBLIC_URL is http here
    const calendars = await grace.get('/console/calendars');
    expect(calendars.status).toBe(200);
    const headers = await fetch(`${platform.apiUrl}/sign-in`);
    expect(headers.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(headers.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.headers.get('referrer-policy')).toBe('same-origin');
    expect(calendars.text).toContain('Add a new calendar connection');

    // The link worked once.
    const stranger = new FormClient(platform.apiUrl);
    await stranger.get(link);
    const reused = await stranger.post(link);
    expect(reused.status).toBe(410);
    expect(reused.text).toContain('already used');

    // Only the session's hash is stored.
    const token = grace.cookies.get('cb_session')!;
    const [stored] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from web_sessions where token_hash = ?', [token]);
    expect(stored!.n).toBe(0);

    // Signing out ends the session: the old cookie no longer opens the console.
    const out = await grace.post('/sign-out');
    expect(out.location).toBe('/sign-in?signed-out=1');
    const replay = new FormClient(platform.apiUrl);
    replay.cookies.set('cb_session', token);
    const after = await replay.get('/console/calendars');
    expect(after.status).toBe(303);
    expect(after.location).toBe('/sign-in?next=%2Fconsole%2Fcalendars');
  });

  it('answers the same for an unknown address, and mails a link that expires', async () => {
    const user = await platform.createUser({ name: 'Ada' });
    const client = new FormClient(platform.apiUrl);
    await client.get('/sign-in');
    const unknown = await client.post('/sign-in', { email: 'nobody-here@example.com' });
    await client.get('/sign-in');
    const known = await client.post('/sign-in', { email: user.id.toUpperCase() });
    expect(unknown.status).toBe(200);
    expect(known.status).toBe(200);
    expect(unknown.text).toContain('Check your e-mail');
    expect(unknown.text.replace('nobody-here@example.com', 'X')).toBe(
      known.text.replace(user.id.toUpperCase(), 'X'),
    );
    expect(await outbox('nobody-here@example.com')).toHaveLength(0);
    const [mail] = await outbox(user.id);
    expect(mail!.subject).toBe('Your Calbridge sign-in link');

    const link = linkIn(mail!.text_body);
    await platform.orm.em
      .fork()
      .execute("update sign_in_links set expires_at = now() - interval '1 second' where user_id = ?", [
        user.id,
      ]);
    await client.get(link);
    const expired = await client.post(link);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('expired');
  });

  it('refuses a form without this browser’s CSRF token', async () => {
    const admin = await signedInAdmin();
    await admin.get('/admin/providers');
    const fields = { email: `csrf-${Date.now()}@example.com`, name: 'Mallory', timeZone: 'UTC' };
    expect((await admin.post('/admin/providers', fields, { csrf: null })).status).toBe(403);
    // A token from another browser does not fit this one either.
    const other = new FormClient(platform.apiUrl);
    await other.get('/sign-in');
    expect((await admin.post('/admin/providers', fields, { csrf: other.csrfToken() })).status).toBe(403);
    // A form over the size limit gets a page saying so, not the API's JSON.
    await admin.get('/admin/providers');
    const huge = await admin.post('/admin/providers', { ...fields, name: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect(huge.text).toContain('The form could not be read');
    const [row] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from users where id = ?', [fields.email]);
    expect(row!.n).toBe(0);
  });

  it('sends people who are not signed in to the sign-in page, and never to another site after it', async () => {
    const client = new FormClient(platform.apiUrl);
    const console = await client.get('/console/calendars');
    expect(console.status).toBe(303);
    expect(console.location).toBe('/sign-in?next=%2Fconsole%2Fcalendars');
    const evil = await client.get('/sign-in?next=https://evil.example/');
    expect(evil.text).not.toContain('evil.example');
    // The API keeps its JSON answers, and an unknown asset is the API's 404.
    expect((await platform.request('GET', '/v1/me')).body.error.code).toBe('unauthorized');
    const missing = await platform.request('GET', '/static/nothing.css');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const css = await fetch(`${platform.apiUrl}/static/app.css`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  });
});

describe('cookies behind https', () => {
  it('marks both cookies Secure when PUBLIC_URL is https', async () => {
    const secure = await startPlatform({ worker: false, env: { PUBLIC_URL: 'https://calbridge.test' } });
    try {
      const admin = new FormClient(secure.apiUrl);
      const form = await admin.get('/admin/sign-in');
      expect(form.setCookies.find((c) => c.startsWith('cb_browser='))).toMatch(/;\s*Secure/i);
      const signedIn = await admin.post('/admin/sign-in', { token: secure.adminToken });
      expect(signedIn.status).toBe(303);
      const session = signedIn.setCookies.find((c) => c.startsWith('cb_session='))!;
      expect(session).toMatch(/;\s*Secure/i);
      expect(session).toMatch(/HttpOnly/i);
      expect(session).toMatch(/SameSite=Lax/i);
    } finally {
      await secure.stop();
    }
  });

  it('finds a live session with one statement and records when it was last seen, to within five minutes', async () => {
    const em = () => platform.orm.em.fork();
    const token = await openSession(em(), { kind: 'admin' });
    const seen = async () =>
      (
        await em().execute<{ last_seen_at: string }[]>(
          'select last_seen_at::text from web_sessions where token_hash = ?',
          [hashToken(token)],
        )
      )[0]!.last_seen_at;
    const opened = await seen();
    expect((await findSession(em(), token))?.holder).toEqual({ kind: 'admin' });
    expect(await seen()).toBe(opened);
    await em().execute(
      `update web_sessions set last_seen_at = now() - interval '6 minutes' where token_hash = ?`,
      [hashToken(token)],
    );
    const stale = await seen();
    expect((await findSession(em(), token))?.holder).toEqual({ kind: 'admin' });
    expect(await seen()).not.toBe(stale);
    expect(await findSession(em(), `${token}x`)).toBeNull();
  });
});
