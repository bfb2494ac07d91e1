/**
 * A poll's quick path: when every calendar of a connection is imported and current, ask the provider
 * only whether anything changed since its stored cursor (ICS: one conditional GET answered 304) and,
 * when nothing did, record the poll in one statement. Anything else — a change, a calendar still
 * importing or to purge, a window that rolled, an error, a connection not plainly `active` — answers
 * `unchanged: false`, and the caller runs the regular import (connections/import-engine.ts), which
 * reports failures as it always does.
 *
 * One read and one write per unchanged poll: no entity is loaded, no generation bumped, no synced
 * object touched (nothing changed, so nothing is swept), and the calendar's warnings stay as they are.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray } from '../db/sql.ts';
import type { ProviderKind } from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import type { Config } from '../platform/config.ts';
import type { SyncCursor } from '../providers/contract.ts';
import { providerModule } from '../providers/registry.ts';
import { openProvider, unsealCredentials } from './credentials.ts';
import { importWindow } from './import-engine.ts';

export type QuickPoll =
  | {
      unchanged: true;
      /** The connection's status afterwards (`active`). */
      status: ConnectionStatus;
      calendars: { calendarId: string; name: string; eventCount: number }[];
    }
  | { unchanged: false };

interface Row {
  provider: ProviderKind;
  status: ConnectionStatus;
  status_reason: string | null;
  server_url: string | null;
  credentials: Buffer | null;
  calendar_id: string | null;
  name: string;
  external_id: string;
  import_for_availability: boolean;
  removed_at: string | Date | null;
  import_status: string;
  error: string | null;
  sync_cursor: SyncCursor | null;
  /** Raw rows carry timestamps as text. */
  window_start: string | Date | null;
  event_count: number;
}

const CHANGED = { unchanged: false } as const;

export interface QuickPollOptions {
  now?: Date;
  /** A watched poll (connections/watched-polls.ts): when unchanged, the next poll is due this much later. */
  nextPollSeconds?: number;
}

export async function pollUnchanged(
  em: EntityManager,
  config: Config,
  connectionId: string,
  { now = new Date(), nextPollSeconds }: QuickPollOptions = {},
): Promise<QuickPoll> {
  // The calendars are the pass's sync targets (activities/connection.ts listSyncTargets).
  const rows = await em.execute<Row[]>(
    `select c.provider, c.status, c.status_reason, c.server_url, c.credentials,
            pc.id as calendar_id, pc.name, pc.external_id, pc.import_for_availability, pc.removed_at,
            pc.import_status, pc.error, pc.sync_cursor, pc.window_start, pc.event_count
       from calendar_connections c
       left join provider_calendars pc on pc.connection_id = c.id
        and (pc.import_for_availability and pc.removed_at is null or pc.event_count > 0 or pc.sync_cursor is not null)
      where c.id = ?
      order by pc.name, pc.id`,
    [connectionId],
  );
  const first = rows[0];
  if (first?.status !== 'active' || first.status_reason !== null || !first.credentials) return CHANGED;
  const module = providerModule(first.provider);
  if (!module.conditionalPoll) return CHANGED;
  const window = importWindow(now, config.SYNC_WINDOW_PAST_DAYS, config.SYNC_WINDOW_FUTURE_DAYS);
  const current = (r: Row) =>
    r.calendar_id !== null &&
    r.import_for_availability &&
    r.removed_at === null &&
    r.import_status === 'ready' &&
    r.error === null &&
    r.sync_cursor !== null &&
    r.sync_cursor.phase !== 'full' &&
    r.window_start !== null &&
    new Date(r.window_start).getTime() === window.start.getTime();
  // No calendar (yet) or one to import, purge or resume: the regular pass.
  if (!rows.every(current)) return CHANGED;

  const provider = openProvider(config, {
    provider: first.provider,
    serverUrl: first.server_url,
    credentials: unsealCredentials(config, connectionId, first.credentials),
  });
  if (!provider.unchangedSince) return CHANGED;
  const cursors: string[] = [];
  for (const row of rows) {
    let cursor: SyncCursor | null;
    try {
      cursor = await provider.unchangedSince({
        calendar: { externalId: row.external_id },
        window,
        cursor: row.sync_cursor as SyncCursor,
      });
    } catch {
      // The regular import asks again, with retries and typed failures.
      return CHANGED;
    }
    if (!cursor) return CHANGED;
    cursors.push(JSON.stringify(cursor));
  }

  // One statement (so one transaction): the calendars' cursors and lastSyncedAt, the connection's
  // lastSyncAt — what a regular pass's finishSyncPass records — unless the connection left `active`
  // (a removal, a parked credential) meanwhile, in which case nothing is written.
  const [written] = await em.execute<{ status: ConnectionStatus }[]>(
    `with connection as (
       update calendar_connections
          set last_sync_at = now(),
              next_poll_at = coalesce(now() + make_interval(secs => ?::int), next_poll_at)
        where id = ? and status = 'active' and status_reason is null
       returning id, status
     ), calendars as (
       update provider_calendars pc set sync_cursor = v.cursor::jsonb, last_synced_at = now(), updated_at = now()
         from unnest(?::uuid[], ?::text[]) as v(id, cursor), connection
        where pc.id = v.id and pc.connection_id = connection.id and pc.import_status = 'ready'
     )
     select status from connection`,
    [nextPollSeconds ?? null, connectionId, pgArray(rows.map((r) => r.calendar_id)), pgArray(cursors)],
  );
  if (!written) return CHANGED;
  return {
    unchanged: true,
    status: written.status,
    calendars: rows.map((r) => ({
      calendarId: r.calendar_id as string,
      name: r.name,
      eventCount: r.event_count,
    })),
  };
}
