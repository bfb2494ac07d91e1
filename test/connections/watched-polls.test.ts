/**
 * Watched polls (connections/watched-polls.ts): the worker's poll loop asks an ICS feed whether it
 * changed and wakes the connection's run only when it did, so an idle feed adds nothing to the run's
 * history; due polls are claimed once across any number of concurrent claimers, and only for
 * connections that are syncing.
 *
 * Each suite here has a database of its own: every platform's poll loop claims whatever is due in
 * the database it sees.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLAIM_LEASE_SECONDS, claimDuePolls } from '../../connections/watched-polls.ts';
import { loadConfig } from '../../platform/config.ts';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform, testEnv } from '../harness/platform.ts';
import { generateIcsFeed } from '../support/generate-ics.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { type ScratchDatabase, scratchDatabase } from '../support/scratch-database.ts';
import { seedConnection } from '../support/seed.ts';

let feeds: IcsServer;
beforeAll(async () => {
  feeds = await startIcsServer();
});
afterAll(async () => {
  await feeds?.stop();
});

async function history(temporal: Client, workflowId: string) {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    length: events.length,
    signals: events
      .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
      .filter((name): name is string => Boolean(name)),
  };
}

describe('watched polls through a running platform', () => {
  let db: ScratchDatabase;
  let platform: Platform;
  beforeAll(async () => {
    db = await scratchDatabase(inject('databaseUrl'), 'calbridge_watched');
    platform = await startPlatform({ env: { DATABASE_URL: db.url, ICS_POLL_SECONDS: '1' } });
  });
  afterAll(async () => {
    await platform?.stop();
    await db?.drop();
  });

  it('records unchanged polls without waking the run, and wakes it to import a change', async () => {
    const feedPath = `/watched-${randomUUID()}.ics`;
    const start = new Date();
    feeds.setFeed(feedPath, generateIcsFeed(3, { start, seed: 11 }));
    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url(feedPath) },
    });
    expect(created.status).toBe(201);
    const connection = created.body;
    const saved = await platform.request('PUT', `/v1/connections/${connection.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: connection.calendars[0].id, importForAvailability: true }] },
    });
    expect(saved.status).toBe(200);
    const handle = platform.temporal.workflow.getHandle(connection.workflowId);
    const first = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'idle' && s.status === 'active' && s.calendars[0]?.outcome === 'synced' ? s : null;
      },
      { what: 'the first import' },
    );
    const idle = await history(platform.temporal, connection.workflowId);
    const lastSyncAt = async () => {
      const res = await platform.request('GET', `/v1/connections/${connection.id}`, { token: user.token });
      return res.body.lastSyncAt as string;
    };
    const importedAt = await lastSyncAt();
    const conditional = () =>
      feeds.requests.filter((r) => r.path === feedPath && r.headers['if-none-match'] !== undefined).length;

    // Unchanged: the loop polls every second (304s), records each poll, and the run sleeps on.
    await eventually(async () => conditional() >= 3, { what: 'three conditional polls', timeoutMs: 20_000 });
    expect(await lastSyncAt()).not.toBe(importedAt);
    expect(await history(platform.temporal, connection.workflowId)).toEqual(idle);

    // Changed: the next poll wakes the run, which imports the new feed.
    feeds.setFeed(feedPath, generateIcsFeed(5, { start, seed: 12 }));
    const changed = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'idle' && s.passes > first.passes ? s : null;
      },
      { what: 'the change to be imported', timeoutMs: 20_000 },
    );
    expect(changed.passes).toBe(first.passes + 1);
    expect(changed.calendars[0]?.eventCount).not.toBe(first.calendars[0]?.eventCount);
    const woken = await history(platform.temporal, connection.workflowId);
    expect(woken.signals).toEqual([...idle.signals, 'providerChanged']);
    const events = await platform.request('GET', `/v1/connections/${connection.id}/events?limit=100`, {
      token: user.token,
    });
    expect(events.body.items).toHaveLength(changed.calendars[0]?.eventCount as number);
  });
});

describe('claiming due polls', () => {
  let db: ScratchDatabase;
  const config = loadConfig(testEnv(), { generateSecrets: false });
  beforeAll(async () => {
    db = await scratchDatabase(inject('databaseUrl'), 'calbridge_claims');
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function seed(status: string, dueInSeconds: number | null): Promise<string> {
    const { connectionId } = await seedConnection(db.orm, config, {
      provider: 'ics',
      serverUrl: null,
      credentials: { url: 'http://feeds.invalid/x.ics' },
      externalId: 'ics:feed',
    });
    await db.orm.em.fork().execute(
      `update calendar_connections set status = ?, poll_seconds = 900,
                next_poll_at = now() + make_interval(secs => ?::int)
          where id = ?`,
      [status, dueInSeconds, connectionId],
    );
    return connectionId;
  }

  const nextPollAt = async (ids: string[]) =>
    new Map(
      (
        await db.orm.em
          .fork()
          .execute<{ id: string; next_poll_at: Date | null }[]>(
            'select id, next_poll_at from calendar_connections where id = any(?::uuid[])',
            [`{${ids.join(',')}}`],
          )
      ).map((r) => [r.id, r.next_poll_at === null ? null : new Date(r.next_poll_at).getTime()]),
    );

  it('hands each due poll of a syncing connection to exactly one of many concurrent claimers', async () => {
    const due: string[] = [];
    for (const [i, status] of ['active', 'importing', 'error'].entries()) {
      for (let n = 0; n < 12; n++) due.push(await seed(status, -1 - i - n));
    }
    const waiting = [
      ...(await Promise.all(['needs_reauth', 'awaiting_selection', 'removing'].map((s) => seed(s, -5)))),
      await seed('active', 600),
      await seed('active', null),
    ];
    const before = await nextPollAt(waiting);

    // Eight claimers at once, each taking three at a time until nothing is due.
    const claimedBy = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const mine: string[] = [];
        for (;;) {
          const batch = await claimDuePolls(db.orm.em.fork(), 3);
          if (batch.length === 0) return mine;
          expect(batch.every((b) => b.pollSeconds === 900 && b.workflowId === `connection/${b.id}`)).toBe(
            true,
          );
          mine.push(...batch.map((b) => b.id));
        }
      }),
    );
    const claimed = claimedBy.flat();
    expect(claimed).toHaveLength(due.length);
    expect(new Set(claimed)).toEqual(new Set(due));
    expect(claimedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);

    // Each claim is a lease: the poll is due again only if its claimer never finishes it.
    const leased = await nextPollAt(due);
    for (const at of leased.values()) {
      expect(at).toBeGreaterThan(Date.now() + (CLAIM_LEASE_SECONDS - 30) * 1000);
    }
    expect(await nextPollAt(waiting)).toEqual(before);
    expect(await claimDuePolls(db.orm.em.fork(), 100)).toEqual([]);
  });
});
