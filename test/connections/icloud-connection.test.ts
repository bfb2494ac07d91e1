/**
 * iCloud end to end through an iCloud-shaped front for Radicale: ICLOUD_CALDAV_URL points at the
 * discovery host, whose calendar home lives on a separate partition host, and which refuses requests
 * without up-front Basic credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { calendarScenario } from '../support/calendar-scenario.ts';
import { type ICloudProxy, startICloudProxy } from '../support/icloud-proxy.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';

let platform: Platform;
let radicale: Radicale;
let icloud: ICloudProxy;
const scenario = calendarScenario();

beforeAll(async () => {
  radicale = await startRadicale({
    users: [{ username: 'ada@icloud.com', password: 'abcd-efgh-ijkl-mnop' }],
  });
  icloud = await startICloudProxy({ upstream: radicale.url });
  platform = await startPlatform({ env: { ICLOUD_CALDAV_URL: icloud.url, CALDAV_POLL_SECONDS: '3600' } });
});
afterAll(async () => {
  await platform?.stop();
  await icloud?.stop();
  await radicale?.stop();
});

describe('iCloud connections', () => {
  it('rejects a wrong app-specific password, then links, discovers across hosts and imports exactly', async () => {
    const home = await radicale.createCalendar('ada@icloud.com', 'abcd-efgh-ijkl-mnop', 'home', {
      displayName: 'Home',
      color: '#34AADC',
    });
    for (const o of scenario.objects)
      await radicale.putEvent(home, 'ada@icloud.com', 'abcd-efgh-ijkl-mnop', `${o.name}.ics`, o.ics);
    const user = await platform.createUser();

    const wrong = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'icloud', username: 'ada@icloud.com', appPassword: 'wxyz-wxyz-wxyz-wxyz' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('invalid_credentials');

    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'icloud', username: 'ada@icloud.com', appPassword: 'abcd-efgh-ijkl-mnop' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'icloud',
      accountEmail: 'ada@icloud.com',
      status: 'awaiting_selection',
    });
    const cal = created.body.calendars.find((c: { name: string }) => c.name === 'Home');
    expect(cal).toMatchObject({ color: '#34AADC', readOnly: false });
    // Discovery went through the partition host, as on iCloud.
    expect(icloud.requests.some((r) => r.host === 'partition')).toBe(true);

    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: cal.id, importForAvailability: true }], primaryCalendarId: cal.id },
    });
    const ready = await eventually(
      async () => {
        const res = await platform.request('GET', `/v1/connections/${created.body.id}`, {
          token: user.token,
        });
        const c = res.body.calendars.find((x: { id: string }) => x.id === cal.id);
        return res.body.status === 'active' && c.importStatus === 'ready' ? c : null;
      },
      { what: 'the iCloud import' },
    );
    expect(ready).toMatchObject({ isPrimary: true, eventCount: scenario.expected.length });
    const events = await platform.request('GET', `/v1/connections/${created.body.id}/events`, {
      token: user.token,
    });
    expect(
      events.body.items.map((e: Record<string, unknown>) => ({
        start: e.start,
        end: e.end,
        allDay: e.allDay,
        busy: e.busy,
        title: e.title,
      })),
    ).toEqual(scenario.expected);
  });
});
