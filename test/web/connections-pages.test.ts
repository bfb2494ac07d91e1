/**
 * The provider's connection pages over HTTP: the wizard against a real Radicale (wrong password,
 * bad fields, success), the calendar list and Save → import, settings (direction, sync now,
 * removal after a confirmation), reconnecting with a new password, Google through its stand-in
 * (consent and back), the shared connect budget, and what another user, a bad id or a form without
 * its CSRF token gets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type GoogleStandin, startGoogleStandin } from '../standins/google/server.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import type { FormClient } from './form-client.ts';
import { signedInClient } from './signed-in.ts';

let platform: Platform;
let radicale: Radicale;
let google: GoogleStandin;

beforeAll(async () => {
  google = await startGoogleStandin();
  [platform, radicale] = await Promise.all([
    startPlatform({ env: { ...google.env, CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [{ username: 'setup', password: 'setup' }] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
  await google?.close();
});

let counter = 0;
/** A Radicale account with a "Work" and a "Personal" calendar. */
async function davAccount() {
  const username = `page${++counter}-${Date.now().toString(36)}`;
  const password = `pw-${username}`;
  await radicale.setPassword(username, password);
  await radicale.createCalendar(username, password, 'work', { displayName: 'Work' });
  await radicale.createCalendar(username, password, 'personal', { displayName: 'Personal' });
  return { username, password };
}

const apiConnection = async (token: string, id: string) =>
  (await platform.request('GET', `/v1/connections/${id}`, { token })).body;

const calendarId = (connection: { calendars: { id: string; name: string }[] }, name: string) =>
  connection.calendars.find((c) => c.name === name)!.id;

/** Links a Radicale account through the API (for tests about what comes after the wizard). */
async function linkedViaApi(token: string) {
  const acct = await davAccount();
  const created = await platform.request('POST', '/v1/connections', {
    token,
    body: { provider: 'caldav', serverUrl: radicale.url, username: acct.username, password: acct.password },
  });
  expect(created.status).toBe(201);
  return { ...acct, id: created.body.id as string };
}

const pathOf = (location: string) => {
  const url = new URL(location, platform.apiUrl);
  return `${url.pathname}${url.search}`;
};

describe('connection pages', () => {
  it('adds a CalDAV server: a wrong password is refused in the form, then the calendars are chosen and imported', async () => {
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    const acct = await davAccount();

    const wizard = await client.get('/console/connections/new');
    expect(wizard.status).toBe(200);
    expect(wizard.text).toContain('Add a new calendar connection');
    expect(wizard.text).toContain('href="/console/connections/new/caldav"');
    expect(wizard.text).toContain('href="/console/connections/new/icloud"');
    expect(wizard.text).toContain('href="/console/connections/new/ics"');
    // Google is configured on this server (the stand-in), Microsoft is not: no button for it.
    expect(wizard.text).toContain('action="/console/connections/new/google"');
    expect(wizard.text).not.toContain('action="/console/connections/new/microsoft"');
    expect(wizard.text).toContain('has not set up Microsoft 365 sign-in');

    expect((await client.get('/console/connections/new/caldav')).status).toBe(200);
    const empty = await client.post('/console/connections/new/caldav', {
      serverUrl: 'not a url',
      username: '',
      password: '',
    });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Server URL must be an http(s) URL.');
    expect(empty.text).toContain('Enter the username.');
    expect(empty.text).toContain('Enter the password.');
    expect(empty.text).toContain('value="not a url"');

    const wrong = await client.post('/console/connections/new/caldav', {
      serverUrl: radicale.url,
      username: acct.username,
      password: 'not-the-password',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toMatch(/role="alert">The provider rejected these credentials/);
    expect(wrong.text).toContain(`value="${acct.username}"`);
    expect(wrong.text).toContain(`value="${radicale.url}"`);
    expect(wrong.text).not.toContain('not-the-password');

    const linked = await client.post('/console/connections/new/caldav', {
      serverUrl: radicale.url,
      username: acct.username,
      password: acct.password,
    });
    expect(linked.status).toBe(303);
    const match = /^\/console\/connections\/([0-9a-f-]{36})\/calendars\?done=connected$/.exec(
      linked.location!,
    );
    expect(match, linked.location!).not.toBeNull();
    const id = match![1]!;

    const list = await client.get(linked.location!);
    expect(list.status).toBe(200);
    expect(list.text).toContain('Connected. Choose the calendars to check for conflicts.');
    const connection = await apiConnection(user.token, id);
    const work = calendarId(connection, 'Work');
    const personal = calendarId(connection, 'Personal');
    expect(list.text).toContain(`<label for="check-${work}">Work</label>`);
    expect(list.text).toContain(`<label for="primary-${personal}">Personal</label>`);
    expect(list.text).toMatch(/id="primary-none" name="primary" value="none" checked/);

    // A primary calendar that is not one of this connection's: the form again, nothing saved.
    const bogus = await client.post(`/console/connections/${id}/calendars`, {
      check: work,
      primary: randomUUID(),
    });
    expect(bogus.status).toBe(422);
    expect(bogus.text).toContain('is not a calendar of this connection');
    expect(bogus.text).toMatch(new RegExp(`id="check-${work}" name="check" value="${work}" checked`));
    expect((await apiConnection(user.token, id)).status).toBe('awaiting_selection');

    const saved = await client.post(`/console/connections/${id}/calendars`, { check: work, primary: work });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/console/calendars?done=saved');
    const ready = await eventually(
      async () => {
        const c = await apiConnection(user.token, id);
        return c.status === 'active' &&
          c.calendars.every(
            (cal: { importStatus: string }) =>
              cal.importStatus !== 'pending' && cal.importStatus !== 'importing',
          )
          ? c
          : null;
      },
      { what: 'the import to finish' },
    );
    const byName = Object.fromEntries(ready.calendars.map((c: { name: string }) => [c.name, c]));
    expect(byName.Work).toMatchObject({
      importForAvailability: true,
      isPrimary: true,
      importStatus: 'ready',
    });
    expect(byName.Personal).toMatchObject({ importForAvailability: false, isPrimary: false });
  });

  it('changes the sync direction, starts a sync, and removes the account after a confirmation', async () => {
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    const { id, username } = await linkedViaApi(user.token);

    const settings = await client.get(`/console/connections/${id}`);
    expect(settings.status).toBe(200);
    expect(settings.text).toContain(username);
    expect(settings.text).toMatch(/id="direction-both" name="syncDirection" value="both"[^>]* checked/);
    expect(settings.text).toMatch(/\(Europe\/Berlin\)/); // times carry the provider's zone

    const bad = await client.post(`/console/connections/${id}/direction`, { syncDirection: 'sideways' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Choose a sync direction.');
    const changed = await client.post(`/console/connections/${id}/direction`, { syncDirection: 'inbound' });
    expect(changed.status).toBe(303);
    expect(changed.location).toBe(`/console/connections/${id}?done=direction`);
    expect((await apiConnection(user.token, id)).syncDirection).toBe('inbound');
    const after = await client.get(changed.location!);
    expect(after.text).toContain('Sync direction saved.');
    expect(after.text).toMatch(/id="direction-inbound" name="syncDirection" value="inbound"[^>]* checked/);

    const sync = await client.post(`/console/connections/${id}/sync`, { direction: 'outbound' });
    expect(sync.status).toBe(303);
    expect(sync.location).toBe(`/console/connections/${id}?done=sync`);
    const run = platform.temporal.workflow.getHandle((await apiConnection(user.token, id)).workflowId);
    await eventually(async () => (await run.query(statusQuery)).lastSyncRequest?.direction === 'outbound', {
      what: 'the run to record the sync request',
    });

    const confirm = await client.get(`/console/connections/${id}/remove`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Calbridge stops syncing with it.');
    expect(confirm.text).toContain('busy time imported from its calendars is deleted');
    expect(confirm.text).toContain('The stored password or feed address is deleted.');
    expect(confirm.text).toContain('Your bookings stay');
    expect((await apiConnection(user.token, id)).status).not.toMatch(/^remov/); // looking changes nothing
    const removed = await client.post(`/console/connections/${id}/remove`);
    expect(removed.status).toBe(303);
    expect(removed.location).toBe('/console/calendars?done=removed');
    await eventually(async () => (await apiConnection(user.token, id)).status === 'removed', {
      what: 'the removal',
    });
    const gone = await client.get(`/console/connections/${id}`);
    expect(gone.text).toContain('was removed');
    expect(gone.text).not.toContain('name="syncDirection"');
  });

  it('reconnects a CalDAV account with its new password', async () => {
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    const { id, username } = await linkedViaApi(user.token);
    await radicale.setPassword(username, 'the-new-password');
    await platform.request('POST', `/v1/connections/${id}/sync`, { token: user.token, body: {} });
    await eventually(async () => (await apiConnection(user.token, id)).status === 'needs_reauth', {
      what: 'needs_reauth',
    });

    // The Calendars page says so with a banner and a Reconnect button.
    const calendars = await client.get('/console/calendars');
    expect(calendars.text).toContain('This calendar needs reconnecting.');
    expect(calendars.text).toContain(`action="/console/connections/${id}/reconnect"`);
    // The Calendars banner's button carries no password: it leads to the form asking for one.
    const banner = await client.post(`/console/connections/${id}/reconnect`);
    expect(banner.status).toBe(303);
    expect(banner.location).toBe(`/console/connections/${id}/reconnect`);
    const form = await client.get(banner.location!);
    expect(form.status).toBe(200);
    expect(form.text).toContain(`value="${username}"`);
    expect(form.text).toContain(`value="${radicale.url}"`);

    const wrong = await client.post(`/console/connections/${id}/reconnect`, {
      credentials: 'yes',
      serverUrl: radicale.url,
      username,
      password: 'still-wrong',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('The provider rejected these credentials');
    expect(wrong.text).not.toContain('still-wrong');
    const right = await client.post(`/console/connections/${id}/reconnect`, {
      credentials: 'yes',
      serverUrl: radicale.url,
      username,
      password: 'the-new-password',
    });
    expect(right.status).toBe(303);
    expect(right.location).toBe('/console/calendars?done=reconnected');
    const [row] = await platform.orm.em
      .fork()
      .execute<{ v: number }[]>('select credentials_version as v from calendar_connections where id = ?', [
        id,
      ]);
    expect(row!.v).toBeGreaterThan(1);
  });

  it('links Google through consent and back to the calendar list, and reconnects it', async () => {
    const email = `ada-${Date.now().toString(36)}@example.com`;
    google.addAccount({
      email,
      calendars: [
        { summary: 'Team rota', accessRole: 'owner', primary: true },
        { summary: 'Holidays in Berlin', accessRole: 'reader' },
      ],
    });
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    await client.get('/console/connections/new');

    const started = await client.post('/console/connections/new/google');
    expect(started.status).toBe(303);
    expect(started.location!.startsWith(google.url)).toBe(true);
    google.consentAs(email);
    const atGoogle = await fetch(started.location!, { redirect: 'manual' });
    expect(atGoogle.status).toBe(302);
    const callback = await fetch(`${platform.apiUrl}${pathOf(atGoogle.headers.get('location')!)}`, {
      redirect: 'manual',
    });
    expect(callback.status).toBe(303);
    const back = new URL(callback.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(
      `${platform.config.PUBLIC_URL}/console/connections/authorized`,
    );
    const id = back.searchParams.get('connectionId')!;

    // Someone else opening that address is not taken to this connection.
    const stranger = await signedInClient(platform, (await platform.createUser()).id);
    const theirs = await stranger.get(pathOf(back.toString()));
    expect(theirs.location).toBe('/console/connections/new?problem=not-completed');
    expect((await stranger.get(theirs.location!)).text).toContain('The connection was not completed.');

    const authorized = await client.get(pathOf(back.toString()));
    expect(authorized.status).toBe(303);
    expect(authorized.location).toBe(`/console/connections/${id}/calendars?done=connected`);
    const list = await client.get(authorized.location!);
    expect(list.status).toBe(200);
    expect(list.text).toContain(`Calendars of Google · ${email}`);
    const connection = await apiConnection(user.token, id);
    const rota = calendarId(connection, 'Team rota');
    const holidays = calendarId(connection, 'Holidays in Berlin');
    expect(list.text).toContain(`<label for="check-${rota}">Team rota</label>`);
    // The read-only calendar cannot be the primary one, and says why.
    expect(list.text).toMatch(
      new RegExp(`id="primary-${holidays}" name="primary" value="${holidays}" disabled`),
    );
    expect(list.text).toContain('Read-only: bookings cannot be written to it.');

    // Reconnect while the grant works: resumes at once. Once revoked: back to Google's consent.
    const resumed = await client.post(`/console/connections/${id}/reconnect`);
    expect(resumed.status).toBe(303);
    expect(resumed.location).toBe('/console/calendars?done=reconnected');
    google.revokeGrant(email);
    await client.get(`/console/connections/${id}/reconnect`);
    const reconsent = await client.post(`/console/connections/${id}/reconnect`);
    expect(reconsent.status).toBe(303);
    expect(reconsent.location!.startsWith(google.url)).toBe(true);

    // Consent declined at Google: the callback sends the person back to the wizard, told why, not
    // to a JSON error; the connection keeps its account.
    google.denyConsent();
    const declined = await fetch(reconsent.location!, { redirect: 'manual' });
    const refused = await fetch(`${platform.apiUrl}${pathOf(declined.headers.get('location')!)}`, {
      redirect: 'manual',
    });
    expect(refused.status).toBe(303);
    const told = new URL(refused.headers.get('location')!);
    expect(told.pathname).toBe('/console/connections/authorized');
    expect(told.searchParams.get('status')).toBe('error');
    expect(told.searchParams.get('error')).toBe('invalid_credentials');
    const wizard = await client.get(pathOf(told.toString()));
    expect(wizard.location).toBe('/console/connections/new?problem=invalid_credentials');
    expect((await client.get(wizard.location!)).text).toContain('Access was not granted');
    expect((await apiConnection(user.token, id)).accountEmail).toBe(email);
  });

  it('says so when Microsoft is not configured, and shares the connect budget with the API', async () => {
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    await client.get('/console/connections/new');
    const microsoft = await client.post('/console/connections/new/microsoft');
    expect(microsoft.status).toBe(422);
    expect(microsoft.text).toContain('Microsoft 365 is not configured on this server');

    // One attempt spent above; the API spends the rest of the minute's budget.
    for (let i = 1; i < platform.config.CONNECT_RATE_LIMIT_PER_MINUTE; i++) {
      const res = await platform.request('POST', '/v1/connections', {
        token: user.token,
        body: { provider: 'ics', url: 'not a url' },
      });
      expect(res.status).not.toBe(429);
    }
    await client.get('/console/connections/new/ics');
    const limited = await client.post('/console/connections/new/ics', {
      url: 'https://calendar.example/feed.ics',
    });
    expect(limited.status).toBe(429);
    expect(limited.text).toMatch(/role="alert">Too many connection attempts/);
    expect(limited.text).toContain('value="https://calendar.example/feed.ics"');
  });

  it('shows another user’s connection to nobody else, answers 404 for bad ids, and refuses forms without CSRF', async () => {
    const owner = await platform.createUser();
    const { id, username } = await linkedViaApi(owner.token);
    const other = await signedInClient(platform, (await platform.createUser()).id);
    for (const path of ['', '/calendars', '/remove', '/reconnect']) {
      const res = await other.get(`/console/connections/${id}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain(username);
    }
    await other.get('/console/connections/new');
    expect((await other.post(`/console/connections/${id}/remove`)).status).toBe(404);
    expect(
      (await other.post(`/console/connections/${id}/direction`, { syncDirection: 'inbound' })).status,
    ).toBe(404);
    for (const path of [
      '/console/connections/not-a-uuid',
      '/console/connections/1234/calendars',
      "/console/connections/'%3B--/remove",
    ])
      expect((await other.get(path)).status, path).toBe(404);
    expect((await other.post('/console/connections/not-a-uuid/calendars', { check: 'x' })).status).toBe(404);

    const owners: FormClient = await signedInClient(platform, owner.id);
    await owners.get(`/console/connections/${id}`);
    const forged = await owners.post(
      `/console/connections/${id}/direction`,
      { syncDirection: 'inbound' },
      { csrf: null },
    );
    expect(forged.status).toBe(403);
    expect((await owners.post(`/console/connections/${id}/remove`, {}, { csrf: null })).status).toBe(403);
    const still = await apiConnection(owner.token, id);
    expect(still).toMatchObject({ syncDirection: 'both', status: 'awaiting_selection' });

    const anonymous = await fetch(`${platform.apiUrl}/console/connections/${id}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(
      `/sign-in?next=${encodeURIComponent(`/console/connections/${id}`)}`,
    );
  });
});
