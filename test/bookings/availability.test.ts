/**
 * Availability through the API: busy time imported from the host's calendar appears and goes with
 * sync, a broken sync keeps it and says `stale`, private titles never leak, and bad input is a 4xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { bookingCalendar, hostWithCalendar } from './support.ts';

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

const DAY = 86_400_000;

async function slotsOn(slug: string, day: Date) {
  const res = await platform.request(
    'GET',
    `/v1/booking-calendars/${slug}/slots?from=${day.toISOString()}&to=${new Date(day.getTime() + DAY).toISOString()}&timeZone=Europe/Berlin`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { slots: { start: string; end: string }[]; stale: boolean; timeZone: string };
}

async function syncNow(token: string, connectionId: string) {
  const before = (await platform.request('GET', `/v1/connections/${connectionId}`, { token })).body
    .lastSyncAt;
  await platform.request('POST', `/v1/connections/${connectionId}/sync`, { token, body: {} });
  return eventually(
    async () => {
      const c = (await platform.request('GET', `/v1/connections/${connectionId}`, { token })).body;
      return c.lastSyncAt !== before || c.status === 'needs_reauth' ? c : null;
    },
    { what: 'a sync pass' },
  );
}

describe('availability', () => {
  it('subtracts imported busy time after a sync, gives it back when the event goes, and keeps it (stale) while sync is broken', async () => {
    const host = await hostWithCalendar(platform, radicale, { timeZone: 'UTC' });
    const slug = await bookingCalendar(platform, host, { durationMinutes: 60 });
    const day = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY);
    const nine = new Date(day.getTime() + 9 * 3600_000);
    expect((await slotsOn(slug, day)).slots.map((s) => s.start)).toContain(nine.toISOString());

    await radicale.putEvent(
      host.dav.collection,
      host.dav.username,
      host.dav.password,
      'private.ics',
      generateIcsEvent({
        uid: 'private@t',
        summary: 'Secret merger talks',
        start: nine,
        end: new Date(nine.getTime() + 3600_000),
      }),
    );
    await syncNow(host.token, host.connectionId);
    const busy = await slotsOn(slug, day);
    expect(busy.slots.map((s) => s.start)).not.toContain(nine.toISOString());
    expect(busy.stale).toBe(false);
    // The public views never show a host's event titles.
    expect(JSON.stringify(busy)).not.toContain('Secret');
    expect(
      JSON.stringify((await platform.request('GET', `/v1/booking-calendars/${slug}`)).body),
    ).not.toContain('Secret');

    await radicale.deleteEvent(host.dav.collection, host.dav.username, host.dav.password, 'private.ics');
    await syncNow(host.token, host.connectionId);
    expect((await slotsOn(slug, day)).slots.map((s) => s.start)).toContain(nine.toISOString());

    // The event comes back, then the password changes: the busy time stays, marked stale.
    await radicale.putEvent(
      host.dav.collection,
      host.dav.username,
      host.dav.password,
      'private.ics',
      generateIcsEvent({
        uid: 'private@t',
        summary: 'Secret merger talks',
        start: nine,
        end: new Date(nine.getTime() + 3600_000),
      }),
    );
    await syncNow(host.token, host.connectionId);
    await radicale.setPassword(host.dav.username, 'rotated');
    const parked = await syncNow(host.token, host.connectionId);
    expect(parked.status).toBe('needs_reauth');
    const stale = await slotsOn(slug, day);
    expect(stale.stale).toBe(true);
    expect(stale.slots.map((s) => s.start)).not.toContain(nine.toISOString());
  });

  it('blocks the whole day of an all-day event in the host zone', async () => {
    const host = await hostWithCalendar(platform, radicale, { timeZone: 'America/Los_Angeles' });
    const slug = await bookingCalendar(platform, host, { durationMinutes: 60 });
    const day = new Date(Math.floor(Date.now() / DAY) * DAY + 4 * DAY);
    await radicale.putEvent(
      host.dav.collection,
      host.dav.username,
      host.dav.password,
      'holiday.ics',
      generateIcsEvent({
        uid: 'holiday@t',
        summary: 'Holiday',
        start: day,
        end: new Date(day.getTime() + DAY),
        allDay: true,
      }),
    );
    await syncNow(host.token, host.connectionId);
    // The holiday is that date in Los Angeles: 08:00Z that day to 08:00Z the next (PST) or 07:00Z (PDT).
    const from = new Date(day.getTime() - DAY);
    const res = await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(day.getTime() + 2 * DAY).toISOString()}`,
    );
    const localDates = new Set(
      (res.body.slots as { start: string }[]).map((s) =>
        new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date(s.start)),
      ),
    );
    const holiday = day.toISOString().slice(0, 10);
    expect(localDates.has(holiday)).toBe(false);
    expect(localDates.size).toBeGreaterThanOrEqual(2);
  });

  it('answers bad booking input with the 4xx of the contract, never a 5xx', async () => {
    const host = await platform.createUser({ timeZone: 'UTC' });
    const slug = `bad-${Date.now().toString(36)}`;
    await platform.request('POST', '/v1/booking-calendars', {
      token: host.token,
      body: { slug, name: 'Bad input', type: 'simple', hosts: [host.id], durationMinutes: 30 },
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const attendee = { name: 'A', email: 'a@example.com' };
    const cases: [string, string, unknown, number, string][] = [
      [
        'GET',
        `/v1/booking-calendars/${slug}/slots?from=${iso(now)}&to=${iso(now + 63 * DAY)}`,
        undefined,
        400,
        'validation_failed',
      ],
      [
        'GET',
        `/v1/booking-calendars/${slug}/slots?from=${iso(now + DAY)}&to=${iso(now)}`,
        undefined,
        400,
        'validation_failed',
      ],
      [
        'GET',
        `/v1/booking-calendars/${slug}/slots?from=yesterday&to=${iso(now)}`,
        undefined,
        400,
        'validation_failed',
      ],
      [
        'GET',
        `/v1/booking-calendars/no-such-calendar/slots?from=${iso(now)}&to=${iso(now + DAY)}`,
        undefined,
        404,
        'not_found',
      ],
      ['GET', '/v1/booking-calendars/Not_A_Slug', undefined, 400, 'validation_failed'],
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: iso(now - DAY), attendee },
        400,
        'validation_failed',
      ],
      // Not on the slot grid (09:07) and outside the schedule (a Sunday 03:00 is not in Mon–Fri 09–17).
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: nextWeekday(9, 7), attendee },
        409,
        'slot_unavailable',
      ],
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: nextSunday(3), attendee },
        409,
        'slot_unavailable',
      ],
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: nextWeekday(10, 0), attendee: { name: 'A', email: 'not-an-email' } },
        400,
        'validation_failed',
      ],
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: nextWeekday(10, 0), attendee, notes: 'x'.repeat(5000) },
        400,
        'validation_failed',
      ],
      [
        'POST',
        `/v1/booking-calendars/${slug}/bookings`,
        { start: nextWeekday(10, 0), attendee: { ...attendee, timeZone: 'Mars/Olympus' } },
        400,
        'validation_failed',
      ],
      [
        'POST',
        '/v1/booking-calendars/no-such-calendar/bookings',
        { start: nextWeekday(10, 0), attendee },
        404,
        'not_found',
      ],
      ['GET', '/v1/one-time-links/otl_doesnotexistdoesnotexistdoesnotexist', undefined, 404, 'not_found'],
      [
        'GET',
        '/v1/bookings/00000000-0000-4000-8000-000000000000?token=cbm_forged',
        undefined,
        404,
        'not_found',
      ],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await platform.request(method, url, body === undefined ? {} : { body });
      expect(res.status, `${method} ${url} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(
        status,
      );
      expect(res.body.error.code).toBe(code);
    }
    const health = await platform.request('GET', '/healthz');
    expect(health.status).toBe(200);
  });
});

/** The next Monday–Friday (UTC) at least two days ahead, at hh:mm UTC. */
function nextWeekday(hh: number, mm: number): string {
  const d = new Date(Math.floor(Date.now() / DAY) * DAY + 2 * DAY);
  while ([0, 6].includes(d.getUTCDay())) d.setUTCDate(d.getUTCDate() + 1);
  d.setUTCHours(hh, mm, 0, 0);
  return d.toISOString();
}

function nextSunday(hh: number): string {
  const d = new Date(Math.floor(Date.now() / DAY) * DAY + 2 * DAY);
  while (d.getUTCDay() !== 0) d.setUTCDate(d.getUTCDate() + 1);
  d.setUTCHours(hh, 0, 0, 0);
  return d.toISOString();
}
