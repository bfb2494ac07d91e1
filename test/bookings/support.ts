/** Shared set-up for booking tests: a host with a CalDAV primary calendar and a booking calendar. */
import { expect } from 'vitest';
import { eventually, type Platform } from '../harness/platform.ts';
import type { Radicale } from '../support/radicale.ts';

let counter = 0;

/** Every day 00:00–24:00 in `timeZone`: availability is then shaped only by busy time and rules. */
export const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]),
);

export interface Host {
  id: string;
  token: string;
  dav: { username: string; password: string; collection: string };
  connectionId: string;
}

/** A host whose Radicale calendar "Work" counts for availability and is the primary calendar. */
export async function hostWithCalendar(
  platform: Platform,
  radicale: Radicale,
  opts: { timeZone?: string; weekly?: Record<string, { start: string; end: string }[]> } = {},
): Promise<Host> {
  const timeZone = opts.timeZone ?? 'Europe/Berlin';
  const user = await platform.createUser({ timeZone });
  const schedule = await platform.request('PUT', '/v1/me/schedule', {
    token: user.token,
    body: { timeZone, weekly: opts.weekly ?? ALWAYS, overrides: [] },
  });
  expect(schedule.status).toBe(200);
  const username = `host${++counter}-${Date.now().toString(36)}`;
  const password = `pw-${username}`;
  await radicale.setPassword(username, password);
  const collection = await radicale.createCalendar(username, password, 'work', { displayName: 'Work' });
  const created = await platform.request('POST', '/v1/connections', {
    token: user.token,
    body: { provider: 'caldav', serverUrl: radicale.url, username, password },
  });
  expect(created.status).toBe(201);
  const work = created.body.calendars.find((c: { name: string }) => c.name === 'Work');
  await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
    token: user.token,
    body: { calendars: [{ id: work.id, importForAvailability: true }], primaryCalendarId: work.id },
  });
  await eventually(
    async () => {
      const c = (await platform.request('GET', `/v1/connections/${created.body.id}`, { token: user.token }))
        .body;
      return c.status === 'active' ? c : null;
    },
    { what: 'the host calendar import' },
  );
  return {
    id: user.id,
    token: user.token,
    dav: { username, password, collection },
    connectionId: created.body.id,
  };
}

export async function bookingCalendar(
  platform: Platform,
  host: Host,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const slug = `cal-${++counter}-${Date.now().toString(36)}`;
  const res = await platform.request('POST', '/v1/booking-calendars', {
    token: host.token,
    body: { slug, name: 'Consultation', type: 'simple', hosts: [host.id], durationMinutes: 30, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return slug;
}

/** The calendar objects in a CalDAV collection, as raw iCalendar text (one REPORT, no adapter). */
export async function davObjects(host: Host): Promise<string[]> {
  const res = await fetch(host.dav.collection, {
    method: 'REPORT',
    headers: {
      Depth: '1',
      'Content-Type': 'application/xml; charset=utf-8',
      Authorization: `Basic ${Buffer.from(`${host.dav.username}:${host.dav.password}`).toString('base64')}`,
    },
    body: `<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>
</c:calendar-query>`,
  });
  const xml = await res.text();
  return [...xml.matchAll(/<(?:\w+:)?calendar-data[^>]*>([\s\S]*?)<\/(?:\w+:)?calendar-data>/g)].map((m) =>
    m[1]!.replaceAll('&#13;', '\r').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'),
  );
}

/** The first offered slot in the next `days` days. */
export async function firstSlots(platform: Platform, slug: string, count = 3, days = 7) {
  const from = new Date();
  const to = new Date(from.getTime() + days * 86_400_000);
  const res = await platform.request(
    'GET',
    `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${to.toISOString()}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.slots.length).toBeGreaterThanOrEqual(count);
  return res.body.slots as { start: string; end: string }[];
}
