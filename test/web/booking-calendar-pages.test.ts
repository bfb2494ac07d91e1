/**
 * The booking-calendar pages over HTTP: creating, listing and changing a calendar shows through the
 * API; one-time links are shown once and revoked; other people's calendars are 404; a booking made
 * through the public API is listed and cancelled from the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import type { FormClient } from './form-client.ts';
import { signedInClient } from './signed-in.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

let counter = 0;
const slugOf = () => `page-${++counter}-${Date.now().toString(36)}`;

const calendarForm = (values: Record<string, string>) => ({
  name: 'Consultation',
  slug: slugOf(),
  type: 'simple',
  durationMinutes: '30',
  slotIntervalMinutes: '',
  bufferBeforeMinutes: '0',
  bufferAfterMinutes: '0',
  minNoticeMinutes: '0',
  maxDaysAhead: '60',
  ...values,
});

const input = (page: string, id: string) => {
  const match = new RegExp(`<input id="${id}"[^>]*>`).exec(page);
  if (!match) throw new Error(`no input #${id}`);
  return match[0];
};
const errorOf = (page: string, id: string) =>
  new RegExp(`<p class="error" id="${id}-error">([^<]*)</p>`).exec(page)?.[1] ?? null;

async function provider() {
  const user = await platform.createUser({ timeZone: 'Europe/Berlin' });
  return { ...user, client: await signedInClient(platform, user.id) };
}

async function createCalendar(client: FormClient, values: Record<string, string> = {}) {
  await client.get('/console/booking-calendars/new');
  const form = calendarForm(values);
  const created = await client.post('/console/booking-calendars/new', form);
  expect(created.status, created.text).toBe(303);
  expect(created.location).toBe(`/console/booking-calendars/${form.slug}?done=created`);
  return form.slug;
}

describe('booking calendar pages', () => {
  it('creates a calendar that is listed with its link and shown by the API; a taken slug is 409', async () => {
    const owner = await provider();
    const slug = await createCalendar(owner.client, {
      name: 'Coaching',
      durationMinutes: '45',
      bufferBeforeMinutes: '5',
      maxDaysAhead: '30',
    });
    const url = `${platform.config.PUBLIC_URL}/book/${slug}`;

    const list = await owner.client.get('/console/booking-calendars');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`href="/console/booking-calendars/${slug}">Coaching</a>`);
    expect(list.text).toContain('45 minutes');
    const copy = /<input id="(calendar-link-\d+)" type="url" value="([^"]+)" readonly>/.exec(list.text)!;
    expect(copy[2]).toBe(url);
    expect(list.text).toContain(`data-copy="#${copy[1]}"`);

    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).body).toMatchObject({
      name: 'Coaching',
      durationMinutes: 45,
      type: 'simple',
    });
    const [mine] = (await platform.request('GET', '/v1/booking-calendars', { token: owner.token })).body
      .items;
    expect(mine).toMatchObject({
      slug,
      hosts: [owner.id],
      bufferBeforeMinutes: 5,
      maxDaysAhead: 30,
      slotIntervalMinutes: null,
    });

    await owner.client.get('/console/booking-calendars/new');
    const taken = await owner.client.post(
      '/console/booking-calendars/new',
      calendarForm({ slug, name: 'Again' }),
    );
    expect(taken.status).toBe(409);
    expect(errorOf(taken.text, 'f-slug')).toBe('This slug is taken: choose another.');
    expect(input(taken.text, 'f-slug')).toMatch(new RegExp(`value="${slug}"[\\s\\S]*aria-invalid="true"`));
    expect(input(taken.text, 'f-name')).toContain('value="Again"');
    expect(
      (await platform.request('GET', '/v1/booking-calendars', { token: owner.token })).body.items,
    ).toHaveLength(1);
  });

  it('shows bad values at their fields with 422 and creates nothing', async () => {
    const owner = await provider();
    await owner.client.get('/console/booking-calendars/new');
    const bad = await owner.client.post(
      '/console/booking-calendars/new',
      calendarForm({
        name: '  ',
        slug: 'Not A Slug',
        durationMinutes: '2',
        bufferAfterMinutes: 'ten',
        maxDaysAhead: '',
        type: 'round_robin',
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('role="alert"');
    expect(errorOf(bad.text, 'f-name')).toBeTruthy();
    expect(errorOf(bad.text, 'f-slug')).toBe('Must be lower-case letters, digits and dashes.');
    expect(input(bad.text, 'f-slug')).toContain('value="Not A Slug"');
    expect(errorOf(bad.text, 'f-durationMinutes')).toBe('Must be at least 5.');
    expect(input(bad.text, 'f-durationMinutes')).toContain('value="2"');
    expect(errorOf(bad.text, 'f-bufferAfterMinutes')).toBe('Enter a whole number.');
    expect(input(bad.text, 'f-bufferAfterMinutes')).toContain('value="ten"');
    expect(errorOf(bad.text, 'f-type')).toBe('Choose who is booked.');
    // Empty means the default, not a mistake.
    expect(errorOf(bad.text, 'f-maxDaysAhead')).toBeNull();
    expect(
      (await platform.request('GET', '/v1/booking-calendars', { token: owner.token })).body.items,
    ).toEqual([]);
  });

  it('changes the settings, and refuses bad values and a form without the CSRF token', async () => {
    const owner = await provider();
    const slug = await createCalendar(owner.client);
    const page = await owner.client.get(`/console/booking-calendars/${slug}?done=created`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('class="flash"');
    expect(input(page.text, 'booking-link')).toContain(`value="${platform.config.PUBLIC_URL}/book/${slug}"`);
    expect(input(page.text, 'f-durationMinutes')).toContain('value="30"');

    const fields = {
      name: 'Long consultation',
      durationMinutes: '60',
      slotIntervalMinutes: '15',
      bufferBeforeMinutes: '0',
      bufferAfterMinutes: '10',
      minNoticeMinutes: '120',
      maxDaysAhead: '14',
    };
    const saved = await owner.client.post(`/console/booking-calendars/${slug}`, fields);
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/console/booking-calendars/${slug}?done=saved`);
    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).body).toMatchObject({
      name: 'Long consultation',
      durationMinutes: 60,
    });
    const [view] = (await platform.request('GET', '/v1/booking-calendars', { token: owner.token })).body
      .items;
    expect(view).toMatchObject({
      slotIntervalMinutes: 15,
      bufferAfterMinutes: 10,
      minNoticeMinutes: 120,
      maxDaysAhead: 14,
    });

    await owner.client.get(`/console/booking-calendars/${slug}`);
    const bad = await owner.client.post(`/console/booking-calendars/${slug}`, {
      ...fields,
      maxDaysAhead: '0',
    });
    expect(bad.status).toBe(422);
    expect(errorOf(bad.text, 'f-maxDaysAhead')).toBe('Must be at least 1.');
    expect(input(bad.text, 'f-maxDaysAhead')).toContain('value="0"');

    const forged = await owner.client.post(
      `/console/booking-calendars/${slug}`,
      { ...fields, durationMinutes: '90' },
      { csrf: null },
    );
    expect(forged.status).toBe(403);
    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).body.durationMinutes).toBe(60);
  });

  it('shows a new one-time link once, lists it unused, and revokes it', async () => {
    const owner = await provider();
    const slug = await createCalendar(owner.client);
    await owner.client.get(`/console/booking-calendars/${slug}`);
    const created = await owner.client.post(`/console/booking-calendars/${slug}/one-time-links`);
    expect(created.status).toBe(201);
    const shown = /<input id="new-one-time-link" type="url" value="([^"]+)" readonly>/.exec(created.text);
    const url = shown![1]!;
    expect(url).toMatch(new RegExp(`^${platform.config.PUBLIC_URL}/l/otl_[\\w-]{20,}$`));
    expect(created.text).toContain('data-copy="#new-one-time-link"');
    expect(created.text).toContain('exactly one booking');
    const token = url.split('/l/')[1]!;
    expect((await platform.request('GET', `/v1/one-time-links/${token}`)).status).toBe(200);

    const later = await owner.client.get(`/console/booking-calendars/${slug}`);
    expect(later.text).not.toContain(token);
    expect(later.text).toMatch(/<tr data-state="unused">[\s\S]*?Unused/);
    const revoke = new RegExp(
      `action="(/console/booking-calendars/${slug}/one-time-links/[0-9a-f-]{36}/revoke)"`,
    ).exec(later.text)![1]!;

    // Another calendar of the same host cannot revoke it through its own page.
    const otherSlug = await createCalendar(owner.client);
    await owner.client.get(`/console/booking-calendars/${otherSlug}`);
    const crossed = await owner.client.post(revoke.replace(slug, otherSlug));
    expect(crossed.status).toBe(404);
    expect((await platform.request('GET', `/v1/one-time-links/${token}`)).status).toBe(200);

    const revoked = await owner.client.post(revoke);
    expect(revoked.status).toBe(303);
    expect(revoked.location).toBe(`/console/booking-calendars/${slug}?done=revoked#one-time-links`);
    const after = await owner.client.get(`/console/booking-calendars/${slug}`);
    expect(after.text).toMatch(/<tr data-state="revoked">[\s\S]*?Revoked/);
    expect(after.text).not.toContain('/revoke"');
    const api = await platform.request('GET', `/v1/one-time-links/${token}`);
    expect(api.status).toBe(410);
    expect(api.body.error.code).toBe('link_revoked');
  });

  it("answers 404 for another provider's calendar, and for a path no calendar could have", async () => {
    const owner = await provider();
    const stranger = await provider();
    const slug = await createCalendar(owner.client);
    const seen = await stranger.client.get(`/console/booking-calendars/${slug}`);
    expect(seen.status).toBe(404);
    expect(seen.text).toContain('Not found');
    await stranger.client.get('/console/booking-calendars');
    expect(
      (
        await stranger.client.post(`/console/booking-calendars/${slug}`, {
          name: 'Mine',
          durationMinutes: '30',
        })
      ).status,
    ).toBe(404);
    await stranger.client.get('/console/booking-calendars');
    expect((await stranger.client.post(`/console/booking-calendars/${slug}/one-time-links`)).status).toBe(
      404,
    );
    await stranger.client.get('/console/booking-calendars');
    expect((await stranger.client.post(`/console/booking-calendars/${slug}/delete`)).status).toBe(404);
    expect((await stranger.client.get(`/console/booking-calendars/${slug}/delete`)).status).toBe(404);
    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).body.name).toBe('Consultation');

    expect((await owner.client.get('/console/booking-calendars/bad%00slug')).status).toBe(404);
    expect((await owner.client.get('/console/bookings/not-a-uuid/cancel')).status).toBe(404);
  });

  it('lists a booking made through the public API and cancels it as the host; deleting keeps it', async () => {
    const owner = await provider();
    const slug = await createCalendar(owner.client, { name: 'Intro call' });
    const from = new Date(Date.now() + 86_400_000);
    const to = new Date(from.getTime() + 7 * 86_400_000);
    const slots = await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${to.toISOString()}`,
    );
    const start = slots.body.slots[0].start as string;
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start, attendee: { name: 'Kim Lee', email: 'kim@example.com' } },
    });
    expect(booked.status).toBe(201);
    const id = booked.body.id as string;

    const list = await owner.client.get('/console/booking-calendars');
    const when = new Intl.DateTimeFormat('en-GB', {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'Europe/Berlin',
    }).format(new Date(start));
    expect(list.text).toContain(`${when} (Europe/Berlin)`);
    expect(list.text).toContain('Kim Lee');
    expect(list.text).toContain('kim@example.com');
    expect(list.text).toMatch(/Intro call · <span class="tag status-(held|confirmed)">/);
    expect(list.text).toContain(`href="/console/bookings/${id}/cancel"`);

    const confirm = await owner.client.get(`/console/bookings/${id}/cancel`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Cancel this booking?');
    const tooLong = await owner.client.post(`/console/bookings/${id}/cancel`, { reason: 'x'.repeat(1001) });
    expect(tooLong.status).toBe(422);
    expect(errorOf(tooLong.text, 'f-reason')).toBe('Must be at most 1000 characters.');
    expect(tooLong.text).toContain('x'.repeat(1001));
    expect(
      (await platform.request('GET', `/v1/bookings/${id}`, { token: owner.token })).body.status,
    ).not.toBe('cancelled');

    const cancelled = await owner.client.post(`/console/bookings/${id}/cancel`, { reason: 'I am ill.' });
    expect(cancelled.status).toBe(303);
    expect(cancelled.location).toBe('/console/booking-calendars?done=cancelled');
    const after = await owner.client.get(cancelled.location!);
    expect(after.text).toContain('Cancelled; the customer was told by e-mail.');
    expect(after.text).toContain('status-cancelled');
    expect(after.text).not.toContain(`href="/console/bookings/${id}/cancel"`);
    await eventually(
      async () =>
        (await platform.request('GET', `/v1/bookings/${id}`, { token: owner.token })).body.status ===
        'cancelled',
      { what: 'the booking cancelled' },
    );

    // Another provider cannot cancel it, nor see it.
    const stranger = await provider();
    expect((await stranger.client.get(`/console/bookings/${id}/cancel`)).status).toBe(404);

    const confirmDelete = await owner.client.get(`/console/booking-calendars/${slug}/delete`);
    expect(confirmDelete.status).toBe(200);
    const deleted = await owner.client.post(`/console/booking-calendars/${slug}/delete`);
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/console/booking-calendars?done=deleted');
    expect((await platform.request('GET', `/v1/booking-calendars/${slug}`)).status).toBe(404);
    const kept = await owner.client.get('/console/booking-calendars');
    expect(kept.text).toContain('Kim Lee');
    expect(kept.text).toContain('A deleted booking calendar');
  });
});
