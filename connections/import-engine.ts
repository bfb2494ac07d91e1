/**
 * Imports one provider calendar into imported_events, page by page, resumably (invariant 6):
 * - the cursor is stored after every page, so a retried or restarted import continues from there;
 * - a full sync marks every object it sees with a new generation and, on its last page, sweeps the
 *   objects of older generations — so an expired cursor means a clean resync without ever emptying
 *   the calendar's busy time in between;
 * - writes are upserts keyed by (calendar, object, occurrence), so replayed pages never duplicate
 *   (connections/imported-events.ts writes them).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { ProviderCalendar } from '../db/entities/index.ts';
import type { TimeWindow } from '../domain/calendar.ts';
import type { Config } from '../platform/config.ts';
import type { SyncCursor } from '../providers/contract.ts';
import { CursorExpiredError } from '../providers/errors.ts';
import { openStoredProvider } from './credentials.ts';
import { applyPage, purgeCalendar } from './imported-events.ts';

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
  /** Upserted objects that were new to us or had another version tag: what really changed. */
  changed: number;
  removed: number;
  eventCount: number;
}

export interface SyncOptions {
  /** Called after each applied page (activities heartbeat here). */
  onPage?: (progress: { pages: number; cursor: SyncCursor }) => void;
  /** Stops the import before its next page is applied (each applied page stays, with its cursor). */
  signal?: AbortSignal;
  now?: Date;
  /**
   * Reconciliation: list the calendar in full instead of asking for changes since the cursor. The
   * sweep after the listing removes what the provider no longer has; unchanged objects are skipped
   * by their version tags, so what it writes is what the cursor had missed.
   */
  fullListing?: boolean;
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
    return { calendarId, mode: 'skipped', upserted: 0, changed: 0, removed: 0, eventCount: 0 };
  }
  const { provider } = await openStoredProvider(em, config, calendar.connectionId);
  const ownerTimeZone = await ownerTimeZoneOf(em, calendarId);
  const window = importWindow(
    options.now ?? new Date(),
    config.SYNC_WINDOW_PAST_DAYS,
    config.SYNC_WINDOW_FUTURE_DAYS,
  );

  let cursor = calendar.syncCursor ?? null;
  // A window that rolled forward to a new day needs a full listing to pick up the newly covered days.
  const windowRolled = calendar.windowStart?.getTime() !== window.start.getTime();
  if (windowRolled || options.fullListing) cursor = null;

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
    let changed = 0;
    let removed = 0;
    let pages = 0;
    let full = startCursor === null || startCursor.phase === 'full';
    for await (const page of provider.fetchChanges({
      calendar: { externalId: calendar.externalId },
      window,
      cursor: startCursor,
      known,
      ownerTimeZone,
    })) {
      options.signal?.throwIfAborted();
      full = page.full;
      const applied = await applyPage(
        em,
        { userId: calendar.userId, calendarId, generation, windowStart: window.start },
        page,
      );
      upserted += applied.upserted;
      changed += page.upserts.filter((o) => !known.has(o.key) || known.get(o.key) !== o.etag).length;
      removed += applied.removed;
      pages += 1;
      options.onPage?.({ pages, cursor: page.cursor });
    }
    return { upserted, changed, removed, mode: full ? ('full' as const) : ('incremental' as const) };
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

/** The calendar owner's zone, in which a provider's floating times (no zone given) are read. */
async function ownerTimeZoneOf(em: EntityManager, calendarId: string): Promise<string | undefined> {
  const [row] = await em.execute<{ time_zone: string }[]>(
    'select u.time_zone from provider_calendars c join users u on u.id = c.user_id where c.id = ?',
    [calendarId],
  );
  return row?.time_zone;
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
