/**
 * Booking end to end: real API, worker, Temporal, PostgreSQL, Radicale as the host's primary
 * calendar, and a real SMTP server. Book → one invite in Radicale, two e-mails whose iCalendar
 * parses back with the right times; reschedule and cancel move and remove it and mail both sides.
 */
import ical, { type VEvent } from 'node-ical';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { bookingCalendar, davObjects, firstSlots, hostWithCalendar } from './support.ts';

let platform: Platform;
let radicale: Radicale;
let smtp: SmtpSink;
beforeAll(async () => {
  smtp = await startSmtpSink();
  [platform, radicale] = await Promise.all([
    startPlatform({ env: { SMTP_URL: smtp.url, CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
  await smtp?.stop();
});

const vevent = (text: string) =>
  Object.values(ical.sync.parseICS(text)).find((c) => c?.type === 'VEVENT') as VEvent;

describe('booking', () => {
  it('books a slot into the primary calendar, mails both sides, then reschedules and cancels', async () => {
    const host = await hostWithCalendar(platform, radicale, { timeZone: 'Europe/Berlin' });
    const slug = await bookingCalendar(platform, host);
    const [slot, later] = await firstSlots(platform, slug);

    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: {
        start: slot!.start,
        attendee: { name: 'Cleo Customer', email: 'cleo@example.com', timeZone: 'America/New_York' },
      },
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    expect(booked.body).toMatchObject({
      start: slot!.start,
      end: slot!.end,
      hosts: [host.id],
      bookingCalendar: slug,
    });
    expect(booked.body.manageUrl).toMatch(new RegExp(`/manage/${booked.body.id}\\?token=cbm_`));
    const id = booked.body.id as string;
    const token = new URL(booked.body.manageUrl).searchParams.get('token')!;

    // One invite in Radicale: the host organises, the customer attends, our marker is on it.
    const [invite] = await eventually(
      async () => {
        const objects = await davObjects(host);
        return objects.length ? objects : null;
      },
      { what: 'the invite in Radicale' },
    );
    expect(await davObjects(host)).toHaveLength(1);
    expect(invite).toContain(`X-CALBRIDGE-ID:${id}`);
    expect(invite).toMatch(/ATTENDEE[^:]*:mailto:cleo@example\.com/i);
    expect(vevent(invite!).start.toISOString()).toBe(slot!.start);

    // Both e-mails arrive; the customer's invitation parses back to the booked time.
    const [confirmation] = await eventually(
      async () => (smtp.to('cleo@example.com').length ? smtp.to('cleo@example.com') : null),
      {
        what: 'the confirmation',
      },
    );
    expect(confirmation!.calendar).toMatch(/METHOD:REQUEST/);
    const sent = vevent(confirmation!.calendar!);
    expect(sent.start.toISOString()).toBe(slot!.start);
    expect(sent.end?.toISOString()).toBe(slot!.end);
    expect(String(sent.uid)).toBe(`${id}@calbridge`);
    expect(confirmation!.parsed.text).toContain(booked.body.manageUrl);
    expect(confirmation!.parsed.html).toContain('<a href=');
    const [notice] = await eventually(async () => (smtp.to(host.id).length ? smtp.to(host.id) : null), {
      what: 'the host notice',
    });
    expect(notice!.parsed.subject).toContain('Cleo Customer');

    const confirmed = await eventually(
      async () => {
        const b = await platform.request('GET', `/v1/bookings/${id}?token=${token}`);
        return b.body.status === 'confirmed' && b.body.invite.status === 'written' ? b.body : null;
      },
      { what: 'confirmed with the invite written' },
    );
    expect(confirmed.invite.calendarId).toBeTruthy();

    // The booked time is no longer offered.
    const after = await firstSlots(platform, slug);
    expect(after.map((s) => s.start)).not.toContain(slot!.start);

    // Reschedule (by the manage token): the event moves, the customer gets SEQUENCE 1.
    const moved = await platform.request('POST', `/v1/bookings/${id}/reschedule?token=${token}`, {
      body: { start: later!.start },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.start).toBe(later!.start);
    await eventually(
      async () => {
        const [object] = await davObjects(host);
        return object && vevent(object).start.toISOString() === later!.start ? object : null;
      },
      { what: 'the moved invite' },
    );
    const update = await eventually(
      async () => smtp.to('cleo@example.com').find((m) => /SEQUENCE:1/.test(m.calendar ?? '')),
      {
        what: 'the updated invitation',
      },
    );
    expect(vevent(update.calendar!).start.toISOString()).toBe(later!.start);

    // Cancel (by the host): the event leaves Radicale, both get METHOD:CANCEL.
    const cancelled = await platform.request('POST', `/v1/bookings/${id}/cancel`, {
      token: host.token,
      body: { reason: 'Sick' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await eventually(async () => ((await davObjects(host)).length === 0 ? true : null), {
      what: 'the invite removed',
    });
    for (const who of ['cleo@example.com', host.id]) {
      await eventually(async () => smtp.to(who).find((m) => /METHOD:CANCEL/.test(m.calendar ?? '')), {
        what: `the cancellation to ${who}`,
      });
    }
    const again = await platform.request('POST', `/v1/bookings/${id}/cancel`, {
      token: host.token,
      body: {},
    });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');
  });
});
