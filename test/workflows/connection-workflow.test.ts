/**
 * The connection workflow's own guarantees: deterministic replay of recorded histories (so a change
 * that breaks running workflows fails CI), continue-as-new that keeps the connection working, and
 * the operator's view (search attributes and the status query).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/connection.ts';
import { CalbridgeStatus, CalbridgeUser } from '../../workflows/search-attributes.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { asFeed, calendarScenario } from '../support/calendar-scenario.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { committedHistories, expectReplays, historiesDir } from './replay.ts';

/** The current shape of a run, which `RECORD_HISTORIES=1` records; older shapes stay and must replay. */
const CURRENT = 'ics-link-save-sync-remove-watched.json';
let platform: Platform;
let feeds: IcsServer;

beforeAll(async () => {
  [platform, feeds] = await Promise.all([
    startPlatform({ env: { ICS_POLL_SECONDS: '3600', WORKFLOW_HISTORY_LIMIT: '60' } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

async function linkFeed(token: string, feedPath: string) {
  feeds.setFeed(feedPath, asFeed(calendarScenario().objects));
  const created = await platform.request('POST', '/v1/connections', {
    token,
    body: { provider: 'ics', url: feeds.url(feedPath) },
  });
  expect(created.status).toBe(201);
  await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
    token,
    body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
  });
  return created.body as { id: string; workflowId: string };
}

const ready = (token: string, id: string, after = '') =>
  eventually(
    async () => {
      const res = await platform.request('GET', `/v1/connections/${id}`, { token });
      const cal = res.body.calendars[0];
      return res.body.status === 'active' && cal.importStatus === 'ready' && (cal.lastSyncedAt ?? '') > after
        ? res.body
        : null;
    },
    { what: 'the connection to be active' },
  );

describe('connection workflow', () => {
  it('continues as new when its history grows, keeps syncing, and exposes status and search attributes', async () => {
    const user = await platform.createUser();
    const connection = await linkFeed(user.token, '/can.ics');
    let last = await ready(user.token, connection.id);
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    const firstRun = (await handle.describe()).runId;

    // Each "sync now" adds history; with a limit of 60 events the run must continue as new.
    for (let i = 0; i < 6; i++) {
      await platform.request('POST', `/v1/connections/${connection.id}/sync`, {
        token: user.token,
        body: i === 5 ? { direction: 'inbound' } : {},
      });
      last = await ready(user.token, connection.id, last.calendars[0].lastSyncedAt);
    }
    const description: WorkflowExecutionDescription = await platform.temporal.workflow
      .getHandle(connection.workflowId)
      .describe();
    expect(description.runId).not.toBe(firstRun);
    expect(description.historyLength).toBeLessThan(120);
    expect(last.calendars[0].eventCount).toBe(6);

    // The new run starts with a pass of its own; wait until it is idle again.
    const status = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'idle' ? s : null;
      },
      { what: 'the workflow to be idle' },
    );
    expect(status).toMatchObject({ connectionId: connection.id, status: 'active', phase: 'idle' });
    expect(status.passes).toBeGreaterThanOrEqual(7);
    expect(status.calendars).toEqual([expect.objectContaining({ outcome: 'synced', eventCount: 6 })]);
    // The last "synchronize now" and its direction survive the continue-as-new.
    expect(status.lastSyncRequest).toMatchObject({ direction: 'inbound' });
    expect(description.typedSearchAttributes.get(CalbridgeUser)).toBe(user.id);
    expect(description.typedSearchAttributes.get(CalbridgeStatus)).toBe('active');

    // An operator can find it by user and status.
    const found = await eventually(
      async () => {
        const runs = [];
        for await (const run of platform.temporal.workflow.list({
          query: `CalbridgeUser = "${user.id}" AND CalbridgeStatus = "active"`,
        }))
          runs.push(run);
        return runs.length ? runs : null;
      },
      { what: 'the run to be visible by search attributes' },
    );
    expect(found.map((r) => r.workflowId)).toContain(connection.workflowId);
  });

  it('replays recorded histories deterministically (recorded now and committed earlier)', async () => {
    const user = await platform.createUser();
    const connection = await linkFeed(user.token, '/replay.ics');
    const first = await ready(user.token, connection.id);
    await platform.request('POST', `/v1/connections/${connection.id}/sync`, { token: user.token, body: {} });
    await ready(user.token, connection.id, first.calendars[0].lastSyncedAt);
    await platform.request('DELETE', `/v1/connections/${connection.id}`, { token: user.token });
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    await handle.result();
    const history = await handle.fetchHistory();
    if (process.env.RECORD_HISTORIES) {
      writeFileSync(path.join(historiesDir, CURRENT), historyToJSON(history));
    }

    const recorded = committedHistories(() => true);
    await expectReplays([{ workflowId: connection.workflowId, history }, ...recorded]);
    expect(recorded.length, 'committed histories in test/workflows/histories').toBeGreaterThan(0);
  });
});
