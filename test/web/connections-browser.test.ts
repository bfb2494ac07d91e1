/**
 * The connection pages in Chromium, as a person uses them: from Calendars through the wizard to a
 * CalDAV server (a wrong password first), the calendar list, Save, and the import reaching "Ready"
 * on Calendars; each page passes an accessibility scan, nothing is fetched from the internet, and
 * the wizard fits a phone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockExternalRequests,
  expectAccessible,
  phoneContext,
  phoneViewport,
  useBrowser,
} from '../harness/browser.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { signInBrowser } from './signed-in.ts';

const browser = useBrowser();
let platform: Platform;
let radicale: Radicale;

beforeAll(async () => {
  [platform, radicale] = await Promise.all([
    startPlatform(),
    startRadicale({ users: [{ username: 'setup', password: 'setup' }] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
});

describe('connection pages in a browser', () => {
  it('connects a CalDAV server from the Calendars page, chooses its calendars and sees the import finish', async () => {
    const username = `browser-${Date.now().toString(36)}`;
    const password = 'correct horse battery';
    await radicale.setPassword(username, password);
    await radicale.createCalendar(username, password, 'work', { displayName: 'Work' });
    await radicale.createCalendar(username, password, 'home', { displayName: 'Home' });
    const user = await platform.createUser();

    const context = await (await browser()).newContext();
    try {
      const { blocked } = await blockExternalRequests(context);
      await signInBrowser(context, platform, user.id);
      const tab = await context.newPage();
      await tab.goto(`${platform.apiUrl}/console/calendars`);

      await tab.getByRole('link', { name: 'Add a new calendar connection' }).click();
      await expect
        .poll(() => tab.getByRole('heading', { level: 1 }).textContent())
        .toBe('Add a new calendar connection');
      // No Google client on this server: offered as unavailable, not as a button.
      expect(await tab.getByRole('button', { name: 'Google' }).count()).toBe(0);
      await expectAccessible(tab);

      await tab.getByRole('link', { name: 'Another CalDAV server' }).click();
      await tab.getByLabel('Server URL').fill(radicale.url);
      await tab.getByLabel('Username').fill(username);
      await tab.getByLabel('Password').fill('wrong password');
      await expectAccessible(tab);
      await tab.getByRole('button', { name: 'Connect' }).click();
      await expect.poll(() => tab.getByRole('alert').textContent()).toMatch(/rejected these credentials/);
      expect(await tab.getByLabel('Username').inputValue()).toBe(username);
      expect(await tab.getByLabel('Password').inputValue()).toBe('');
      await expectAccessible(tab);

      await tab.getByLabel('Password').fill(password);
      await tab.getByRole('button', { name: 'Connect' }).click();
      await tab.getByRole('group', { name: 'Check for conflicts' }).waitFor();
      expect(tab.url()).toMatch(/\/console\/connections\/[0-9a-f-]{36}\/calendars\?done=connected$/);
      await expectAccessible(tab);
      await tab.getByRole('group', { name: 'Check for conflicts' }).getByLabel('Work').check();
      await tab.getByRole('group', { name: 'Primary calendar' }).getByLabel('Work').check();
      await tab.getByRole('button', { name: 'Save' }).click();

      await tab.getByText('Saved. The import runs in the background').waitFor();
      expect(new URL(tab.url()).pathname).toBe('/console/calendars');
      const work = tab.getByRole('row', { name: /Work/ });
      await expect
        .poll(() => work.getByRole('cell').first().textContent(), { timeout: 30_000 })
        .toBe('Ready');
      expect(await tab.getByRole('row', { name: /Home/ }).getByRole('cell').first().textContent()).toBe(
        'Not checked for conflicts',
      );

      await tab.getByRole('link', { name: 'Settings' }).click();
      await tab.getByRole('heading', { name: 'Sync direction' }).waitFor();
      expect(await tab.getByRole('radio', { name: 'Both ways' }).first().isChecked()).toBe(true);
      await expectAccessible(tab);

      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('fits the wizard and the CalDAV form on a phone', async () => {
    const user = await platform.createUser();
    const context = await (await browser()).newContext(phoneContext);
    try {
      const { blocked } = await blockExternalRequests(context);
      await signInBrowser(context, platform, user.id);
      const tab = await context.newPage();
      for (const path of ['/console/connections/new', '/console/connections/new/caldav']) {
        await tab.goto(`${platform.apiUrl}${path}`);
        const width = (await tab.evaluate('document.documentElement.scrollWidth')) as number;
        expect(width, path).toBeLessThanOrEqual(phoneViewport.width);
      }
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
