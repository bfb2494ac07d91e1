/**
 * The booking workflow as an operator sees it (status query, search attributes) and its replay:
 * a history recorded now and every booking history committed in test/workflows/histories (one per
 * shape the workflow has had) replay without non-determinism, so a change that breaks running
 * bookings fails here; so do runs whose changes raced the first task and each other.
 * `RECORD_HISTORIES=1` rewrites the current shape's file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/booking.ts';
import { CalbridgeStatus, CalbridgeUser } from '../../workflows/search-attributes.ts';
import { ALWAYS } from '../bookings/support.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { committedHistories, expectReplays, historiesDir } from './replay.ts';

/** The current shape; booking-hold-reschedule-cancel.json is from before e-mails went through the outbox. */
const CURRENT = 'booking-one-task.json';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

/** A host who is always free, a calendar of theirs, and its first few slots. */
async function calendarWithSlots() {
  const host = await platform.createUser({ timeZone: 'UTC' });
  await platform.request('PUT', '/v1/me/schedule', {
    token: host.token,
    body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
  });
  const slug = `replay-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await platform.request('POST', '/v1/booking-calendars', {
    token: host.token,
    body: { slug, name: 'Replay', type: 'simple', hosts: [host.id], durationMinutes: 30 },
  });
  const from = new Date(Date.now() + 2 * 86_400_000);
  const slots = (
    await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 86_400_000).toISOString()}`,
    )
  ).body.slots as { start: string }[];
  return { host, slug, slots };
}

describe('booking workflow', () => {
  it('replays as it ran when changes race the first task and each other', async () => {
    const { host, slug, slots } = await calendarWithSlots();
    const runs: WorkflowHandle[] = [];
    for (let i = 0; i < 3; i++) {
      const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
        body: { start: slots[i * 4]!.start, attendee: { name: 'Racer', email: `racer${i}@example.com` } },
      });
      expect(booked.status).toBe(201);
      // At once, before the booking is confirmed: a reschedule and a cancellation, side by side.
      await Promise.allSettled([
        platform.request('POST', `/v1/bookings/${booked.body.id}/reschedule`, {
          token: host.token,
          body: { start: slots[i * 4 + 2]!.start },
        }),
        platform.request('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: host.token, body: {} }),
      ]);
      runs.push(platform.temporal.workflow.getHandle(booked.body.workflowId));
    }
    const histories = [];
    for (const run of runs) {
      await run.result();
      expect(await run.query(statusQuery)).toMatchObject({ status: 'cancelled', phase: 'done' });
      histories.push({ workflowId: run.workflowId, history: await run.fetchHistory() });
    }
    await expectReplays(histories);
  });

  it('is findable and readable by an operator, and replays deterministically', async () => {
    const { host, slug, slots } = await calendarWithSlots();
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slots[0]!.start, attendee: { name: 'Replay Customer', email: 'replay@example.com' } },
    });
    expect(booked.status).toBe(201);
    const handle = platform.temporal.workflow.getHandle(booked.body.workflowId);
    const status = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'confirmed' ? s : null;
      },
      { what: 'the booking to be confirmed' },
    );
    // No primary calendar: nothing to invite into, the e-mails still go.
    expect(status).toMatchObject({
      bookingId: booked.body.id,
      status: 'confirmed',
      invite: 'skipped',
      endsAt: booked.body.end,
    });
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(CalbridgeUser)).toBe(host.id);
    expect(described.typedSearchAttributes.get(CalbridgeStatus)).toBe('confirmed');

    const moved = await platform.request('POST', `/v1/bookings/${booked.body.id}/reschedule`, {
      token: host.token,
      body: { start: slots[2]!.start },
    });
    expect(moved.status).toBe(200);
    const cancelled = await platform.request('POST', `/v1/bookings/${booked.body.id}/cancel`, {
      token: host.token,
      body: {},
    });
    expect(cancelled.body.status).toBe('cancelled');
    await handle.result();
    const history = await handle.fetchHistory();
    // The e-mails went from the outbox: no message text, and so no manage link, is in the history.
    const recorded = historyToJSON(history);
    expect(recorded).not.toContain('Reschedule or cancel');
    expect(recorded).not.toContain('sendEmailWorkflow');
    expect(
      await platform.orm.em
        .fork()
        .execute(`select count(*)::int as n from email_outbox where dedupe_key like ? and status = 'sent'`, [
          `booking:${booked.body.id}:%`,
        ]),
    ).toEqual([{ n: 6 }]);
    if (process.env.RECORD_HISTORIES) writeFileSync(path.join(historiesDir, CURRENT), recorded);

    const committed = committedHistories((file) => file.startsWith('booking-'));
    expect(committed.map((c) => c.workflowId)).toContain(CURRENT);
    const histories = [{ workflowId: booked.body.workflowId as string, history }, ...committed];
    await expectReplays(histories);
  });
});
