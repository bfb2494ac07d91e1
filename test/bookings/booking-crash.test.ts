/**
 * Crash between the hold and the invite: the worker process is SIGKILLed while it writes the
 * invite into the host's calendar; a new worker finishes the booking with exactly one event in
 * Radicale and exactly one confirmation e-mail.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { startWorkerProcess } from '../harness/worker-process.ts';
import { type DelayProxy, startDelayProxy } from '../support/delay-proxy.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { ALWAYS, davObjects } from './support.ts';

let platform: Platform;
let radicale: Radicale;
let proxy: DelayProxy;
let smtp: SmtpSink;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpSink();
  [platform, radicale] = await Promise.all([
    startPlatform({ worker: false, env: { SMTP_URL: smtp.url, CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [{ username: 'crashhost', password: 'crash-pw' }] }),
  ]);
  proxy = await startDelayProxy(radicale.url);
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await platform?.stop();
  await proxy?.stop();
  await radicale?.stop();
  await smtp?.stop();
});

const startWorker = () => startWorkerProcess(platform.env, workers);

describe('booking crash safety', () => {
  it('writes exactly one invite and sends exactly one confirmation after the worker dies mid-invite', async () => {
    const first = await startWorker();
    const host = await platform.createUser({ timeZone: 'UTC' });
    await platform.request('PUT', '/v1/me/schedule', {
      token: host.token,
      body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
    });
    const collection = await radicale.createCalendar('crashhost', 'crash-pw', 'work', {
      displayName: 'Work',
    });
    const linked = await platform.request('POST', '/v1/connections', {
      token: host.token,
      body: { provider: 'caldav', serverUrl: proxy.url, username: 'crashhost', password: 'crash-pw' },
    });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    const work = linked.body.calendars.find((c: { name: string }) => c.name === 'Work');
    await platform.request('PUT', `/v1/connections/${linked.body.id}/calendars`, {
      token: host.token,
      body: { calendars: [{ id: work.id, importForAvailability: true }], primaryCalendarId: work.id },
    });
    await eventually(async () => {
      const c = (await platform.request('GET', `/v1/connections/${linked.body.id}`, { token: host.token }))
        .body;
      return c.status === 'active' ? c : null;
    });
    const slug = `crash-${Date.now().toString(36)}`;
    await platform.request('POST', '/v1/booking-calendars', {
      token: host.token,
      body: { slug, name: 'Crash test', type: 'simple', hosts: [host.id], durationMinutes: 30 },
    });
    const from = new Date(Date.now() + 86_400_000);
    const slots = await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 86_400_000).toISOString()}`,
    );
    const start = slots.body.slots[0].start as string;

    // The invite's PUT is held at the proxy: the worker is killed while it waits for the answer.
    proxy.delay(['PUT'], 1500);
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start, attendee: { name: 'Crash Customer', email: 'crash-customer@example.com' } },
    });
    expect(booked.status).toBe(201);
    await eventually(async () => proxy.seen.some((r) => r.method === 'PUT'), {
      intervalMs: 10,
      what: 'the invite write',
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(smtp.to('crash-customer@example.com')).toHaveLength(0);

    proxy.delay([], 0);
    await startWorker();
    const done = await eventually(
      async () => {
        const b = await platform.request('GET', `/v1/bookings/${booked.body.id}`, { token: host.token });
        return b.body.status === 'confirmed' && b.body.invite.status === 'written' ? b.body : null;
      },
      { timeoutMs: 90_000, what: 'the booking to finish on the new worker' },
    );
    expect(done.start).toBe(start);
    // The retried write found the first one (same UID, If-None-Match: *): one event, not two.
    expect(proxy.seen.filter((r) => r.method === 'PUT').length).toBeGreaterThanOrEqual(2);
    const objects = await davObjects({
      id: host.id,
      token: host.token,
      connectionId: linked.body.id,
      dav: { username: 'crashhost', password: 'crash-pw', collection },
    });
    expect(objects).toHaveLength(1);
    await eventually(async () => (smtp.to('crash-customer@example.com').length ? true : null), {
      what: 'the confirmation',
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.to('crash-customer@example.com')).toHaveLength(1);
  });
});
