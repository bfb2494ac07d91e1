/**
 * The CalDAV sync cursor: what fetchChanges stores between runs (JSON, in provider_calendars).
 *
 * `phase: 'full'` is a full listing in progress, resumed by the next run; `phase: 'incremental'` is
 * a collection in sync as of `syncToken` (RFC 6578) or, without one, `ctag`. A full listing runs in
 * one of two ways, told apart by `slice`:
 * - time slices (`slice` set): calendar-query REPORTs carrying calendar-data, one time range after
 *   the other; everything before `slice.start` is done, and inside the slice every object up to
 *   `after` (in href order);
 * - one listing of (href, etag) for the whole window, then calendar-multiget (`slice` absent): every
 *   object up to `after` is done. Cursors written before slices existed read as this kind.
 */
import type { SyncCursor } from '../contract.ts';
import { CursorExpiredError } from '../errors.ts';

export interface WindowKey {
  start: string;
  end: string;
}

export interface SliceKey {
  start: string;
  end: string;
}

export interface CalDavCursor {
  phase: 'full' | 'incremental';
  syncToken: string | null;
  ctag: string | null;
  window: WindowKey;
  /** Only in the 'full' phase: the last object href covered. */
  after: string | null;
  /** Only in the 'full' phase of a sliced listing: the time range in progress. */
  slice: SliceKey | null;
}

export function writeCursor(cursor: CalDavCursor): SyncCursor {
  const full = cursor.phase === 'full';
  return {
    phase: cursor.phase,
    syncToken: cursor.syncToken,
    ctag: cursor.ctag,
    window: cursor.window,
    after: full ? cursor.after : null,
    ...(full && cursor.slice ? { slice: cursor.slice } : {}),
  };
}

export function readCursor(cursor: SyncCursor | null): CalDavCursor | null {
  if (cursor === null) return null;
  const window = range(cursor.window);
  const slice = cursor.slice === undefined || cursor.slice === null ? null : range(cursor.slice);
  const phase = cursor.phase;
  const valid =
    (phase === 'full' || phase === 'incremental') &&
    window !== null &&
    (cursor.slice === undefined || cursor.slice === null || (slice !== null && within(slice, window))) &&
    (cursor.syncToken === null || typeof cursor.syncToken === 'string') &&
    (cursor.ctag === null || typeof cursor.ctag === 'string') &&
    (cursor.after === undefined || cursor.after === null || typeof cursor.after === 'string');
  if (!valid || window === null) {
    throw new CursorExpiredError('The stored CalDAV sync cursor is not one this adapter wrote');
  }
  return {
    phase,
    syncToken: text(cursor.syncToken),
    ctag: text(cursor.ctag),
    window,
    after: text(cursor.after),
    slice: phase === 'full' ? slice : null,
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A start/end pair of ISO instants, start before end; null for anything else. */
function range(value: unknown): { start: string; end: string } | null {
  const pair = value as { start?: unknown; end?: unknown } | null | undefined;
  const start = text(pair?.start);
  const end = text(pair?.end);
  if (start === null || end === null) return null;
  const from = Date.parse(start);
  const to = Date.parse(end);
  return Number.isFinite(from) && Number.isFinite(to) && from < to ? { start, end } : null;
}

function within(slice: SliceKey, window: WindowKey): boolean {
  return (
    Date.parse(slice.start) >= Date.parse(window.start) && Date.parse(slice.end) <= Date.parse(window.end)
  );
}
