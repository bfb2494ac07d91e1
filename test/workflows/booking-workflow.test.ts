/**
 * The booking workflow as an operator sees it (status query, search attributes) and its replay:
 * a history recorded now and the one committed in test/workflows/histories replay without
 * non-determinism, so a change that breaks running bookings fails here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { statusQuery } from '../../workflows/booking.ts';
import { CalbridgeStatus, CalbridgeUser } from '../../workflows/search-attributes.ts';
import { ALWAYS } from '../bookings/support.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';

const historiesDir = path.join(import.meta.dirname, 'histories');
const COMMITTED = 'booking-hold-reschedule-cancel.json';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

describe('booking workflow', () => {
  it('is findable and readable by an operator, and replays deterministically', async () => {
    const host = await platform.createUser({ timeZone: 'UTC' });
    await platform.request('PUT', '/v1/me/schedule', {
      token: host.token,
      body: { timeZone: 'UTC', weekly: ALWAYS, overrides: [] },
    });
    const slug = `replay-${Date.now().toString(36)}`;
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
    if (process.env.RECORD_HISTORIES)
      writeFileSync(path.join(historiesDir, COMMITTED), historyToJSON(history));

    const histories = [
      { workflowId: booked.body.workflowId as string, history },
      {
        workflowId: COMMITTED,
        history: historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, COMMITTED), 'utf8'))),
      },
    ];
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    ))
      results.push(result);
    expect(results).toHaveLength(2);
    for (const result of results) expect(result.error, result.workflowId).toBeUndefined();
  });
});
