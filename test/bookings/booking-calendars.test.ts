/** Booking calendars through the API: create, list, public read, change, delete; limits and links. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../harness/platform.ts';
import { ALWAYS } from './support.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ env: { BOOKING_RATE_LIMIT_PER_MINUTE: '1000' } });
});
afterAll(() => platform?.stop());

let counter = 0;
async function host() {
  const user = await platform.createUser({ timeZone: 'UTC' });
  await platform.request('PUT', '/v1/me/schedule', {
    token: user.token,
    body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
  });
  return user;
}
const slugOf = () => `bc-${++counter}-${Date.now().toString(36)}`;

describe('booking calendars', () => {
  it('creates, lists, shows publicly, changes and deletes; bookings stay', async () => {
    const owner = await host();
    const other = await host();
    const slug = slugOf();
    const body = {
      slug,
      name: 'Coaching',
      type: 'simple',
      hosts: [owner.id],
      durationMinutes: 45,
      bufferBeforeMinutes: 5,
    };
    const created = await platform.request('POST', '/v1/booking-calendars', { token: owner.token, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug,
      hosts: [owner.id],
      durationMinutes: 45,
      bufferBeforeMinutes: 5,
      url: `${platform.config.PUBLIC_URL}/book/${slug}`,
    });
    expect(
      (await platform.request('POST', '/v1/booking-calendars', { token: owner.token, body })).status,
    ).toBe(409);
    // Not a host of it: may not create it for someone else.
    const forOther = await platform.request('POST', '/v1/booking-calendars', {
      token: other.token,
      body: { ...body, slug: slugOf() },
    });
    expect(forOther.status).toBe(400);
    // The team types come later.
    const team = await platform.request('POST', '/v1/booking-calendars', {
      token: owner.token,
      body: { ...body, slug: slugOf(), type: 'round_robin' },
    });
    expect(team.status).toBe(400);

    const listed = await platform.request('GET', '/v1/booking-calendars', { token: owner.token });
    expect(listed.body.items.map((c: { slug: string }) => c.slug)).toEqual([slug]);
    expect(
      (await platform.request('GET', '/v1/booking-calendars', { token: other.token })).body.items,
    ).toEqual([]);

    const shown = await platform.request('GET', `/v1/booking-calendars/${slug}`);
    expect(shown.body).toEqual({
      slug,
      name: 'Coaching',
      type: 'simple',
      durationMinutes: 45,
      services: [],
      url: `${platform.config.PUBLIC_URL}/book/${slug}`,
    });

    const changed = await platform.request('PATCH', `/v1/booking-calendars/${slug}`, {
      token: owner.token,
      body: { durationMinutes: 30, name: 'Short coaching' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      durationMinutes: 30,
      name: 'Short coaching',
      bufferBeforeMinutes: 5,
    });
    expect(
      (
        await platform.request('PATCH', `/v1/booking-calendars/${slug}`, {
          token: other.token,
          body: { name: 'Mine' },
        })
      ).status,
    ).toBe(404);

    const from = new Date(Date.now() + 86_400_000);
    const slots = await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 86_400_000).toISOString()}`,
    );
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slots.body.slots[0].start, attendee: { name: 'Kim', email: 'kim@example.com' } },
    });
    expect(booked.status).toBe(201);
    expect(booked.body.end).toBe(new Date(Date.parse(booked.body.start) + 30 * 60_000).toISOString());

    expect(
      (await platform.request('DELETE', `/v1/booking-calendars/${slug}`, { token: owner.token })).status,
    ).toBe(204);
    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).status).toBe(404);
    const kept = await platform.request('GET', `/v1/bookings/${booked.body.id}`, { token: owner.token });
    expect(kept.status).toBe(200);
    expect(kept.body.bookingCalendar).toBeNull();
  });

  it('keeps the old time when a reschedule asks for a taken one, and refuses an expired link', async () => {
    const owner = await host();
    const slug = slugOf();
    await platform.request('POST', '/v1/booking-calendars', {
      token: owner.token,
      body: { slug, name: 'Call', type: 'simple', hosts: [owner.id], durationMinutes: 30 },
    });
    const from = new Date(Date.now() + 86_400_000);
    const { slots } = (
      await platform.request(
        'GET',
        `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 86_400_000).toISOString()}`,
      )
    ).body;
    const first = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slots[0].start, attendee: { name: 'A', email: 'a@example.com' } },
    });
    const second = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slots[1].start, attendee: { name: 'B', email: 'b@example.com' } },
    });
    const moved = await platform.request('POST', `/v1/bookings/${second.body.id}/reschedule`, {
      token: owner.token,
      body: { start: first.body.start },
    });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('slot_unavailable');
    expect(
      (await platform.request('GET', `/v1/bookings/${second.body.id}`, { token: owner.token })).body.start,
    ).toBe(slots[1].start);

    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: owner.token,
      body: { expiresAt: new Date(Date.now() + 1500).toISOString() },
    });
    expect((await platform.request('GET', `/v1/one-time-links/${link.body.token}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await platform.request('GET', `/v1/one-time-links/${link.body.token}`);
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('link_revoked');
  });

  it('rate-limits public reads per client address with 429 and Retry-After, pages and API alike', async () => {
    // A server of its own with a small budget: 5 public reads a minute per address.
    const limited = await startPlatform({ worker: false, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const owner = await limited.createUser({ timeZone: 'UTC' });
      const slug = slugOf();
      await limited.request('POST', '/v1/booking-calendars', {
        token: owner.token,
        body: { slug, name: 'Busy page', type: 'simple', hosts: [owner.id], durationMinutes: 30 },
      });
      // The booking page draws on the same budget: after 4 page views, the API gives one more read.
      for (let i = 0; i < 4; i++)
        expect((await fetch(`${limited.apiUrl}/book/${slug}?timeZone=UTC`)).status).toBe(200);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await limited.request('GET', `/v1/booking-calendars/${slug}`));
      expect(answers.map((a) => a.status)).toEqual([200, 429, 429]);
      expect(answers[1]!.body.error.code).toBe('rate_limited');
      expect(Number(answers[1]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another address is not limited.
      const elsewhere = await limited.request('GET', `/v1/booking-calendars/${slug}`, {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(elsewhere.status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
