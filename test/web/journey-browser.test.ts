/**
 * The whole product in real Chromium, as its people use it: the administrator creates a provider,
 * who signs in from the welcome e-mail, connects a Radicale calendar through the wizard and a
 * Google account through the OAuth redirect (the stand-in), saves, watches the import, creates a
 * booking calendar; a visitor in another browser books (the invite lands in Radicale), then
 * reschedules and cancels from the e-mail's manage link; a one-time link works once, then says whom
 * to contact. The provider's private event title never reaches a visitor's page.
 *
 * `UPDATE_SCREENSHOTS=1 npx vitest run test/web/journey-browser.test.ts` also refreshes the README's
 * screenshots in docs/screenshots/.
 */
import ical, { type VEvent } from 'node-ical';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayHeading } from '../../web/pages/booking/zones.ts';
import { davObjects, type Host } from '../bookings/support.ts';
import {
  blockExternalRequests,
  expectAccessible,
  phoneContext,
  screenshot,
  useBrowser,
} from '../harness/browser.ts';
import { eventually, type Platform, publicOrigin, startPlatform } from '../harness/platform.ts';
import { type StandinDriver, startStandinDriver } from '../standins/drivers.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { seedConnection } from '../support/seed.ts';
import { signInBrowser } from './signed-in.ts';

const PRIVATE_TITLE = 'PRIVATE: dentist appointment';
const browser = useBrowser();
let platform: Platform;
let radicale: Radicale;
let google: StandinDriver;

beforeAll(async () => {
  const origin = await publicOrigin();
  [radicale, google] = await Promise.all([
    startRadicale({ users: [{ username: 'setup', password: 'setup' }] }),
    startStandinDriver('google'),
  ]);
  platform = await startPlatform({ port: origin.port, env: { ...origin.env, ...google.env } });
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
  await google?.close();
});

const picture = async (page: Page, name: string) => {
  if (process.env.UPDATE_SCREENSHOTS === '1') await screenshot(page, name);
};

const mail = async (to: string, subject: RegExp) =>
  eventually(
    async () => {
      const rows = await platform.orm.em
        .fork()
        .execute<{ subject: string; text_body: string }[]>(
          'select subject, text_body from email_outbox where to_address = ? order by created_at',
          [to],
        );
      return rows.find((r) => subject.test(r.subject)) ?? null;
    },
    { what: `an e-mail to ${to} matching ${subject}` },
  );

const linkIn = (text: string, path: RegExp) => {
  const match = new RegExp(`${platform.config.PUBLIC_URL.replace(/[.:/]/g, '\\$&')}${path.source}`).exec(
    text,
  );
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[0];
};

async function withContext<T>(
  options: Parameters<Awaited<ReturnType<typeof browser>>['newContext']>[0],
  run: (page: Page, context: BrowserContext) => Promise<T>,
): Promise<T> {
  const context = await (await browser()).newContext(options);
  const external = await blockExternalRequests(context);
  try {
    const result = await run(await context.newPage(), context);
    expect(external.blocked).toEqual([]);
    return result;
  } finally {
    await context.close();
  }
}

describe('Calbridge in a browser', () => {
  it('takes a provider from the welcome e-mail to bookings, and a visitor from booking to cancelling', async () => {
    const stamp = Date.now().toString(36);
    const email = `ada-${stamp}@example.com`;
    const username = `ada${stamp}`;
    const password = `pw-${stamp}`;
    await radicale.setPassword(username, password);
    const work = await radicale.createCalendar(username, password, 'work', { displayName: 'Work' });
    await radicale.createCalendar(username, password, 'family', { displayName: 'Family' });
    // A private event in the calendar that counts: busy for visitors, its title never shown.
    const workday = nextWorkingDay();
    await radicale.putEvent(
      work,
      username,
      password,
      'private.ics',
      ics('private@test', PRIVATE_TITLE, `${workday}T090000Z`, `${workday}T100000Z`),
    );
    const host = { dav: { username, password, collection: work } } as Host;
    google.addAccount(email);
    google.consentAs(email);

    // The administrator creates the provider.
    await withContext({}, async (tab) => {
      await tab.goto(`${platform.apiUrl}/admin/sign-in`);
      await tab.getByLabel('Admin token').fill(platform.adminToken);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
      await tab.getByLabel('E-mail address').fill(email);
      await tab.getByLabel('Name').fill('Ada Lovelace');
      await tab.getByLabel('Time zone').fill('Europe/Paris');
      await tab.getByRole('button', { name: 'Create and send the welcome e-mail' }).click();
      await tab.getByRole('status').getByText(`Created ${email}`).waitFor();
      await expectAccessible(tab);
      await picture(tab, 'admin-providers');
    });

    const provider = await (await browser()).newContext();
    const external = await blockExternalRequests(provider);
    const tab = await provider.newPage();
    let slug = '';
    try {
      // The welcome e-mail's link signs in, after one click.
      const welcome = await mail(email, /Welcome/);
      await tab.goto(linkIn(welcome.text_body, /\/sign-in\/cbl_[\w-]+/));
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByRole('heading', { name: 'Calendars', level: 1 }).waitFor();

      // Radicale through the wizard: a wrong password is shown in the form first.
      await tab.getByRole('link', { name: 'Add a new calendar connection' }).click();
      await expectAccessible(tab);
      await picture(tab, 'connect-wizard');
      await tab.getByRole('link', { name: 'Another CalDAV server' }).click();
      await tab.getByLabel('Server URL').fill(radicale.url);
      await tab.getByLabel('Username').fill(username);
      await tab.getByLabel('Password').fill('not the password');
      await tab.getByRole('button', { name: 'Connect' }).click();
      await tab.getByRole('alert').waitFor();
      expect(await tab.getByLabel('Username').inputValue()).toBe(username);
      await picture(tab, 'connect-caldav-error');
      await tab.getByLabel('Password').fill(password);
      await tab.getByRole('button', { name: 'Connect' }).click();
      await tab.getByRole('group', { name: 'Check for conflicts' }).getByLabel('Work').check();
      await tab.getByRole('group', { name: 'Primary calendar' }).getByLabel('Work').check();
      await expectAccessible(tab);
      await picture(tab, 'calendar-list');
      await tab.getByRole('button', { name: 'Save' }).click();
      const workRow = tab.getByRole('row', { name: /Work/ });
      await expect
        .poll(() => workRow.getByRole('cell').first().textContent(), { timeout: 30_000 })
        .toBe('Ready');

      // Google through the consent redirect (the stand-in consents for the account at once).
      await tab.getByRole('link', { name: 'Add a new calendar connection' }).click();
      await tab.getByRole('button', { name: 'Google' }).click();
      await tab.getByRole('group', { name: 'Check for conflicts' }).waitFor();
      expect(await tab.getByRole('heading', { level: 1 }).textContent()).toContain(email);
      await tab.getByRole('group', { name: 'Check for conflicts' }).getByRole('checkbox').first().check();
      await tab.getByRole('button', { name: 'Save' }).click();
      await tab.getByRole('heading', { name: 'Calendars', level: 1 }).waitFor();
      await expect.poll(async () => tab.locator('article.connection').count(), { timeout: 10_000 }).toBe(2);
      await expect
        .poll(() => tab.locator('article.connection[data-status="active"]').count(), { timeout: 30_000 })
        .toBe(2);
      await expectAccessible(tab);
      await picture(tab, 'calendars');

      // Working hours, then a booking calendar.
      await tab.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedule' }).click();
      await tab.getByLabel('Monday, hours 1: From').waitFor();
      await picture(tab, 'schedule');
      await tab
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Booking calendars' })
        .click();
      await tab.getByRole('link', { name: 'Create a booking calendar' }).click();
      slug = `intro-${stamp}`;
      await tab.getByLabel('Name').fill('Intro call');
      await tab.getByLabel('Slug').fill(slug);
      await tab.getByLabel('Duration (minutes)').fill('60');
      await tab.getByRole('button', { name: 'Create booking calendar' }).click();
      await tab.getByRole('heading', { name: 'Intro call', level: 1 }).waitFor();
      await expectAccessible(tab);
      await picture(tab, 'booking-calendar');
    } finally {
      expect(external.blocked).toEqual([]);
    }

    // A visitor in New York books from the public page, in their own zone.
    const visitorEmail = `cleo-${stamp}@example.com`;
    await withContext({ timezoneId: 'America/New_York' }, async (visitor) => {
      await visitor.goto(`${platform.apiUrl}/book/${slug}`);
      await visitor.waitForURL(/timeZone=America%2FNew_York/);
      expect(await visitor.content()).not.toContain(PRIVATE_TITLE);
      // The private event's hour (Monday 09:00 UTC = 04:00 in New York) is not offered; 10:00 UTC is
      // (working hours 09:00–17:00 Paris), so the busy time was read.
      const workdayLabel = dayHeading(workday);
      expect(
        await visitor.getByRole('link', { name: `04:00, ${workdayLabel} (America/New_York)` }).count(),
      ).toBe(0);
      expect(
        await visitor.getByRole('link', { name: `05:00, ${workdayLabel} (America/New_York)` }).count(),
      ).toBe(1);
      await expectAccessible(visitor);
      await picture(visitor, 'book-times');
      await visitor.getByRole('link', { name: `05:00, ${workdayLabel} (America/New_York)` }).click();
      await visitor.getByLabel('Your name').fill('Cleo Customer');
      await visitor.getByLabel('Your e-mail address').fill(visitorEmail);
      await picture(visitor, 'book-form');
      await visitor.getByRole('button', { name: 'Book this time' }).click();
      await visitor.getByRole('heading', { name: 'You are booked' }).waitFor();
      expect(await visitor.content()).toContain('America/New_York');
      await expectAccessible(visitor);
      await picture(visitor, 'booked');
    });

    // The invite is in the provider's Radicale calendar, at the booked time.
    const invite = await eventually(
      async () => (await davObjects(host)).find((o) => o.includes('X-CALBRIDGE-ID')) ?? null,
      { what: 'the invite in Radicale' },
    );
    const booked = Object.values(ical.sync.parseICS(invite)).find((c) => c?.type === 'VEVENT') as VEvent;
    expect(booked.start.toISOString()).toBe(`${workday}T10:00:00.000Z`);
    expect(invite).toMatch(new RegExp(`ATTENDEE[^:]*:mailto:${visitorEmail}`, 'i'));

    // From the confirmation e-mail: reschedule, then cancel.
    const confirmation = await mail(visitorEmail, /.*/);
    const manage = linkIn(confirmation.text_body, /\/manage\/[\w-]+\?token=[\w-]+/);
    await withContext({ timezoneId: 'America/New_York' }, async (visitor) => {
      await visitor.goto(manage);
      await visitor.getByRole('heading', { name: 'Your booking' }).waitFor();
      await expectAccessible(visitor);
      await picture(visitor, 'manage');
      await visitor.getByRole('link', { name: 'Pick a new time' }).click();
      await visitor.getByRole('link', { name: `07:00, ${dayHeading(workday)} (America/New_York)` }).click();
      await visitor.getByRole('button', { name: 'Move my booking' }).click();
      await visitor.getByText('Rescheduled.').waitFor();
      await visitor.getByRole('link', { name: 'Cancel this booking' }).click();
      await visitor.getByRole('button', { name: 'Cancel this booking' }).click();
      await visitor.getByText('Your booking is cancelled.').waitFor();
    });
    await eventually(async () => !(await davObjects(host)).some((o) => o.includes('X-CALBRIDGE-ID')), {
      what: 'the invite removed from Radicale',
    });

    // A one-time link works for one booking, then tells the next visitor whom to contact.
    await tab.goto(`${platform.apiUrl}/console/booking-calendars/${slug}`);
    await tab.getByRole('button', { name: 'Create a one-time link' }).click();
    const oneTime = await tab.getByLabel('New one-time link', { exact: true }).inputValue();
    await provider.close();
    await withContext({ timezoneId: 'Europe/Paris' }, async (visitor) => {
      await visitor.goto(oneTime);
      await visitor.waitForURL(/timeZone=Europe%2FParis/);
      await visitor.locator('ul.slots a').first().click();
      await visitor.getByLabel('Your name').fill('Dan Once');
      await visitor.getByLabel('Your e-mail address').fill(`dan-${stamp}@example.com`);
      await visitor.getByRole('button', { name: 'Book this time' }).click();
      await visitor.getByRole('heading', { name: 'You are booked' }).waitFor();
    });
    await withContext({}, async (visitor) => {
      const response = await visitor.goto(oneTime);
      expect(response?.status()).toBe(410);
      await visitor.getByText('This link has already been used. Please contact Ada Lovelace').waitFor();
      await expectAccessible(visitor);
      await picture(visitor, 'one-time-link-used');
    });
  });

  it('shows the booking page on a phone', async () => {
    const user = await platform.createUser({ name: 'Phone Host', timeZone: 'Europe/Paris' });
    const slug = `phone-${Date.now().toString(36)}`;
    const made = await platform.request('POST', '/v1/booking-calendars', {
      token: user.token,
      body: { slug, name: 'Quick chat', type: 'simple', hosts: [user.id], durationMinutes: 30 },
    });
    expect(made.status).toBe(201);
    await withContext({ ...phoneContext, timezoneId: 'Europe/Paris' }, async (visitor) => {
      await visitor.goto(`${platform.apiUrl}/book/${slug}`);
      await visitor.waitForURL(/timeZone=Europe%2FParis/);
      expect(await visitor.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await picture(visitor, 'book-times-phone');
    });
  });
});

/** The date (YYYY-MM-DD, UTC) of the next working day (Monday to Friday) after today: within the page's first week. */
function nextWorkingDay(): string {
  const day = new Date(Date.now() + 86_400_000);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

const ics = (uid: string, summary: string, start: string, end: string) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//journey//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART:${start.replaceAll('-', '')}`,
    `DTEND:${end.replaceAll('-', '')}`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

describe('the Calendars page while an import runs', () => {
  it('follows the import without a reload, and stops asking once nothing changes', async () => {
    const user = await platform.createUser({ timeZone: 'UTC' });
    const { calendarId } = await seedConnection(platform.orm, platform.config, {
      provider: 'ics',
      serverUrl: null,
      credentials: { url: 'https://feeds.example/live.ics' },
      externalId: `ics:live-${Date.now()}`,
    });
    const em = platform.orm.em.fork();
    // The seeded connection belongs to a user of its own: hand it to ours, importing.
    await em.execute(
      'update calendar_connections set user_id = ? where id = (select connection_id from provider_calendars where id = ?)',
      [user.id, calendarId],
    );
    await em.execute(
      "update provider_calendars set user_id = ?, name = 'Team feed', import_status = 'importing' where id = ?",
      [user.id, calendarId],
    );
    await withContext({}, async (tab, context) => {
      await signInBrowser(context, platform, user.id);
      const listRequests: string[] = [];
      tab.on('request', (r) => {
        if (r.url().endsWith('/console/calendars/list')) listRequests.push(r.url());
      });
      await tab.goto(`${platform.apiUrl}/console/calendars`);
      const row = tab.getByRole('row', { name: /Team feed/ });
      expect(await row.getByRole('cell').first().textContent()).toBe('Importing…');
      await tab.evaluate('window.__sameDocument = true');

      // What the end of an import pass writes: the calendar ready, the connection active.
      await em.execute(
        "update provider_calendars set import_status = 'ready', event_count = 42 where id = ?",
        [calendarId],
      );
      await em.execute(
        "update calendar_connections set status = 'active' where id = (select connection_id from provider_calendars where id = ?)",
        [calendarId],
      );
      await expect.poll(() => row.getByRole('cell').first().textContent(), { timeout: 10_000 }).toBe('Ready');
      expect(await row.getByRole('cell').nth(1).textContent()).toBe('42');
      // The same document, updated in place (no navigation).
      expect(await tab.evaluate('window.__sameDocument')).toBe(true);
      // Once nothing is in progress the page stops polling.
      const asked = listRequests.length;
      await tab.waitForTimeout(4500);
      expect(listRequests.length).toBe(asked);
    });
  });
});
