/**
 * Imports one provider calendar into imported_events, page by page, resumably (invariant 6):
 * - the cursor is stored after every page, so a retried or restarted import continues from there;
 * - a full sync marks every object it sees with a new generation and, on its last page, sweeps the
 *   objects of older generations — so an expired cursor means a clean resync without ever emptying
 *   the calendar's busy time in between;
 * - writes are upserts keyed by (calendar, object, occurrence), so replayed pages never duplicate.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ProviderCalendar } from '../db/entities/index.ts';
import { pgArray } from '../db/sql.ts';
import type { TimeWindow } from '../domain/calendar.ts';
import type { Config } from '../platform/config.ts';
import type { ChangePage, SourceObject, SyncCursor } from '../providers/contract.ts';
import { CursorExpiredError } from '../providers/errors.ts';
import { openStoredProvider } from './credentials.ts';

const DAY = 86_400_000;

/** The rolling import window: whole UTC days, `past` days back to `future` days ahead. */
export function importWindow(now: Date, pastDays: number, futureDays: number): TimeWindow {
  const today = Math.floor(now.getTime() / DAY) * DAY;
  return { start: new Date(today - pastDays * DAY), end: new Date(today + futureDays * DAY) };
}

export interface CalendarSyncResult {
  calendarId: string;
  mode: 'full' | 'incremental' | 'skipped';
  upserted: number;
  removed: number;
  eventCount: number;
}

export interface SyncOptions {
  /** Called after each applied page (activities heartbeat here). */
  onPage?: (progress: { pages: number; cursor: SyncCursor }) => void;
  /** Stops the import before its next page is applied (each applied page stays, with its cursor). */
  signal?: AbortSignal;
  now?: Date;
}

export async function syncCalendar(
  rootEm: EntityManager,
  config: Config,
  calendarId: string,
  options: SyncOptions = {},
): Promise<CalendarSyncResult> {
  const em = rootEm.fork();
  const calendar = await em.findOneOrFail(ProviderCalendar, { id: calendarId });
  if (!calendar.importForAvailability || calendar.removedAt) {
    await purgeCalendar(em, calendarId);
    return { calendarId, mode: 'skipped', upserted: 0, removed: 0, eventCount: 0 };
  }
  const { provider } = await openStoredProvider(em, config, calendar.connectionId);
  const window = importWindow(
    options.now ?? new Date(),
    config.SYNC_WINDOW_PAST_DAYS,
    config.SYNC_WINDOW_FUTURE_DAYS,
  );

  let cursor = calendar.syncCursor ?? null;
  // A window that rolled forward to a new day needs a full listing to pick up the newly covered days.
  const windowRolled = calendar.windowStart?.getTime() !== window.start.getTime();
  if (windowRolled) cursor = null;

  const attempt = async (startCursor: SyncCursor | null) => {
    // Every sync starts a new generation, except one resuming an interrupted full listing: objects
    // that listing already marked must keep their mark, or its final sweep would delete them.
    let generation = calendar.fullSyncGeneration;
    const resumingFullSync = startCursor?.phase === 'full';
    if (!resumingFullSync) {
      generation += 1;
      await em.nativeUpdate(
        ProviderCalendar,
        { id: calendarId },
        {
          fullSyncGeneration: generation,
          ...(startCursor === null
            ? { windowStart: window.start, windowEnd: window.end, syncCursor: null }
            : {}),
          ...(calendar.importStatus === 'ready' ? {} : { importStatus: 'importing' }),
        },
      );
      calendar.fullSyncGeneration = generation;
    } else if (calendar.importStatus !== 'ready') {
      await em.nativeUpdate(ProviderCalendar, { id: calendarId }, { importStatus: 'importing' });
    }
    const known = await knownObjects(em, calendarId);
    let upserted = 0;
    let removed = 0;
    let pages = 0;
    let full = startCursor === null || startCursor.phase === 'full';
    for await (const page of provider.fetchChanges({
      calendar: { externalId: calendar.externalId },
      window,
      cursor: startCursor,
      known,
    })) {
      options.signal?.throwIfAborted();
      full = page.full;
      const applied = await applyPage(
        em,
        { userId: calendar.userId, calendarId, generation, windowStart: window.start },
        page,
      );
      upserted += applied.upserted;
      removed += applied.removed;
      pages += 1;
      options.onPage?.({ pages, cursor: page.cursor });
    }
    return { upserted, removed, mode: full ? ('full' as const) : ('incremental' as const) };
  };

  let outcome: Awaited<ReturnType<typeof attempt>>;
  try {
    outcome = await attempt(cursor);
  } catch (error) {
    if (!(error instanceof CursorExpiredError) || cursor === null) throw error;
    outcome = await attempt(null);
  }
  const eventCount = await countEvents(em, calendarId);
  await em.nativeUpdate(
    ProviderCalendar,
    { id: calendarId },
    { importStatus: 'ready', error: null, eventCount, lastSyncedAt: new Date() },
  );
  return { calendarId, ...outcome, eventCount };
}

/**
 * Version tags of the objects we hold, for the provider to skip unchanged ones: after the daily
 * window roll too, so unchanged objects are not downloaded again. A tag only proves "unchanged"
 * for what it covers: providers tag window-dependent objects (series, events outside the window)
 * with the window, so those are expanded again when it moves.
 */
async function knownObjects(em: EntityManager, calendarId: string): Promise<Map<string, string | null>> {
  const rows = await em.execute<{ key: string; etag: string | null }[]>(
    'select key, etag from synced_objects where calendar_id = ?',
    [calendarId],
  );
  return new Map(rows.map((r) => [r.key, r.etag]));
}

async function countEvents(em: EntityManager, calendarId: string): Promise<number> {
  const [row] = await em.execute<{ n: number }[]>(
    'select count(*)::int as n from imported_events where calendar_id = ?',
    [calendarId],
  );
  return row?.n ?? 0;
}

/** Applies one page in one transaction, then stores its cursor in the same transaction. */
/** Where a page's rows go: the calendar, its owner, the current full-sync generation and window. */
interface PageTarget {
  userId: string;
  calendarId: string;
  generation: number;
  windowStart: Date;
}

async function applyPage(
  rootEm: EntityManager,
  target: PageTarget,
  page: ChangePage,
): Promise<{ upserted: number; removed: number }> {
  const { calendarId, generation } = target;
  return rootEm.transactional(async (em) => {
    let upserted = 0;
    let removed = 0;
    if (page.upserts.length) upserted = await upsertObjects(em, target, page.upserts);
    if (page.unchanged.length) {
      await em.execute(
        'update synced_objects set seen_generation = ? where calendar_id = ? and key = any(?::text[])',
        [generation, calendarId, pgArray(page.unchanged)],
      );
    }
    if (page.removed.length) removed += await removeObjects(em, calendarId, page.removed);
    if (page.full && page.complete) {
      const stale = await em.execute<{ key: string }[]>(
        'select key from synced_objects where calendar_id = ? and seen_generation < ?',
        [calendarId, generation],
      );
      if (stale.length)
        removed += await removeObjects(
          em,
          calendarId,
          stale.map((r) => r.key),
        );
    }
    await em.execute(
      'update provider_calendars set sync_cursor = ?::jsonb, updated_at = now() where id = ?',
      [JSON.stringify(page.cursor), calendarId],
    );
    return { upserted, removed };
  });
}

async function removeObjects(em: EntityManager, calendarId: string, keys: string[]): Promise<number> {
  const deleted = await em.execute<{ id: string }[]>(
    'delete from imported_events where calendar_id = ? and object_key = any(?::text[]) returning id',
    [calendarId, pgArray(keys)],
  );
  await em.execute('delete from synced_objects where calendar_id = ? and key = any(?::text[])', [
    calendarId,
    pgArray(keys),
  ]);
  return deleted.length;
}

/**
 * Replaces each object's occurrences: upserts the current ones (one statement for the whole page)
 * and deletes occurrences the object no longer has. Our own mirrored events are skipped (invariant 4).
 */
async function upsertObjects(
  em: EntityManager,
  { userId, calendarId, generation, windowStart }: PageTarget,
  pageObjects: SourceObject[],
): Promise<number> {
  // One row per key: a provider page may list an object twice (Graph replays items).
  const objects = [...new Map(pageObjects.map((o) => [o.key, o])).values()];
  const cols = {
    id: [] as string[],
    objectKey: [] as string[],
    occurrenceKey: [] as string[],
    uid: [] as string[],
    start: [] as string[],
    end: [] as string[],
    allDay: [] as boolean[],
    busy: [] as boolean[],
    status: [] as string[],
    title: [] as (string | null)[],
  };
  const seen = new Set<string>();
  for (const object of objects) {
    for (const o of object.occurrences) {
      if (o.calbridgeId) continue;
      const identity = `${object.key}\u0000${o.occurrenceKey}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      cols.id.push(randomUUID());
      cols.objectKey.push(object.key);
      cols.occurrenceKey.push(o.occurrenceKey);
      cols.uid.push(o.uid);
      cols.start.push(o.start.toISOString());
      cols.end.push(new Date(Math.max(o.start.getTime(), o.end.getTime())).toISOString());
      cols.allDay.push(o.allDay);
      cols.busy.push(o.busy);
      cols.status.push(o.status);
      cols.title.push(o.title);
    }
  }
  const keys = objects.map((o) => o.key);
  // Occurrences that vanished from a changed object (a deleted instance, a shortened series).
  await em.execute(
    `delete from imported_events e
      using unnest(?::text[]) as k(key)
      where e.calendar_id = ? and e.object_key = k.key
        and (e.object_key, e.occurrence_key) not in (select * from unnest(?::text[], ?::text[]))`,
    [pgArray(keys), calendarId, pgArray(cols.objectKey), pgArray(cols.occurrenceKey)],
  );
  if (cols.id.length) {
    await em.execute(
      `insert into imported_events (id, calendar_id, user_id, object_key, occurrence_key, uid, start_at, end_at, all_day, busy, status, title, updated_at)
       select id, ?, ?, object_key, occurrence_key, uid, start_at, end_at, all_day, busy, status, title, now()
         from unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[], ?::boolean[], ?::boolean[], ?::text[], ?::text[])
           as t(id, object_key, occurrence_key, uid, start_at, end_at, all_day, busy, status, title)
       on conflict (calendar_id, object_key, occurrence_key) do update set
         uid = excluded.uid, start_at = excluded.start_at, end_at = excluded.end_at, all_day = excluded.all_day,
         busy = excluded.busy, status = excluded.status, title = excluded.title, updated_at = now()`,
      [
        calendarId,
        userId,
        ...[
          cols.id,
          cols.objectKey,
          cols.occurrenceKey,
          cols.uid,
          cols.start,
          cols.end,
          cols.allDay,
          cols.busy,
          cols.status,
          cols.title,
        ].map(pgArray),
      ],
    );
  }
  await em.execute(
    `insert into synced_objects (calendar_id, key, etag, window_start, seen_generation)
     select ?, key, etag, ?, ? from unnest(?::text[], ?::text[]) as t(key, etag)
     on conflict (calendar_id, key) do update
       set etag = excluded.etag, window_start = excluded.window_start, seen_generation = excluded.seen_generation`,
    [calendarId, windowStart, generation, pgArray(keys), pgArray(objects.map((o) => o.etag))],
  );
  return cols.id.length;
}

/** Forgets everything imported from a calendar (toggled off, or its connection removed). */
export async function purgeCalendar(em: EntityManager, calendarId: string): Promise<void> {
  await em.transactional(async (tx) => {
    await tx.execute('delete from imported_events where calendar_id = ?', [calendarId]);
    await tx.execute('delete from synced_objects where calendar_id = ?', [calendarId]);
    await tx.execute(
      `update provider_calendars set sync_cursor = null, event_count = 0, window_start = null, window_end = null,
         import_status = case when import_for_availability then import_status else 'idle' end, updated_at = now()
       where id = ?`,
      [calendarId],
    );
  });
}
