/**
 * Where imported busy time is written: one provider page per transaction, its cursor stored in
 * the same transaction (invariant 6), upserts keyed by (calendar, object, occurrence) so a replayed
 * page never duplicates, and a full sync's last page sweeping the objects no page of it mentioned.
 *
 * Provider data is hostile until bounded: text is cleaned (PostgreSQL cannot store NUL), instants
 * outside years 0001–9999 are refused, and an object the database still refuses is skipped and
 * recorded as a calendar warning — one bad object never fails the calendar.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isDataException, pgArray, pgText } from '../db/sql.ts';
import { type CalendarWarning, MAX_CALENDAR_WARNINGS } from '../domain/connection.ts';
import { MAX_OCCURRENCES_PER_CALENDAR } from '../ical/limits.ts';
import type { ChangePage, SourceObject } from '../providers/contract.ts';

/** Where a page's rows go: the calendar, its owner, the current full-sync generation and window. */
export interface PageTarget {
  userId: string;
  calendarId: string;
  generation: number;
  windowStart: Date;
}

/** Applies one page in one transaction, then stores its cursor in the same transaction. */
export async function applyPage(
  rootEm: EntityManager,
  target: PageTarget,
  page: ChangePage,
): Promise<{ upserted: number; removed: number }> {
  const { calendarId, generation } = target;
  return rootEm.transactional(async (em) => {
    // A page's commit does not wait for its WAL flush (about 4 ms per page on a disk that syncs).
    // Safe here: rows and cursor commit together, so a PostgreSQL crash that loses the last pages
    // loses their cursor too and the import resumes from the last durable page (invariant 6); and
    // the import's closing update (connections/import-engine.ts) is an ordinary commit, whose flush
    // makes every page before it durable before the sync reports success.
    await em.execute('set local synchronous_commit = off');
    const warnings: CalendarWarning[] = [
      ...(page.warnings ?? []),
      ...page.upserts.flatMap((o) => (o.warnings ?? []).map((w) => ({ ...w, objectKey: o.key }))),
    ];
    let upserted = 0;
    let removed = 0;
    if (page.upserts.length) upserted = await upsertObjects(em, target, page.upserts, warnings);
    if (page.unchanged.length) {
      await em.execute(
        'update synced_objects set seen_generation = ? where calendar_id = ? and key = any(?::text[])',
        [generation, calendarId, pgArray(page.unchanged.map(pgText))],
      );
    }
    const gone = page.removed.map(pgText);
    if (page.full && page.complete) {
      const stale = await em.execute<{ key: string }[]>(
        'select key from synced_objects where calendar_id = ? and seen_generation < ?',
        [calendarId, generation],
      );
      gone.push(...stale.map((r) => r.key));
    }
    if (gone.length) removed = await removeObjects(em, calendarId, gone);
    await recordWarnings(em, calendarId, {
      settled: [...page.upserts.map((o) => pgText(o.key)), ...gone],
      raised: warnings,
      calendarWide: page.full && page.complete && !page.notModified,
    });
    await em.execute(
      'update provider_calendars set sync_cursor = ?::jsonb, updated_at = now() where id = ?',
      [JSON.stringify(page.cursor), calendarId],
    );
    return { upserted, removed };
  });
}

/**
 * Keeps the calendar's warnings current: objects this page upserted or removed drop their old
 * warnings, the page's new ones are added, and a completed full listing replaces calendar-wide ones.
 */
async function recordWarnings(
  em: EntityManager,
  calendarId: string,
  change: { settled: string[]; raised: CalendarWarning[]; calendarWide: boolean },
): Promise<void> {
  if (!change.settled.length && !change.raised.length && !change.calendarWide) return;
  const [row] = await em.execute<{ warnings: CalendarWarning[] | null }[]>(
    'select warnings from provider_calendars where id = ? for update',
    [calendarId],
  );
  const current = row?.warnings ?? [];
  // An object's new warnings replace its old ones, whatever else the page did.
  const settled = new Set([
    ...change.settled,
    ...change.raised.flatMap((w) => (w.objectKey === null ? [] : [w.objectKey])),
  ]);
  const raisedCalendarWide = change.raised.some((w) => w.objectKey === null);
  const kept = current.filter((w) =>
    w.objectKey === null ? !(change.calendarWide || raisedCalendarWide) : !settled.has(w.objectKey),
  );
  const cleaned = change.raised.map((w) => ({
    objectKey: w.objectKey === null ? null : pgText(w.objectKey),
    kind: w.kind,
    message: pgText(w.message).slice(0, 300),
  }));
  const next = [...cleaned, ...kept].slice(0, MAX_CALENDAR_WARNINGS);
  if (next.length === 0 && current.length === 0) return;
  await em.execute('update provider_calendars set warnings = ?::jsonb where id = ?', [
    JSON.stringify(next),
    calendarId,
  ]);
}

export async function removeObjects(em: EntityManager, calendarId: string, keys: string[]): Promise<number> {
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

/** timestamptz takes far more, but nothing a calendar means lies outside years 0001–9999. */
const FIRST_INSTANT = new Date('0001-01-01T00:00:00Z').getTime();
const LAST_INSTANT = new Date('9999-12-31T23:59:59.999Z').getTime();
const storable = (d: Date) => {
  const t = d.getTime();
  return Number.isFinite(t) && t >= FIRST_INSTANT && t <= LAST_INSTANT;
};

/**
 * Replaces the page's objects' occurrences: the whole page in one statement, or, when the
 * database refuses a value, object by object so that only the bad ones are skipped (and warned of).
 */
async function upsertObjects(
  em: EntityManager,
  target: PageTarget,
  pageObjects: SourceObject[],
  warnings: CalendarWarning[],
): Promise<number> {
  // One row per key: a provider page may list an object twice (Graph replays items).
  const objects = [
    ...new Map(pageObjects.map((o) => [pgText(o.key), { ...o, key: pgText(o.key) }])).values(),
  ];
  // Warnings of an attempt count only once it is committed: a failed batch is tried again object by object.
  const attempt = async (batch: SourceObject[]) => {
    const raised: CalendarWarning[] = [];
    const written = await em.transactional((tx) => writeObjects(tx, target, batch, raised));
    warnings.push(...raised);
    return written;
  };
  try {
    return await attempt(objects);
  } catch (error) {
    if (!isDataException(error)) throw error;
  }
  let written = 0;
  for (const object of objects) {
    try {
      written += await attempt([object]);
    } catch (error) {
      if (!isDataException(error)) throw error;
      warnings.push({
        objectKey: object.key,
        kind: 'rejected',
        message: 'The database refused a value of this event; it was skipped.',
      });
    }
  }
  return written;
}

/** The statements for a set of objects: stale occurrences out, current ones in, versions noted. */
async function writeObjects(
  em: EntityManager,
  { userId, calendarId, generation, windowStart }: PageTarget,
  objects: SourceObject[],
  warnings: CalendarWarning[],
): Promise<number> {
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
    let refused = 0;
    for (const o of object.occurrences) {
      // Our own mirrored events are never imported (invariant 4).
      if (o.calbridgeId) continue;
      if (!storable(o.start) || !storable(o.end)) {
        refused += 1;
        continue;
      }
      const occurrenceKey = pgText(o.occurrenceKey);
      const identity = `${object.key}\u0000${occurrenceKey}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      cols.id.push(randomUUID());
      cols.objectKey.push(object.key);
      cols.occurrenceKey.push(occurrenceKey);
      cols.uid.push(pgText(o.uid));
      cols.start.push(o.start.toISOString());
      cols.end.push(new Date(Math.max(o.start.getTime(), o.end.getTime())).toISOString());
      cols.allDay.push(o.allDay);
      cols.busy.push(o.busy);
      cols.status.push(o.status);
      cols.title.push(o.title === null ? null : pgText(o.title));
    }
    if (refused)
      warnings.push({
        objectKey: object.key,
        kind: 'rejected',
        message: `${refused} occurrence(s) lie outside the years 0001–9999 and were skipped.`,
      });
  }
  const keys = objects.map((o) => o.key);
  // Rows the calendar holds: in all, and of this page's objects (none in a backfill: no delete then).
  const [held] = await em.execute<{ total: number; page: number }[]>(
    `select (select count(*) from imported_events where calendar_id = ?)::int as total,
            (select count(*) from imported_events where calendar_id = ? and object_key = any(?::text[]))::int as page`,
    [calendarId, calendarId, pgArray(keys)],
  );
  capToCalendarBudget((held?.total ?? 0) - (held?.page ?? 0), cols, warnings);
  // Occurrences that vanished from a changed object (a deleted instance, a shortened series).
  if (held?.page)
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
    [
      calendarId,
      windowStart,
      generation,
      pgArray(keys),
      pgArray(objects.map((o) => (o.etag === null ? null : pgText(o.etag)))),
    ],
  );
  return cols.id.length;
}

/**
 * A calendar holds at most MAX_OCCURRENCES_PER_CALENDAR occurrences, however many objects bring
 * them (a CalDAV calendar is read resource by resource): past it, a page keeps what fits, in order,
 * and the calendar says it was cut. `heldElsewhere`: the calendar's rows of other objects than the page's.
 */
function capToCalendarBudget(
  heldElsewhere: number,
  cols: Record<string, unknown[]>,
  warnings: CalendarWarning[],
): void {
  const rows = cols.id!.length;
  if (rows === 0) return;
  const room = Math.max(0, MAX_OCCURRENCES_PER_CALENDAR - heldElsewhere);
  if (rows <= room) return;
  for (const column of Object.values(cols)) column.length = room;
  warnings.push({
    objectKey: null,
    kind: 'truncated',
    message: `This calendar has more than ${MAX_OCCURRENCES_PER_CALENDAR} occurrences in the import window; the rest are not imported.`,
  });
}

/** Forgets everything imported from a calendar (toggled off, or its connection removed). */
export async function purgeCalendar(em: EntityManager, calendarId: string): Promise<void> {
  await em.transactional(async (tx) => {
    await tx.execute('delete from imported_events where calendar_id = ?', [calendarId]);
    await tx.execute('delete from synced_objects where calendar_id = ?', [calendarId]);
    await tx.execute(
      `update provider_calendars set sync_cursor = null, event_count = 0, window_start = null, window_end = null,
         warnings = '[]', import_status = case when import_for_availability then import_status else 'idle' end, updated_at = now()
       where id = ?`,
      [calendarId],
    );
  });
}
