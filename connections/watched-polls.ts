/**
 * Watched polls: a connection whose provider can tell "unchanged" cheaply (ICS: a conditional GET
 * answered 304) is polled here, by a loop in every worker process, not by a timer in its run. An
 * unchanged feed costs one claim, one conditional request and one write (connections/quick-poll.ts);
 * only a feed that changed (or that the quick path cannot vouch for) wakes the run with
 * `providerChanged`, and the run imports it as usual. A fleet of idle feeds therefore costs the
 * workflow engine nothing, and their runs can leave the worker's cache.
 *
 * `calendar_connections.next_poll_at` is the schedule: the run sets it (and `poll_seconds`, its
 * interval) after each pass (finishSyncPass), the loop claims due rows with `for update skip
 * locked` (so any number of workers share the fleet, each poll claimed once) and moves it on. A
 * claim is a lease: a worker that dies mid-poll leaves the row due again after `claimLeaseSeconds`.
 */

import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import { pgArray } from '../db/sql.ts';
import type { ProviderKind } from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { providerChangedSignal } from '../workflows/connection.ts';
import { pollUnchanged } from './quick-poll.ts';
import { signalConnectionRun } from './runs.ts';

/**
 * How long a claimed poll stays claimed: longer than the poll may take (its one request is bounded
 * by PROVIDER_TIMEOUT_SECONDS; the database work is quick), short enough that a poll whose worker
 * died is taken up soon by another.
 */
export const claimLeaseSeconds = (config: Config) => 2 * config.PROVIDER_TIMEOUT_SECONDS + 5;
/** A run in any other status waits for its user (selection, reconnect) or is going away. */
const POLLED_STATUSES: ConnectionStatus[] = ['active', 'importing', 'error'];

export interface DuePoll {
  id: string;
  userId: string;
  provider: ProviderKind;
  status: ConnectionStatus;
  workflowId: string;
  pollSeconds: number;
}

/** Claims up to `limit` due polls, oldest first, skipping rows another worker is claiming. */
export async function claimDuePolls(
  em: EntityManager,
  limit: number,
  leaseSeconds: number,
): Promise<DuePoll[]> {
  return em.execute<DuePoll[]>(
    `update calendar_connections c set next_poll_at = now() + make_interval(secs => ?::int)
      where c.id in (select id from calendar_connections
                      where next_poll_at <= now() and status = any(?::text[])
                      order by next_poll_at limit ? for update skip locked)
      returning c.id, c.user_id as "userId", c.provider, c.status, c.workflow_id as "workflowId",
                coalesce(c.poll_seconds, ?::int) as "pollSeconds"`,
    [leaseSeconds, pgArray(POLLED_STATUSES), limit, leaseSeconds],
  );
}

export interface WatchedPollDeps {
  orm: Orm;
  config: Config;
  /** Signals the connection's run when its feed changed. */
  temporal: Client;
  logger: Logger;
}

/** One due poll: `unchanged` (recorded, next poll scheduled) or `woken` (the run imports the change). */
export async function runDuePoll(
  { orm, config, temporal }: WatchedPollDeps,
  due: DuePoll,
): Promise<'unchanged' | 'woken'> {
  const { pollSeconds } = due;
  const quick = await pollUnchanged(orm.em.fork(), config, due.id, { nextPollSeconds: pollSeconds });
  if (quick.unchanged) return 'unchanged';
  await signalConnectionRun(temporal, config, due, providerChangedSignal);
  // The pass the run now makes schedules the next poll itself; should it fail before, poll again then.
  await orm.em
    .fork()
    .execute(
      'update calendar_connections set next_poll_at = now() + make_interval(secs => ?::int) where id = ? and next_poll_at is not null',
      [pollSeconds, due.id],
    );
  return 'woken';
}

export interface PollLoop {
  /** Stops claiming; polls in flight are given `graceMs` to finish (their leases cover the rest). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Keeps up to POLL_CONCURRENCY polls in flight, claiming as slots free up, and looks for due polls
 * every `idleMs` when there are none. A failure (the database, Temporal) is logged; the lease brings
 * the poll back.
 */
export function startPollLoop(deps: WatchedPollDeps, { idleMs = 1000 } = {}): PollLoop {
  const { orm, config, logger } = deps;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let wake = () => {};
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = (due: DuePoll) => {
    const poll: Promise<void> = runDuePoll(deps, due)
      .then(
        (outcome) => logger.debug({ connectionId: due.id, outcome }, 'watched poll'),
        (error: Error) => logger.warn({ connectionId: due.id, err: error.message }, 'watched poll failed'),
      )
      .finally(() => {
        inFlight.delete(poll);
        wake();
      });
    inFlight.add(poll);
  };

  const loop = (async () => {
    while (!stopped) {
      const free = config.POLL_CONCURRENCY - inFlight.size;
      let claimed: DuePoll[] = [];
      if (free > 0) {
        try {
          claimed = await claimDuePolls(orm.em.fork(), free, claimLeaseSeconds(config));
        } catch (error) {
          logger.warn({ err: (error as Error).message }, 'watched polls: claiming failed');
        }
        claimed.forEach(run);
      }
      if (stopped) break;
      // Every slot taken: go on when one frees. Fewer due than slots: look again later.
      if (claimed.length < free) await nap(idleMs);
      else await Promise.race([...inFlight, nap(idleMs)]);
    }
  })();

  return {
    async stop(graceMs = 5000) {
      stopped = true;
      wake();
      await loop;
      await Promise.race([Promise.allSettled(inFlight), new Promise((r) => setTimeout(r, graceMs).unref())]);
    },
  };
}
