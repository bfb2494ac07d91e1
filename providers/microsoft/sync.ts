/**
 * fetchChanges over Graph's calendarView delta. A round starts with the window
 * (`startDateTime`/`endDateTime`, the first request only) and follows absolute @odata.nextLink
 * pages until an @odata.deltaLink, which starts the next round from where this one ended.
 *
 * The cursor holds the link to continue from and the window it was computed for:
 * `{ phase: 'full', nextLink }` inside the first round (a restart resumes it), `{ phase:
 * 'incremental', deltaLink | nextLink }` afterwards. A cursor for another window starts a new full
 * round (the window is fixed inside Graph's tokens). Graph may replay items: a page keeps the last
 * state of each id, and applying an item twice changes nothing.
 */
import type { ChangePage, FetchChangesInput, SourceObject, SyncCursor } from '../contract.ts';
import { CursorExpiredError, InvalidDataError } from '../errors.ts';
import { type GraphClient, isDeadSyncState } from './graph-client.ts';
import { etagOf, type GraphEvent, toSourceObject } from './wire.ts';

/** Events per delta page we ask for (Prefer: odata.maxpagesize); Graph may send fewer. */
const PAGE_SIZE = 500;

interface DeltaCursor {
  phase: 'full' | 'incremental';
  /** The link to request next: a nextLink inside a round, a deltaLink between rounds. */
  link: string;
  window: { start: string; end: string };
}

export async function* fetchCalendarChanges(
  client: GraphClient,
  input: FetchChangesInput,
): AsyncGenerator<ChangePage> {
  const window = { start: input.window.start.toISOString(), end: input.window.end.toISOString() };
  const stored = readCursor(input.cursor);
  const resumable = stored && stored.window.start === window.start && stored.window.end === window.end;
  const full = resumable ? stored.phase === 'full' : true;
  let link = resumable
    ? stored.link
    : `/me/calendars/${encodeURIComponent(input.calendar.externalId)}/calendarView/delta?${new URLSearchParams(
        {
          startDateTime: window.start,
          endDateTime: window.end,
        },
      )}`;

  for (;;) {
    const response = await client.request({
      method: 'GET',
      target: link,
      headers: { Prefer: `outlook.timezone="UTC", odata.maxpagesize=${PAGE_SIZE}` },
    });
    if (isDeadSyncState(response)) {
      throw new CursorExpiredError(
        `Microsoft Graph no longer accepts this calendar's delta link (${response.status})`,
      );
    }
    if (response.status !== 200) {
      throw new InvalidDataError(`Microsoft Graph answered ${response.status} to a calendar delta request`);
    }
    const body = response.body as {
      value?: unknown;
      '@odata.nextLink'?: unknown;
      '@odata.deltaLink'?: unknown;
    } | null;
    if (!body || !Array.isArray(body.value)) {
      throw new InvalidDataError('Microsoft Graph answered a delta request without a list of events');
    }
    const next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
    const delta = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : null;
    if (!next && !delta) throw new InvalidDataError('Microsoft Graph ended a delta page without a link');

    const page = applyItems(body.value as GraphEvent[], input, full);
    const complete = next === null;
    const cursor: SyncCursor = complete
      ? { phase: 'incremental', deltaLink: delta, window }
      : { phase: full ? 'full' : 'incremental', nextLink: next, window };
    yield { full, ...page, cursor, complete };
    if (complete) return;
    link = next;
  }
}

function applyItems(
  items: GraphEvent[],
  input: FetchChangesInput,
  full: boolean,
): Pick<ChangePage, 'upserts' | 'unchanged' | 'removed'> {
  // Replayed items: the last state of each id wins.
  const latest = new Map<string, GraphEvent>();
  for (const item of items) {
    if (!item || typeof item.id !== 'string' || item.id === '') continue;
    latest.delete(item.id);
    latest.set(item.id, item);
  }
  const upserts: SourceObject[] = [];
  const unchanged: string[] = [];
  const removed: string[] = [];
  for (const [id, item] of latest) {
    if (item['@removed']) removed.push(id);
    else if (full && input.known.has(id) && input.known.get(id) === etagOf(item)) unchanged.push(id);
    else upserts.push(toSourceObject(item, input.window));
  }
  return { upserts, unchanged, removed };
}

function readCursor(cursor: SyncCursor | null): DeltaCursor | null {
  if (cursor === null) return null;
  const phase = cursor.phase;
  const link = phase === 'full' ? cursor.nextLink : (cursor.nextLink ?? cursor.deltaLink);
  const window = cursor.window as { start?: unknown; end?: unknown } | undefined;
  if (
    (phase !== 'full' && phase !== 'incremental') ||
    typeof link !== 'string' ||
    link === '' ||
    typeof window?.start !== 'string' ||
    typeof window.end !== 'string'
  ) {
    throw new CursorExpiredError('The stored Microsoft sync cursor is not one this adapter wrote');
  }
  return { phase, link, window: { start: window.start, end: window.end } };
}
