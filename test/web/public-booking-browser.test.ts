/**
 * The public booking pages in real Chromium, clicked through as a customer would: the page follows
 * the browser's own time zone by itself, a time is booked by label and button, then moved and
 * cancelled from the manage page. Every page passes the accessibility scan, fits a phone's width,
 * and loads nothing from the internet.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS } from '../bookings/support.ts';
import { blockExternalRequests, expectAccessible, phoneContext, useBrowser } from '../harness/browser.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

const browser = useBrowser();
let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

const DAY = 86_400_000;
const NY = 'America/New_York';
let counter = 0;

async function bookingCalendar() {
  const host = await platform.createUser({ name: 'Ada Host', timeZone: 'UTC' });
  await platform.request('PUT', '/v1/me/schedule', {
    token: host.token,
    body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
  });
  const slug = `browser-${++counter}-${Date.now().toString(36)}`;
  const created = await platform.request('POST', '/v1/booking-calendars', {
    token: host.token,
    body: { slug, name: 'Intro call', type: 'simple', hosts: [host.id], durationMinutes: 30 },
  });
  expect(created.status).toBe(201);
  return { host, slug };
}

/** 15:00 UTC, `days` days from today, and how its slot link is named in New York. */
function slot(days: number) {
  const start = new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + 15 * 3_600_000);
  const format = (options: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat('en-GB', { ...options, timeZone: NY }).format(start);
  const time = format({ hour: '2-digit', minute: '2-digit' });
  const day = format({ weekday: 'long', day: 'numeric', month: 'long' });
  return { start: start.toISOString(), time, linkName: `${time}, ${day} (${NY})` };
}

const fitsWidth = (tab: Page) =>
  tab.evaluate('document.documentElement.scrollWidth <= window.innerWidth') as Promise<boolean>;

describe('public booking pages in a browser', () => {
  it('books in the visitor’s own zone, then moves and cancels the booking, all accessibly', async () => {
    const { host, slug } = await bookingCalendar();
    const context = await (await browser()).newContext({ timezoneId: NY });
    try {
      const { blocked } = await blockExternalRequests(context);
      const tab = await context.newPage();

      // No zone in the URL: the script reloads the page in the browser's zone.
      await tab.goto(`${platform.apiUrl}/book/${slug}`);
      await tab.waitForURL(/timeZone=America%2FNew_York/);
      expect(await tab.getByLabel('Time zone').inputValue()).toBe(NY);
      expect(await tab.locator('main').textContent()).toContain(`Times are shown in ${NY}.`);
      await expectAccessible(tab);

      const first = slot(2);
      await tab.getByRole('link', { name: first.linkName, exact: true }).click();
      await tab.getByRole('heading', { name: 'Book Intro call' }).waitFor();
      expect(await tab.locator('main').textContent()).toContain(`${first.time} (${NY})`);
      await expectAccessible(tab);

      // Sent empty: the errors are announced and the fields marked, the time stays chosen.
      await tab.getByRole('button', { name: 'Book this time' }).click();
      await tab.getByRole('alert').waitFor();
      expect(await tab.getByLabel('Your name').getAttribute('aria-invalid')).toBe('true');
      await expectAccessible(tab);

      await tab.getByLabel('Your name').fill('Cleo Customer');
      await tab.getByLabel('Your e-mail address').fill('cleo@example.com');
      await tab.getByLabel('Notes (optional)').fill('About the project');
      await tab.getByRole('button', { name: 'Book this time' }).click();
      await tab.getByRole('heading', { name: 'You are booked' }).waitFor();
      const confirmation = await tab.locator('main').textContent();
      expect(confirmation).toContain(`${first.time} (${NY})`);
      expect(confirmation).toContain('A confirmation e-mail is on its way to cleo@example.com');
      await expectAccessible(tab);

      // From the confirmation to the manage page (the e-mail's link), and a new time.
      await tab.getByRole('link', { name: 'Reschedule or cancel this booking' }).click();
      await tab.getByRole('heading', { name: 'Your booking' }).waitFor();
      await expectAccessible(tab);
      await tab.getByRole('link', { name: 'Pick a new time' }).click();
      await tab.getByRole('heading', { name: 'Pick a new time' }).waitFor();
      await expectAccessible(tab);
      const second = slot(3);
      await tab.getByRole('link', { name: second.linkName, exact: true }).click();
      await tab.getByRole('button', { name: 'Move my booking' }).click();
      await tab.getByText('Rescheduled.').waitFor();
      expect(await tab.locator('main').textContent()).toContain(`${second.time} (${NY})`);

      await tab.getByRole('link', { name: 'Cancel this booking' }).click();
      await tab.getByLabel('Reason (optional)').fill('Plans changed');
      await expectAccessible(tab);
      await tab.getByRole('button', { name: 'Cancel this booking' }).click();
      await tab.getByText('Your booking is cancelled.').waitFor();
      expect(await tab.getByRole('link', { name: 'Pick a new time' }).count()).toBe(0);

      const res = await platform.request(
        'GET',
        `/v1/appointments?from=${new Date().toISOString()}&to=${new Date(Date.now() + 10 * DAY).toISOString()}`,
        { token: host.token },
      );
      expect(res.body.items).toMatchObject([{ start: second.start, status: 'cancelled' }]);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('fits a phone’s width: times, the form and the booking', async () => {
    const { slug } = await bookingCalendar();
    const context = await (await browser()).newContext({ ...phoneContext, timezoneId: NY });
    try {
      const { blocked } = await blockExternalRequests(context);
      const tab = await context.newPage();
      await tab.goto(`${platform.apiUrl}/book/${slug}`);
      await tab.waitForURL(/timeZone=America%2FNew_York/);
      expect(await tab.evaluate('window.innerWidth')).toBe(390);
      expect(await fitsWidth(tab)).toBe(true);
      await tab.getByRole('link', { name: slot(2).linkName, exact: true }).click();
      await tab.getByLabel('Your name').fill('Pat Phone');
      await tab.getByLabel('Your e-mail address').fill('pat.with.a.rather.long.address@example.com');
      expect(await fitsWidth(tab)).toBe(true);
      await tab.getByRole('button', { name: 'Book this time' }).click();
      await tab.getByRole('heading', { name: 'You are booked' }).waitFor();
      expect(await fitsWidth(tab)).toBe(true);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
