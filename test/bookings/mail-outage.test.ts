/**
 * An SMTP outage never holds up a booking: the hold, the invite and the confirmation go through,
 * each e-mail gets its own durable delivery run, and the messages arrive once the relay is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailOutbox } from '../../db/entities/index.ts';
import { freePort } from '../../worker/local/ports.ts';
import { statusQuery } from '../../workflows/booking.ts';
import { emailWorkflowId } from '../../workflows/ids.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { bookingCalendar, davObjects, firstSlots, hostWithCalendar } from './support.ts';

let platform: Platform;
let radicale: Radicale;
let smtp: SmtpSink | null = null;
let smtpPort: number;
beforeAll(async () => {
  // Nothing listens there until the test starts the relay.
  smtpPort = await freePort();
  [platform, radicale] = await Promise.all([
    startPlatform({ env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
  await smtp?.stop();
});

describe('booking during a mail outage', () => {
  it('confirms and invites at once, then delivers each e-mail once SMTP is back', async () => {
    const host = await hostWithCalendar(platform, radicale, { timeZone: 'UTC' });
    const slug = await bookingCalendar(platform, host);
    const [slot] = await firstSlots(platform, slug);
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slot!.start, attendee: { name: 'Ola Outage', email: 'ola@example.com' } },
    });
    expect(booked.status).toBe(201);
    const run = platform.temporal.workflow.getHandle(booked.body.workflowId);
    await eventually(async () => (await run.query(statusQuery)).phase === 'confirmed', {
      what: 'the booking to be confirmed',
    });
    expect(await run.query(statusQuery)).toMatchObject({ status: 'confirmed', invite: 'written' });
    expect(await davObjects(host)).toHaveLength(1);

    // The try from the booking's own run failed; each message now has its own delivery run.
    const mails = await platform.orm.em
      .fork()
      .find(EmailOutbox, { dedupeKey: { $like: `booking:${booked.body.id}:confirmed:%` } });
    expect(mails.map((m) => [m.status, m.attempts >= 1, Boolean(m.lastError)])).toEqual([
      ['pending', true, true],
      ['pending', true, true],
    ]);
    for (const mail of mails) {
      const delivery = await platform.temporal.workflow.getHandle(emailWorkflowId(mail.dedupeKey)).describe();
      expect(delivery.type).toBe('deliverQueuedEmailWorkflow');
      expect(delivery.status.name).toBe('RUNNING');
    }

    smtp = await startSmtpSink({ port: smtpPort });
    await eventually(async () => smtp!.messages.length === 2, { what: 'both e-mails', timeoutMs: 40_000 });
    expect(smtp.to('ola@example.com')).toHaveLength(1);
    expect(smtp.to(host.id)).toHaveLength(1);
    for (const mail of mails)
      await platform.temporal.workflow.getHandle(emailWorkflowId(mail.dedupeKey)).result();
    const sent = await platform.orm.em
      .fork()
      .find(EmailOutbox, { dedupeKey: { $like: `booking:${booked.body.id}:confirmed:%` } });
    expect(sent.map((m) => m.status)).toEqual(['sent', 'sent']);
  });
});
