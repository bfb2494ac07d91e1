/**
 * The provider's Schedule and Booking-calendar pages in real Chromium, used as a person would (by
 * labels and button names): edit the schedule, create a booking calendar, make a one-time link and
 * copy it. Every page passes the accessibility scan, the schedule fits a phone, nothing is loaded
 * from the internet.
 */
import type { BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockExternalRequests, expectAccessible, phoneContext, useBrowser } from '../harness/browser.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';
import { signInBrowser } from './signed-in.ts';

const browser = useBrowser();
let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

async function signedInContext(userId: string, options: BrowserContextOptions = {}) {
  const context = await (await browser()).newContext(options);
  const { blocked } = await blockExternalRequests(context);
  await signInBrowser(context, platform, userId);
  return { context, blocked };
}

describe('provider pages in a browser', () => {
  it('edits the schedule, creates a booking calendar and copies a new one-time link', async () => {
    const user = await platform.createUser({ timeZone: 'Europe/Berlin' });
    const { context, blocked } = await signedInContext(user.id);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: platform.apiUrl });
    try {
      const tab = await context.newPage();
      await tab.goto(`${platform.apiUrl}/console/schedule`);
      await expectAccessible(tab);
      await tab.getByLabel('Time zone').fill('Europe/Paris');
      await tab.getByLabel('Monday, hours 1: From').fill('08:30');
      await tab.getByLabel('Monday, hours 1: To').fill('12:00');
      await tab.getByLabel('Monday, hours 2: From').fill('13:00');
      await tab.getByLabel('Monday, hours 2: To').fill('17:30');
      await tab.getByLabel('Friday, hours 1: From').fill('');
      await tab.getByLabel('Friday, hours 1: To').fill('');
      await tab.getByLabel('Date', { exact: true }).first().fill('2030-12-24');
      await tab.getByLabel('New override 1: Unavailable all day').check();
      await tab.getByRole('button', { name: 'Save schedule' }).click();
      await tab.waitForURL(/\/console\/schedule\?done=saved$/);
      await expect(tab.getByRole('status').first().textContent()).resolves.toMatch(/^Saved/);
      const schedule = (await platform.request('GET', '/v1/me/schedule', { token: user.token })).body;
      expect(schedule).toMatchObject({
        timeZone: 'Europe/Paris',
        overrides: [{ date: '2030-12-24', intervals: [] }],
      });
      expect(schedule.weekly.mon).toEqual([
        { start: '08:30', end: '12:00' },
        { start: '13:00', end: '17:30' },
      ]);
      expect(schedule.weekly.fri).toEqual([]);
      expect(schedule.weekly.tue).toEqual([{ start: '09:00', end: '17:00' }]);

      await tab
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Booking calendars' })
        .click();
      await tab.waitForURL(/\/console\/booking-calendars$/);
      await expectAccessible(tab);
      await tab.getByRole('link', { name: 'Create a booking calendar' }).click();
      await tab.waitForURL(/\/new$/);
      await expectAccessible(tab);
      const slug = `browser-${Date.now().toString(36)}`;
      await tab.getByLabel('Name').fill('First meeting');
      await tab.getByLabel('Slug').fill(slug);
      await tab.getByLabel('Duration (minutes)').fill('45');
      await tab.getByLabel('Buffer after (minutes)').fill('15');
      await tab.getByRole('button', { name: 'Create booking calendar' }).click();
      await tab.waitForURL(new RegExp(`/console/booking-calendars/${slug}\\?done=created$`));
      await expect(tab.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('First meeting');
      await expect(tab.getByLabel('Booking link', { exact: true }).inputValue()).resolves.toBe(
        `${platform.config.PUBLIC_URL}/book/${slug}`,
      );
      await expectAccessible(tab);
      const [created] = (await platform.request('GET', '/v1/booking-calendars', { token: user.token })).body
        .items;
      expect(created).toMatchObject({
        slug,
        name: 'First meeting',
        durationMinutes: 45,
        bufferAfterMinutes: 15,
      });

      await tab.getByRole('button', { name: 'Create a one-time link' }).click();
      const link = tab.getByLabel('New one-time link', { exact: true });
      const url = await link.inputValue();
      expect(url).toMatch(new RegExp(`^${platform.config.PUBLIC_URL}/l/otl_`));
      // The copy button next to the new link; the script says "Copied" once the clipboard has it.
      await tab.locator('.new-link').getByRole('button', { name: 'Copy link' }).click();
      await tab.locator('.new-link').getByRole('button', { name: 'Copied' }).waitFor();
      expect(await tab.evaluate('navigator.clipboard.readText()')).toBe(url);
      await expect(tab.locator('tr[data-state="unused"]').count()).resolves.toBe(1);
      await expectAccessible(tab);

      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lays the schedule out on a phone without sideways scrolling', async () => {
    const user = await platform.createUser();
    const { context, blocked } = await signedInContext(user.id, phoneContext);
    try {
      const tab = await context.newPage();
      await tab.goto(`${platform.apiUrl}/console/schedule`);
      await expect(tab.getByLabel('Monday, hours 1: From').isVisible()).resolves.toBe(true);
      const [scrollWidth, innerWidth] = (await tab.evaluate(
        '[document.documentElement.scrollWidth, window.innerWidth]',
      )) as [number, number];
      expect(innerWidth).toBe(390);
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
