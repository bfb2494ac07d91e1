/**
 * Races with real concurrency: many customers on one slot, many on one one-time link. The
 * exclusion constraint and the link's row decide; exactly one wins each race.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSlot } from '../../bookings/hold.ts';
import { startBookingRun } from '../../bookings/runs.ts';
import { bookingWorkflow, statusQuery } from '../../workflows/booking.ts';
import { bookingWorkflowId } from '../../workflows/ids.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { ALWAYS } from './support.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({
    env: { BOOKING_RATE_LIMIT_PER_MINUTE: '100000', PUBLIC_RATE_LIMIT_PER_MINUTE: '100000' },
  });
});
afterAll(() => platform?.stop());

let counter = 0;
async function hostAndCalendar() {
  const host = await platform.createUser({ timeZone: 'UTC' });
  await platform.request('PUT', '/v1/me/schedule', {
    token: host.token,
    body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
  });
  const slug = `race-${++counter}-${Date.now().toString(36)}`;
  const created = await platform.request('POST', '/v1/booking-calendars', {
    token: host.token,
    body: { slug, name: 'Race', type: 'simple', hosts: [host.id], durationMinutes: 30 },
  });
  expect(created.status).toBe(201);
  return { host, slug };
}

async function slots(slug: string, n: number) {
  const from = new Date(Date.now() + 86_400_000);
  const to = new Date(from.getTime() + 3 * 86_400_000);
  const res = await platform.request(
    'GET',
    `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${to.toISOString()}`,
  );
  expect(res.body.slots.length).toBeGreaterThanOrEqual(n);
  return (res.body.slots as { start: string }[]).slice(0, n).map((s) => s.start);
}

type RunHandle = ReturnType<Platform['temporal']['workflow']['getHandle']>;

async function calendarIdOf(slug: string): Promise<string> {
  const [calendar] = await platform.orm.em
    .fork()
    .execute<{ id: string }[]>('select id from booking_calendars where slug = ?', [slug]);
  return calendar!.id;
}

/** The run gets to `confirmed` (no primary calendar here: the invite is skipped). */
async function expectConfirmed(run: RunHandle): Promise<void> {
  const confirmed = await eventually(async () => {
    const state = await run.query(statusQuery);
    return state.phase === 'confirmed' ? state : null;
  });
  expect(confirmed).toMatchObject({ status: 'confirmed', invite: 'skipped' });
}

/** The run ends refused, and nothing of the booking was written. */
async function expectRefusedAndNothingHeld(run: RunHandle, bookingId: string): Promise<void> {
  await run.result();
  expect(await run.query(statusQuery)).toMatchObject({ status: 'refused', phase: 'done' });
  const [rows] = await platform.orm.em
    .fork()
    .execute<{ n: number }[]>('select count(*)::int as n from appointments where id = ?', [bookingId]);
  expect(rows!.n).toBe(0);
}

const attendee = (i: number) => ({ name: `Customer ${i}`, email: `customer${i}@example.com` });

/** What the API hands holdSlot for a booking of `start` (no one-time link unless given). */
const holdRequest = (
  bookingCalendarId: string,
  bookingId: string,
  start: string,
  oneTimeLinkId: string | null = null,
) => ({
  bookingId,
  bookingCalendarId,
  oneTimeLinkId,
  start,
  attendee: attendee(1),
  notes: null,
  manageTokenHash: `hash-${bookingId}`,
});

describe('booking races', () => {
  it('gives one slot to exactly one of 100 simultaneous customers', async () => {
    const { host, slug } = await hostAndCalendar();
    const [start] = await slots(slug, 1);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
          body: { start, attendee: attendee(i) },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
    expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('slot_unavailable');
    const appointments = await platform.request(
      'GET',
      `/v1/appointments?from=${new Date().toISOString()}&to=${new Date(Date.now() + 10 * 86_400_000).toISOString()}`,
      { token: host.token },
    );
    expect(appointments.body.items.filter((a: { status: string }) => a.status !== 'cancelled')).toHaveLength(
      1,
    );
  });

  it('lets exactly one of 50 simultaneous bookings through one one-time link, then tells visitors to contact the owner', async () => {
    const { host, slug } = await hostAndCalendar();
    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    expect(link.status).toBe(201);
    expect(link.body.url).toBe(`${platform.config.PUBLIC_URL}/l/${link.body.token}`);
    const token = link.body.token as string;
    expect(Buffer.from(token.slice(4), 'base64url').length).toBe(32);
    const starts = await slots(slug, 50);
    const answers = await Promise.all(
      starts.map((start, i) =>
        platform.request('POST', `/v1/one-time-links/${token}/bookings`, {
          body: { start, attendee: attendee(i) },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 410)).toHaveLength(49);
    const used = await platform.request('GET', `/v1/one-time-links/${token}`);
    expect(used.status).toBe(410);
    expect(used.body.error.code).toBe('link_used');
    expect(used.body.error.message).toMatch(/already been used.*contact/i);
    const appointments = await platform.request(
      'GET',
      `/v1/appointments?from=${new Date().toISOString()}&to=${new Date(Date.now() + 10 * 86_400_000).toISOString()}`,
      { token: host.token },
    );
    expect(appointments.body.items).toHaveLength(1);
  });

  it('refuses a revoked link with link_revoked, and a link of another calendar is not revocable by a stranger', async () => {
    const { host, slug } = await hostAndCalendar();
    const stranger = await platform.createUser();
    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    const notYours = await platform.request('DELETE', `/v1/one-time-links/${link.body.id}`, {
      token: stranger.token,
    });
    expect(notYours.status).toBe(404);
    expect((await platform.request('GET', `/v1/one-time-links/${link.body.token}`)).status).toBe(200);
    const revoked = await platform.request('DELETE', `/v1/one-time-links/${link.body.id}`, {
      token: host.token,
    });
    expect(revoked.status).toBe(204);
    const later = await platform.request('GET', `/v1/one-time-links/${link.body.token}`);
    expect(later.status).toBe(410);
    expect(later.body.error.code).toBe('link_revoked');
    const [start] = await slots(slug, 1);
    const booking = await platform.request('POST', `/v1/one-time-links/${link.body.token}/bookings`, {
      body: { start, attendee: attendee(1) },
    });
    expect(booking.status).toBe(410);
  });

  it('answers a retried hold (its first answer lost) with its own hold, never as taken time or a used link', async () => {
    const { host, slug } = await hostAndCalendar();
    const link = await platform.request('POST', `/v1/booking-calendars/${slug}/one-time-links`, {
      token: host.token,
      body: {},
    });
    const [start, other] = await slots(slug, 2);
    const [calendar] = await platform.orm.em
      .fork()
      .execute<{ id: string }[]>('select id from booking_calendars where slug = ?', [slug]);
    const request = (bookingId: string, at: string) =>
      holdRequest(calendar!.id, bookingId, at, link.body.id as string);
    const bookingId = randomUUID();
    const first = await holdSlot(platform.orm.em, request(bookingId, start!), new Date());
    const retried = await holdSlot(platform.orm.em, request(bookingId, start!), new Date());
    expect(first).toMatchObject({ held: true, start, hosts: [host.id], status: 'held' });
    expect(retried).toEqual(first);
    // Another booking is still refused: the time is taken, and so is the link.
    expect(await holdSlot(platform.orm.em, request(randomUUID(), start!), new Date())).toMatchObject({
      held: false,
      code: 'link_used',
    });
    expect(
      await holdSlot(platform.orm.em, { ...request(randomUUID(), start!), oneTimeLinkId: null }, new Date()),
    ).toMatchObject({ held: false, code: 'slot_unavailable' });
    expect(
      await holdSlot(platform.orm.em, { ...request(randomUUID(), other!), oneTimeLinkId: null }, new Date()),
    ).toMatchObject({ held: true, start: other });
    const [rows] = await platform.orm.em
      .fork()
      .execute<{ appointments: number; holds: number; invites: number }[]>(
        `select (select count(*)::int from appointments where booking_calendar_id = ?) as appointments,
              (select count(*)::int from appointment_hosts where appointment_id = ?) as holds,
              (select count(*)::int from appointment_invites where appointment_id = ? and status = 'pending') as invites`,
        [calendar!.id, bookingId, bookingId],
      );
    expect(rows).toEqual({ appointments: 2, holds: 1, invites: 1 });
  });

  it("a run started in the hold's transaction waits for it: confirms what committed, ends when it rolled back", async () => {
    const { host, slug } = await hostAndCalendar();
    const [start, otherStart] = await slots(slug, 2);
    const calendarId = await calendarIdOf(slug);
    const startUnderLock = (bookingId: string, then: () => Promise<void>) => async () => {
      await startBookingRun(platform.temporal, platform.config, host.id, bookingId);
      await then();
    };
    const pause = () => new Promise<void>((r) => setTimeout(r, 1000));

    // The hold commits a second after the start: the run, which began at once, reads it all the same.
    const heldId = randomUUID();
    const held = await holdSlot(platform.orm.em, holdRequest(calendarId, heldId, start!), new Date(), {
      whileLocked: startUnderLock(heldId, pause),
    });
    expect(held).toMatchObject({ held: true, start, hosts: [host.id] });
    await expectConfirmed(platform.temporal.workflow.getHandle(bookingWorkflowId(heldId)));

    // The API dies after the start, before its hold commits: the run finds nothing and ends.
    const lostId = randomUUID();
    await expect(
      holdSlot(platform.orm.em, holdRequest(calendarId, lostId, otherStart!), new Date(), {
        whileLocked: startUnderLock(lostId, async () => {
          await pause();
          throw new Error('the API died');
        }),
      }),
    ).rejects.toThrow('the API died');
    await expectRefusedAndNothingHeld(
      platform.temporal.workflow.getHandle(bookingWorkflowId(lostId)),
      lostId,
    );
  });

  it('runs of earlier APIs (told by a signal): confirms a booking whose API died before telling, ends one never held', async () => {
    const { host, slug } = await hostAndCalendar();
    const [start] = await slots(slug, 1);
    const calendarId = await calendarIdOf(slug);
    const startRun = (bookingId: string) =>
      platform.temporal.workflow.start(bookingWorkflow, {
        workflowId: bookingWorkflowId(bookingId),
        taskQueue: platform.config.TEMPORAL_TASK_QUEUE,
        args: [{ bookingId, holdWaitMs: 1_000 }],
      });

    // Held, and the run never told: it reads the hold from the database and carries on.
    const heldId = randomUUID();
    const heldRun = await startRun(heldId);
    const held = await holdSlot(platform.orm.em, holdRequest(calendarId, heldId, start!), new Date());
    expect(held).toMatchObject({ held: true, start, hosts: [host.id] });
    await expectConfirmed(heldRun);

    // Never held (the API died before its hold): the run waits its window out, finds nothing, ends.
    const lostId = randomUUID();
    await expectRefusedAndNothingHeld(await startRun(lostId), lostId);
  });
});
