/**
 * Crash safety with real process kills: SIGKILL the worker process in the middle of a 2,000-event
 * CalDAV backfill, start a new one, and the import finishes with exactly 2,000 events.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { startWorkerProcess } from '../harness/worker-process.ts';
import { calendarScenario } from '../support/calendar-scenario.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';

const EVENTS = 2000;
let platform: Platform;
let radicale: Radicale;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  [platform, radicale] = await Promise.all([
    // No in-process worker: this suite runs worker processes it can kill.
    startPlatform({ worker: false, env: { SYNC_HEARTBEAT_SECONDS: '3', CALDAV_POLL_SECONDS: '3600' } }),
    startRadicale({ users: [{ username: 'crash', password: 'crash-pw' }] }),
  ]);
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await platform?.stop();
  await radicale?.stop();
});

const startWorker = () => startWorkerProcess(platform.env, workers);

/** 2,000 events written straight into Radicale's storage (PUTs grow slower with collection size). */
async function seed(collection: string): Promise<void> {
  const { at } = calendarScenario();
  await radicale.seedEvents(
    collection,
    Array.from({ length: EVENTS }, (_, i) => {
      const start = at(Math.floor(i / 10), 8 + (i % 10), 0, 'UTC');
      return {
        name: `bulk-${i}.ics`,
        ics: generateIcsEvent({
          uid: `bulk-${i}@t`,
          summary: `Event ${i}`,
          start,
          end: new Date(start.getTime() + 30 * 60_000),
        }),
      };
    }),
  );
}

describe('crash safety', () => {
  it('finishes a 2,000-event backfill with exactly 2,000 events after the worker is SIGKILLed mid-way', async () => {
    const collection = await radicale.createCalendar('crash', 'crash-pw', 'bulk', { displayName: 'Bulk' });
    await seed(collection);
    const first = await startWorker();

    const user = await platform.createUser();
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'caldav', serverUrl: radicale.url, username: 'crash', password: 'crash-pw' },
    });
    expect(created.status).toBe(201);
    const calendarId = created.body.calendars[0].id;
    await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: calendarId, importForAvailability: true }] },
    });

    const count = async () => {
      const [row] = await platform.orm.em
        .fork()
        .execute<{ n: number }[]>('select count(*)::int as n from imported_events where calendar_id = ?', [
          calendarId,
        ]);
      return row!.n;
    };
    const atKill = await eventually(
      async () => {
        const n = await count();
        return n > 0 ? n : null;
      },
      // A fresh worker process bundles its workflows first: on a loaded 2-core machine that alone can take 30 s.
      { intervalMs: 5, timeoutMs: 90_000, what: 'the backfill to start' },
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // The kill must land mid-import for this test to mean anything.
    expect(atKill).toBeLessThan(EVENTS);
    const afterKill = await count();
    expect(afterKill).toBeLessThan(EVENTS);

    await startWorker();
    const done = await eventually(
      async () => {
        const res = await platform.request('GET', `/v1/connections/${created.body.id}`, {
          token: user.token,
        });
        const cal = res.body.calendars[0];
        return cal.importStatus === 'ready' && res.body.status === 'active' ? cal : null;
      },
      { timeoutMs: 90_000, what: 'the import to finish on the new worker' },
    );
    expect(done.eventCount).toBe(EVENTS);
    expect(await count()).toBe(EVENTS);
    const [distinct] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>(
        'select count(distinct uid)::int as n from imported_events where calendar_id = ?',
        [calendarId],
      );
    expect(distinct!.n).toBe(EVENTS);
  }, 240_000);
});
