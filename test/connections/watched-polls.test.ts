/**
 * Watched polls (connections/watched-polls.ts): the worker's poll loop asks an ICS feed whether it
 * changed and wakes the connection's run only when it did, so an idle feed adds nothing to the run's
 * history; due polls are claimed once across any number of concurrent claimers, and only for
 * connections that are syncing.
 *
 * A poll whose worker is SIGKILLed mid-request is left alone for its lease, then taken up by
 * another worker process. Each suite here has a database of its own: every platform's poll loop
 * claims whatever is due in the database it sees.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimDuePolls, claimLeaseSeconds } from '../../connections/watched-polls.ts';
import { loadConfig } from '../../platform/config.ts';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform, testEnv } from '../harness/platform.ts';
import { startWorkerProcess } from '../harness/worker-process.ts';
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
  const lease = claimLeaseSeconds(config);
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
          const batch = await claimDuePolls(db.orm.em.fork(), 3, lease);
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
      expect(at).toBeGreaterThan(Date.now() + (lease - 10) * 1000);
    }
    expect(await nextPollAt(waiting)).toEqual(before);
    expect(await claimDuePolls(db.orm.em.fork(), 100, lease)).toEqual([]);
  });
});

describe('a poll whose worker is killed', () => {
  let db: ScratchDatabase;
  let platform: Platform;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    db = await scratchDatabase(inject('databaseUrl'), 'calbridge_poll_crash');
    // Polls every second; a claim is leased for 2 × 3 + 5 = 11 s.
    platform = await startPlatform({
      worker: false,
      env: { DATABASE_URL: db.url, ICS_POLL_SECONDS: '1', PROVIDER_TIMEOUT_SECONDS: '3' },
    });
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await platform?.stop();
    await db?.drop();
  });

  it('is left alone while its lease runs, then taken up by another worker, which imports the change', async () => {
    const lease = claimLeaseSeconds(platform.config);
    const feedPath = `/crash-${randomUUID()}.ics`;
    const start = new Date();
    feeds.setFeed(feedPath, generateIcsFeed(3, { start, seed: 21 }));
    const first = await startWorkerProcess(platform.env, workers);
    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url(feedPath) },
    });
    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
    });
    const handle = platform.temporal.workflow.getHandle(created.body.workflowId);
    const imported = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'idle' && s.calendars[0]?.outcome === 'synced' ? s : null;
      },
      { what: 'the first import', timeoutMs: 30_000 },
    );

    // The feed now hangs: the first worker's next poll waits on it, and the worker dies meanwhile.
    feeds.setFeed(feedPath, generateIcsFeed(3, { start, seed: 21 }), { delayMs: 60_000 });
    const toFeed = () => feeds.requests.filter((r) => r.path === feedPath).length;
    const before = toFeed();
    await eventually(async () => toFeed() > before, { what: 'a poll in flight', intervalMs: 50 });
    first.kill('SIGKILL');
    const killedAt = Date.now();
    const [claimed] = await db.orm.em
      .fork()
      .execute<{ next_poll_at: Date }[]>('select next_poll_at from calendar_connections where id = ?', [
        created.body.id,
      ]);
    expect(new Date(claimed!.next_poll_at).getTime()).toBeGreaterThan(killedAt + (lease - 3) * 1000);

    // The feed changes and answers again; a second worker starts at once but leaves the leased poll.
    feeds.setFeed(feedPath, generateIcsFeed(5, { start, seed: 22 }));
    await startWorkerProcess(platform.env, workers);
    const inFlight = toFeed();
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + (lease - 3) * 1000 - Date.now())));
    expect(toFeed()).toBe(inFlight);

    // Past the lease it polls, finds the change and wakes the run, which imports it.
    const changed = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.phase === 'idle' && s.passes > imported.passes ? s : null;
      },
      { what: 'the change to be imported by the second worker', timeoutMs: 60_000 },
    );
    expect(toFeed()).toBeGreaterThan(inFlight);
    expect(changed.calendars[0]?.eventCount).not.toBe(imported.calendars[0]?.eventCount);
  });
});
