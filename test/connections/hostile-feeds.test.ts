/**
 * Hostile feed content met through the HTTP API: one odd byte must not fail a calendar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

let platform: Platform;
let feeds: IcsServer;
beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    startPlatform({ env: { ICS_POLL_SECONDS: '3600' } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** A one-hour event `daysAhead` days from now at 09:00 UTC: inside the default import window. */
function vevent(uid: string, daysAhead: number, summary: string): string {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + daysAhead, 9));
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART:${stamp(start)}`,
    `DTEND:${stamp(new Date(start.getTime() + 3600_000))}`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
  ].join('\r\n');
}

describe('hostile feed content', () => {
  it('imports a feed whose name and one SUMMARY carry NUL bytes, cleaned, with every event', async () => {
    const events = [1, 2, 3].map((d) =>
      vevent(`nul-${d}@t`, d, d === 2 ? 'Board\u0000meeting' : `Event ${d}`),
    );
    const body = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//hostile//EN',
      'X-WR-CALNAME:Team\u0000cal',
      ...events,
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    feeds.setFeed('/nul.ics', body);
    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/nul.ics') },
    });
    expect(created.status).toBe(201);
    expect(created.body.calendars[0].name).not.toContain('\u0000');
    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
    });
    const ready = await eventually(
      async () => {
        const c = (await platform.request('GET', `/v1/connections/${created.body.id}`, { token: user.token }))
          .body;
        const settled = c.calendars[0].importStatus === 'error' || c.status === 'active';
        return settled && c.calendars[0].importStatus !== 'importing' ? c : null;
      },
      { what: 'the import to end' },
    );
    expect(ready.calendars[0]).toMatchObject({ importStatus: 'ready', eventCount: 3, error: null });
    expect(ready.status).toBe('active');
    const listed = await platform.request('GET', `/v1/connections/${created.body.id}/events`, {
      token: user.token,
    });
    expect(listed.body.items.map((e: { title: string }) => e.title).sort()).toEqual([
      'Boardmeeting',
      'Event 1',
      'Event 3',
    ]);
  });

  it('shows a rule it cannot expand as a warning beside the calendar, and imports the rest', async () => {
    const secondly = vevent('every-second@t', 1, 'Heartbeat').replace(
      'END:VEVENT',
      'RRULE:FREQ=SECONDLY\r\nEND:VEVENT',
    );
    const body = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//hostile//EN',
      secondly,
      vevent('fine@t', 2, 'Fine'),
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    feeds.setFeed('/secondly.ics', body);
    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/secondly.ics') },
    });
    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
    });
    const calendar = await eventually(
      async () => {
        const c = (await platform.request('GET', `/v1/connections/${created.body.id}`, { token: user.token }))
          .body;
        return c.calendars[0].importStatus === 'ready' ? c.calendars[0] : null;
      },
      { what: 'the import' },
    );
    expect(calendar.eventCount).toBe(1);
    expect(calendar.warnings).toEqual([
      expect.objectContaining({ objectKey: 'every-second@t', kind: 'unexpandable' }),
    ]);
    // A second pass over the unchanged feed keeps one warning, not two.
    await platform.request('POST', `/v1/connections/${created.body.id}/sync`, {
      token: user.token,
      body: {},
    });
    await new Promise((r) => setTimeout(r, 1500));
    const again = (await platform.request('GET', `/v1/connections/${created.body.id}`, { token: user.token }))
      .body;
    expect(again.calendars[0].warnings).toHaveLength(1);
  });

  it('answers a hostile feed within 2 s while /healthz stays responsive', async () => {
    // A parameter value that made the old content-line regex backtrack for hours, a repeated
    // BYMONTH list that made the old VTIMEZONE engine take seconds and gigabytes, and a dense rule.
    const zone = [
      'BEGIN:VTIMEZONE',
      'TZID:Custom/Hostile',
      'BEGIN:STANDARD',
      'DTSTART:19701025T030000',
      `RRULE:FREQ=YEARLY;BYMONTH=${Array.from({ length: 3000 }, () => '10').join(',')};BYDAY=-1SU`,
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'END:VTIMEZONE',
    ].join('\r\n');
    const hostile = vevent('hostile@t', 1, 'Hostile').replace(
      'END:VEVENT',
      `X-HOSTILE;A=${','.repeat(64)}"\r\nEND:VEVENT`,
    );
    const dense = vevent('dense@t', 2, 'Dense').replace(
      'END:VEVENT',
      'RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55\r\nEND:VEVENT',
    );
    const zoned = vevent('zoned@t', 3, 'Zoned')
      .replace(/DTSTART:(\S+)Z/, 'DTSTART;TZID=Custom/Hostile:$1')
      .replace(/DTEND:(\S+)Z/, 'DTEND;TZID=Custom/Hostile:$1');
    const body = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//hostile//EN',
      zone,
      hostile,
      dense,
      zoned,
      vevent('fine@t', 4, 'Fine'),
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    feeds.setFeed('/hostile.ics', body);
    const user = await platform.createUser();

    const healthTimes: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        const health = await platform.request('GET', '/healthz');
        healthTimes.push(performance.now() - t);
        expect(health.status).toBe(200);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const started = performance.now();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/hostile.ics') },
    });
    const answeredMs = performance.now() - started;
    polling = false;
    await poller;
    expect(created.status).toBe(201);
    expect(answeredMs).toBeLessThan(2000);
    expect(healthTimes.length).toBeGreaterThan(0);
    expect(Math.max(...healthTimes)).toBeLessThan(1000);
  });
});
