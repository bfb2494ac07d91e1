/**
 * The public booking pages over HTTP, on the real platform: times in the visitor's zone, booking
 * through the form (Post/Redirect/Get), a time taken meanwhile, bad input, CSRF, one-time links
 * that work once, managing a booking by its e-mailed link (reschedule, cancel), and no private
 * event title of a host on any public page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS } from '../bookings/support.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { generateIcsCalendar } from '../support/generate-ics.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { FormClient } from './form-client.ts';

let platform: Platform;
let feeds: IcsServer;
beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    startPlatform({ env: { ICS_POLL_SECONDS: '3600' } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NY = 'America/New_York';
let counter = 0;

/** A host free around the clock (UTC) with a 30-minute booking calendar. */
async function hostAndCalendar(name = 'Ada Host') {
  const host = await platform.createUser({ name, timeZone: 'UTC' });
  const schedule = await platform.request('PUT', '/v1/me/schedule', {
    token: host.token,
    body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
  });
  expect(schedule.status).toBe(200);
  const slug = `web-${++counter}-${Date.now().toString(36)}`;
  const created = await platform.request('POST', '/v1/booking-calendars', {
    token: host.token,
    body: { slug, name: 'Intro call', type: 'simple', hosts: [host.id], durationMinutes: 30 },
  });
  expect(created.status).toBe(201);
  return { host, slug };
}

/** 15:00 UTC, `days` days from today: 10:00 or 11:00 in New York. */
const afternoon = (days: number) =>
  new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + 15 * HOUR).toISOString();

const hhmm = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(iso));

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The slot link for `start` on a times page, showing `label`. */
const slotLink = (start: string, label: string) =>
  new RegExp(`href="[^"]*${escapeRe(new URLSearchParams({ start }).toString())}[^"]*"[^>]*>${label}</a>`);

const offers = (pageHtml: string, start: string) =>
  pageHtml.includes(new URLSearchParams({ start }).toString());

async function appointments(token: string) {
  const from = new Date().toISOString();
  const to = new Date(Date.now() + 30 * DAY).toISOString();
  const res = await platform.request('GET', `/v1/appointments?from=${from}&to=${to}`, { token });
  expect(res.status).toBe(200);
  return res.body.items as { id: string; start: string; status: string; attendees: { email: string }[] }[];
}

/** Books `start` through the pages as a new visitor; answers the confirmation's path. */
async function bookThroughPages(base: string, start: string, who = 'Cleo Customer', zone = NY) {
  const visitor = new FormClient(platform.apiUrl);
  const form = await visitor.get(`${base}/confirm?start=${encodeURIComponent(start)}&timeZone=${zone}`);
  expect(form.status).toBe(200);
  const posted = await visitor.post(`${base}/confirm`, {
    start,
    timeZone: zone,
    name: who,
    email: 'cleo@example.com',
    notes: 'Looking forward',
  });
  expect(posted.status, posted.text.slice(0, 2000)).toBe(303);
  return { visitor, location: posted.location!, csrf: visitor.csrfToken() };
}

const manageParts = (location: string) => {
  const url = new URL(location, 'http://x');
  return { id: url.pathname.split('/').pop()!, token: url.searchParams.get('token')! };
};

describe('public booking pages', () => {
  it('lists the free times in the visitor’s zone, naming it, with days as headings', async () => {
    const { slug } = await hostAndCalendar();
    const start = afternoon(2);
    const visitor = new FormClient(platform.apiUrl);

    const ny = await visitor.get(`/book/${slug}?timeZone=${NY}`);
    expect(ny.status).toBe(200);
    expect(ny.text).toContain('<h1>Intro call</h1>');
    expect(ny.text).toContain('30 minutes');
    expect(ny.text).toContain(`Times are shown in <strong>${NY}</strong>`);
    expect(ny.text).toContain(`<option value="${NY}" selected>`);
    expect(ny.text).toContain('data-time-zone');
    expect(ny.text).toMatch(slotLink(start, hhmm(start, NY)));
    const heading = new Intl.DateTimeFormat('en-GB', {
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      timeZone: NY,
    }).format(new Date(start));
    expect(ny.text).toContain(`>${heading}</h2>`);

    // The same instant in UTC is another time of day: the page converts, it does not relabel.
    const utc = await visitor.get(`/book/${slug}?timeZone=UTC`);
    expect(utc.text).toMatch(slotLink(start, '15:00'));
    expect(hhmm(start, NY)).not.toBe('15:00');

    // Later days page on; a zone nobody knows falls back to UTC and says so.
    expect(ny.text).toContain('Later days');
    const tooFar = await visitor.get(`/book/${slug}?timeZone=Mars%2FBase&from=9999-12-31`);
    expect(tooFar.status).toBe(200);
    expect(tooFar.text).toContain('is not a time zone we know');
    expect((await visitor.get('/book/no-such-calendar')).status).toBe(404);
    expect((await visitor.get('/book/NOT%20A%20SLUG')).status).toBe(404);
  });

  it('books through the form, shows the confirmation, and offers a taken time to nobody else', async () => {
    const { host, slug } = await hostAndCalendar();
    const start = afternoon(3);
    const { visitor, location } = await bookThroughPages(`/book/${slug}`, start);
    expect(location).toMatch(new RegExp(`^/book/${slug}/booked/[0-9a-f-]{36}\\?token=cbm_`));

    const confirmation = await visitor.get(location);
    expect(confirmation.status).toBe(200);
    expect(confirmation.text).toContain('You are booked');
    expect(confirmation.text).toContain(`${hhmm(start, NY)} (${NY})`);
    expect(confirmation.text).toContain('Ada Host');
    expect(confirmation.text).toContain('A confirmation e-mail is on its way');

    const [booked] = (await appointments(host.token)).filter((a) => a.status !== 'cancelled');
    expect(booked).toMatchObject({ start, attendees: [{ email: 'cleo@example.com' }] });
    const { id, token } = manageParts(location);
    expect(booked!.id).toBe(id);
    const stored = await platform.request('GET', `/v1/bookings/${id}?token=${token}`);
    expect(stored.body.attendee).toEqual({ name: 'Cleo Customer', email: 'cleo@example.com', timeZone: NY });
    expect(stored.body.notes).toBe('Looking forward');

    // Someone who opened the same time before it was taken: friendly, fresh times, no error page.
    const late = new FormClient(platform.apiUrl);
    await late.get(`/book/${slug}/confirm?start=${encodeURIComponent(start)}&timeZone=${NY}`);
    const taken = await late.post(`/book/${slug}/confirm`, {
      start,
      timeZone: NY,
      name: 'Dan Late',
      email: 'dan@example.com',
    });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain(
      'role="alert">That time was just booked by someone else — please pick another time.',
    );
    expect(offers(taken.text, start)).toBe(false);
    const halfHourLater = new Date(Date.parse(start) + 30 * 60_000).toISOString();
    expect(taken.text).toMatch(slotLink(halfHourLater, hhmm(halfHourLater, NY)));
    expect((await appointments(host.token)).filter((a) => a.status !== 'cancelled')).toHaveLength(1);
  });

  it('keeps what was typed on bad input, and refuses a form without this browser’s CSRF token', async () => {
    const { host, slug } = await hostAndCalendar();
    const start = afternoon(2);
    const visitor = new FormClient(platform.apiUrl);
    await visitor.get(`/book/${slug}/confirm?start=${encodeURIComponent(start)}&timeZone=${NY}`);
    const bad = await visitor.post(`/book/${slug}/confirm`, {
      start,
      timeZone: NY,
      name: '   ',
      email: 'not-an-email',
      notes: 'See <b>you</b>',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('role="alert"');
    expect(bad.text).toContain('value="not-an-email"');
    expect(bad.text).toContain('Enter an e-mail address such as ada@example.com.');
    expect(bad.text).toContain('Enter your name.');
    expect(bad.text).toContain('aria-invalid="true"');
    expect(bad.text).toContain('See &lt;b&gt;you&lt;/b&gt;</textarea>');
    expect(bad.text).toContain(`${hhmm(start, NY)} (${NY})`);

    const forged = await visitor.post(`/book/${slug}/confirm`, {
      start: 'yesterday',
      timeZone: NY,
      name: 'Eve',
      email: 'eve@example.com',
    });
    expect(forged.status).toBe(422);
    expect(forged.text).toContain('Please pick a time from the list.');

    const noCsrf = await visitor.post(
      `/book/${slug}/confirm`,
      { start, timeZone: NY, name: 'Eve', email: 'eve@example.com' },
      { csrf: null },
    );
    expect(noCsrf.status).toBe(403);

    // Hand-made URLs and forms: never a 5xx, never a booking.
    for (const path of [
      `/book/${slug}?from=2026-02-30&timeZone=${NY}`,
      `/book/${slug}?timeZone=${NY}&timeZone=UTC&from=a&from=b`,
      `/book/${slug}/confirm?start=not-a-time`,
      `/book/${slug}/booked/not-a-uuid?token=x`,
      `/book/${slug}/booked/00000000-0000-4000-8000-000000000000?token=cbm_x`,
    ]) {
      const res = await visitor.get(path);
      expect(res.status, path).toBeLessThan(500);
    }
    await visitor.get(`/book/${slug}/confirm?start=${encodeURIComponent(start)}`);
    const csrf = visitor.csrfToken();
    for (const when of ['0001-01-01T00:00:00Z', '9999-12-31T23:30:00Z']) {
      const res = await visitor.post(
        `/book/${slug}/confirm`,
        { start: when, timeZone: 'Not/AZone', name: 'Eve', email: 'eve@example.com' },
        { csrf },
      );
      expect(res.status, when).toBeGreaterThanOrEqual(400);
      expect(res.status, when).toBeLessThan(500);
      expect(res.text).toContain('role="alert"');
    }
    expect(await appointments(host.token)).toHaveLength(0);
  });

  it('books once through a one-time link; a used or revoked link says whom to ask', async () => {
    const { host, slug } = await hostAndCalendar('Owen Owner');
    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    expect(link.status).toBe(201);
    const base = `/l/${link.body.token}`;
    const start = afternoon(2);

    const times = await new FormClient(platform.apiUrl).get(`${base}?timeZone=${NY}`);
    expect(times.status).toBe(200);
    expect(times.text).toContain('<h1>Intro call</h1>');
    expect(times.text).toMatch(slotLink(start, hhmm(start, NY)));
    expect(times.text).toContain(`${base}/confirm?`);

    const { visitor, location, csrf } = await bookThroughPages(base, start);
    expect(location).toMatch(new RegExp(`^${escapeRe(base)}/booked/[0-9a-f-]{36}\\?token=cbm_`));
    expect((await visitor.get(location)).text).toContain('You are booked');
    const [booked] = await appointments(host.token);
    expect(booked!.start).toBe(start);

    const again = await new FormClient(platform.apiUrl).get(base);
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link has already been used. Please contact Owen Owner');
    // A form opened before the link was spent cannot book a second time.
    const later = afternoon(4);
    const stale = await visitor.post(
      `${base}/confirm`,
      { start: later, timeZone: NY, name: 'Cleo', email: 'cleo@example.com' },
      { csrf },
    );
    expect(stale.status).toBe(410);
    expect(await appointments(host.token)).toHaveLength(1);

    const second = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    await platform.request('DELETE', `/v1/one-time-links/${second.body.id}`, { token: host.token });
    const revoked = await new FormClient(platform.apiUrl).get(`/l/${second.body.token}`);
    expect(revoked.status).toBe(410);
    expect(revoked.text).toContain('This link is no longer valid. Please contact Owen Owner');
    expect((await new FormClient(platform.apiUrl).get('/l/otl_not-a-real-token-at-all-xx')).status).toBe(404);
    expect((await new FormClient(platform.apiUrl).get('/l/garbage')).status).toBe(404);
  });

  it('manages a booking by its link: a new time (a taken one refused kindly), then cancelled', async () => {
    const { host, slug } = await hostAndCalendar();
    const start = afternoon(2);
    const { visitor, location, csrf } = await bookThroughPages(`/book/${slug}`, start);
    const { id, token } = manageParts(location);
    const home = `/manage/${id}?token=${token}`;

    expect((await visitor.get(`/manage/${id}?token=cbm_wrong`)).status).toBe(404);
    expect((await visitor.get(`/manage/${id}`)).status).toBe(404);
    expect((await visitor.get(`/manage/not-a-uuid?token=${token}`)).status).toBe(404);

    const manage = await visitor.get(home);
    expect(manage.status).toBe(200);
    expect(manage.text).toContain(`${hhmm(start, NY)} (${NY})`);
    expect(manage.text).toContain('Ada Host');
    expect(manage.text).toContain('Pick a new time');

    // A time someone else holds is refused with fresh times; the booking keeps its time.
    const other = afternoon(5);
    const rival = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: other, attendee: { name: 'Rival', email: 'rival@example.com' } },
    });
    expect(rival.status).toBe(201);
    const times = await visitor.get(`/manage/${id}/reschedule?token=${token}&timeZone=${NY}`);
    expect(times.status).toBe(200);
    expect(offers(times.text, other)).toBe(false);
    const taken = await visitor.post(
      `/manage/${id}/reschedule`,
      { token, start: other, timeZone: NY },
      { csrf },
    );
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('That time was just booked by someone else — please pick another time.');
    const farAway = await visitor.post(
      `/manage/${id}/reschedule`,
      { token, start: '9999-12-31T23:30:00Z', timeZone: NY },
      { csrf },
    );
    expect(farAway.status).toBe(409);
    expect((await platform.request('GET', `/v1/bookings/${id}?token=${token}`)).body.start).toBe(start);

    const newStart = afternoon(3);
    expect(times.text).toMatch(slotLink(newStart, hhmm(newStart, NY)));
    const confirm = await visitor.get(
      `/manage/${id}/reschedule/confirm?token=${token}&start=${encodeURIComponent(newStart)}&timeZone=${NY}`,
    );
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Move my booking');
    const moved = await visitor.post(`/manage/${id}/reschedule`, { token, start: newStart, timeZone: NY });
    expect(moved.status).toBe(303);
    expect(moved.location).toBe(`/manage/${id}?token=${token}&done=rescheduled`);
    const after = await visitor.get(moved.location!);
    expect(after.text).toContain('Rescheduled.');
    expect(after.text).toContain(`${hhmm(newStart, NY)} (${NY})`);
    expect((await platform.request('GET', `/v1/bookings/${id}?token=${token}`)).body.start).toBe(newStart);

    // Cancelling: a reason too long is kept and marked; then cancelled, with nothing left to change.
    await visitor.get(`/manage/${id}/cancel?token=${token}`);
    const long = 'x'.repeat(1001);
    const tooLong = await visitor.post(`/manage/${id}/cancel`, { token, reason: long });
    expect(tooLong.status).toBe(422);
    expect(tooLong.text).toContain(`${long}</textarea>`);
    const cancelled = await visitor.post(`/manage/${id}/cancel`, { token, reason: 'Sick' });
    expect(cancelled.status).toBe(303);
    const final = await visitor.get(cancelled.location!);
    expect(final.text).toContain('Your booking is cancelled.');
    expect(final.text).toContain('Cancelled');
    expect(final.text).not.toContain('Pick a new time');
    expect((await visitor.get(`/manage/${id}/reschedule?token=${token}`)).location).toBe(home);
    expect((await appointments(host.token)).find((a) => a.id === id)!.status).toBe('cancelled');
  });

  it('shows a booking that has taken place without a way to change it', async () => {
    const { slug } = await hostAndCalendar();
    const { visitor, location } = await bookThroughPages(`/book/${slug}`, afternoon(2));
    const { id, token } = manageParts(location);
    await platform.orm.em
      .fork()
      .execute(
        "update appointments set start_at = now() - interval '2 hours', end_at = now() - interval '90 minutes' where id = ?",
        [id],
      );
    const past = await visitor.get(`/manage/${id}?token=${token}`);
    expect(past.status).toBe(200);
    expect(past.text).toContain('This booking has taken place.');
    expect(past.text).not.toContain('Pick a new time');
    expect(past.text).not.toContain('Cancel this booking');
  });

  it('never shows a host’s private event titles on any public page', async () => {
    const { host, slug } = await hostAndCalendar('Priya Private');
    const busyStart = afternoon(2);
    feeds.setFeed(
      `/${slug}.ics`,
      generateIcsCalendar([
        {
          uid: `secret-${slug}@test`,
          summary: 'SECRET-TITLE-xyz',
          description: 'SECRET-TITLE-xyz details',
          location: 'SECRET-TITLE-xyz room',
          start: new Date(busyStart),
          end: new Date(Date.parse(busyStart) + HOUR),
        },
      ]),
    );
    const connection = await platform.request('POST', '/v1/connections', {
      token: host.token,
      body: { provider: 'ics', url: feeds.url(`/${slug}.ics`) },
    });
    expect(connection.status).toBe(201);
    await platform.request('PUT', `/v1/connections/${connection.body.id}/calendars`, {
      token: host.token,
      body: { calendars: [{ id: connection.body.calendars[0].id, importForAvailability: true }] },
    });
    await eventually(
      async () => {
        const c = await platform.request('GET', `/v1/connections/${connection.body.id}`, {
          token: host.token,
        });
        return c.body.status === 'active' && c.body.calendars[0].importStatus === 'ready';
      },
      { what: 'the feed imported' },
    );

    const seen: string[] = [];
    const visitor = new FormClient(platform.apiUrl);
    const look = async (path: string) => {
      const res = await visitor.get(path);
      expect(res.status, path).toBeLessThan(400);
      seen.push(res.text);
      return res.text;
    };
    // The busy hour is imported (its times are not offered) but its title is nowhere.
    const times = await look(`/book/${slug}?timeZone=${NY}`);
    expect(offers(times, busyStart)).toBe(false);
    const free = new Date(Date.parse(busyStart) + HOUR).toISOString();
    expect(offers(times, free)).toBe(true);
    await look(`/book/${slug}?timeZone=UTC`);
    await look(`/book/${slug}/confirm?start=${encodeURIComponent(busyStart)}&timeZone=${NY}`);
    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    await look(`/l/${link.body.token}?timeZone=${NY}`);
    const { location } = await bookThroughPages(`/book/${slug}`, free);
    const { id, token } = manageParts(location);
    await look(location);
    await look(`/manage/${id}?token=${token}`);
    await look(`/manage/${id}/reschedule?token=${token}&timeZone=${NY}`);
    await look(`/manage/${id}/cancel?token=${token}`);
    const taken = await visitor.post(`/book/${slug}/confirm`, {
      start: busyStart,
      timeZone: NY,
      name: 'Nosy',
      email: 'nosy@example.com',
    });
    expect(taken.status).toBe(409);
    seen.push(taken.text);
    for (const html of seen) expect(html).not.toContain('SECRET-TITLE');
  });
});
