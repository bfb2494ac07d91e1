/**
 * A host whose primary calendar needs reconnecting: the booking still holds and mails, its invite
 * waits (`pending`), and is written once the host reconnects — once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { bookingCalendar, davObjects, firstSlots, hostWithCalendar } from './support.ts';

let platform: Platform;
let radicale: Radicale;
beforeAll(async () => {
  [platform, radicale] = await Promise.all([
    startPlatform({ env: { CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
});

describe('invite into a calendar that needs reconnecting', () => {
  it('waits as pending and is written after the reconnect', async () => {
    const host = await hostWithCalendar(platform, radicale, { timeZone: 'UTC' });
    const slug = await bookingCalendar(platform, host);
    await radicale.setPassword(host.dav.username, 'rotated-pw');
    await platform.request('POST', `/v1/connections/${host.connectionId}/sync`, {
      token: host.token,
      body: {},
    });
    await eventually(
      async () =>
        (await platform.request('GET', `/v1/connections/${host.connectionId}`, { token: host.token })).body
          .status === 'needs_reauth',
      { what: 'needs_reauth' },
    );

    const [slot] = await firstSlots(platform, slug);
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slot!.start, attendee: { name: 'Pat', email: 'pat@example.com' } },
    });
    expect(booked.status).toBe(201);
    const pending = await eventually(
      async () => {
        const b = (await platform.request('GET', `/v1/bookings/${booked.body.id}`, { token: host.token }))
          .body;
        return b.status === 'confirmed' ? b : null;
      },
      { what: 'the booking confirmed' },
    );
    expect(pending.invite.status).toBe('pending');

    const reconnected = await platform.request('POST', `/v1/connections/${host.connectionId}/reconnect`, {
      token: host.token,
      body: {
        provider: 'caldav',
        serverUrl: radicale.url,
        username: host.dav.username,
        password: 'rotated-pw',
      },
    });
    expect(reconnected.status).toBe(200);
    await eventually(
      async () => {
        const b = (await platform.request('GET', `/v1/bookings/${booked.body.id}`, { token: host.token }))
          .body;
        return b.invite.status === 'written' ? b : null;
      },
      { what: 'the invite written after the reconnect (long before its 10-minute retry)', timeoutMs: 30_000 },
    );
    const objects = await davObjects({ ...host, dav: { ...host.dav, password: 'rotated-pw' } });
    expect(objects).toHaveLength(1);
    expect(objects[0]).toContain(`X-CALBRIDGE-ID:${booked.body.id}`);
  });
});
