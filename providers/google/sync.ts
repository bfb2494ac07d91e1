/**
 * fetchChanges for one Google calendar: a full listing of the window (events.list with
 * `singleEvents`, so every instance of a series is its own object) ending in a sync token, then
 * incremental listings with that token. Pages may be short or even empty while more remain; every
 * page yields, with a cursor that resumes right after it.
 */
import type { calendar_v3 } from 'googleapis';
import type { ChangePage, FetchChangesInput, SourceObject, SyncCursor } from '../contract.ts';
import { CursorExpiredError, InvalidDataError } from '../errors.ts';
import type { GoogleApi } from './client.ts';
import { sourceObject } from './wire.ts';

/** Google's largest page: the fewest round trips. */
const PAGE_SIZE = 2500;

type GoogleCursor =
  /** In the middle of a full listing of the window (timeMin/timeMax, as the listing was started). */
  | { phase: 'full'; pageToken: string; timeMin: string; timeMax: string }
  /** In sync as of `syncToken`; `pageToken` while an incremental listing is under way. */
  | { phase: 'incremental'; syncToken: string; pageToken?: string };

function readCursor(cursor: SyncCursor): GoogleCursor {
  const c = cursor as Partial<Record<string, unknown>>;
  if (
    c.phase === 'full' &&
    typeof c.pageToken === 'string' &&
    typeof c.timeMin === 'string' &&
    typeof c.timeMax === 'string'
  ) {
    return { phase: 'full', pageToken: c.pageToken, timeMin: c.timeMin, timeMax: c.timeMax };
  }
  if (c.phase === 'incremental' && typeof c.syncToken === 'string') {
    return {
      phase: 'incremental',
      syncToken: c.syncToken,
      ...(typeof c.pageToken === 'string' ? { pageToken: c.pageToken } : {}),
    };
  }
  throw new CursorExpiredError('The stored Google sync position is not one this adapter wrote');
}

export async function* fetchCalendarChanges(
  api: GoogleApi,
  input: FetchChangesInput,
): AsyncGenerator<ChangePage> {
  const calendarId = input.calendar.externalId;
  const cursor = input.cursor === null ? null : readCursor(input.cursor);
  if (cursor?.phase === 'incremental') {
    yield* incremental(api, calendarId, input, cursor.syncToken, cursor.pageToken);
    return;
  }
  const timeMin = cursor?.timeMin ?? input.window.start.toISOString();
  const timeMax = cursor?.timeMax ?? input.window.end.toISOString();
  let pageToken = cursor?.pageToken;
  for (;;) {
    const page = await listPage(
      api,
      { calendarId, singleEvents: true, showDeleted: false, timeMin, timeMax, maxResults: PAGE_SIZE },
      pageToken,
      pageToken === cursor?.pageToken,
    );
    const upserts: SourceObject[] = [];
    const unchanged: string[] = [];
    for (const item of page.items ?? []) {
      if (!item.id || item.status === 'cancelled') continue;
      if (item.etag && input.known.get(item.id) === item.etag) unchanged.push(item.id);
      else upserts.push(sourceObject(item, input.window));
    }
    const next = nextPosition(page);
    if (next.syncToken !== undefined) {
      yield {
        full: true,
        upserts,
        unchanged,
        removed: [],
        cursor: { phase: 'incremental', syncToken: next.syncToken },
        complete: true,
      };
      return;
    }
    pageToken = next.pageToken;
    yield {
      full: true,
      upserts,
      unchanged,
      removed: [],
      cursor: { phase: 'full', pageToken, timeMin, timeMax },
      complete: false,
    };
  }
}

async function* incremental(
  api: GoogleApi,
  calendarId: string,
  input: FetchChangesInput,
  syncToken: string,
  resumeAt: string | undefined,
): AsyncGenerator<ChangePage> {
  let pageToken = resumeAt;
  let instances: Map<string, string[]> | undefined;
  for (;;) {
    const page = await listPage(
      api,
      { calendarId, singleEvents: true, maxResults: PAGE_SIZE, syncToken },
      pageToken,
      pageToken === resumeAt,
    );
    const upserts: SourceObject[] = [];
    const removed: string[] = [];
    for (const item of page.items ?? []) {
      if (!item.id) continue;
      if (item.status !== 'cancelled') upserts.push(sourceObject(item, input.window));
      else if (item.recurringEventId) removed.push(item.id);
      else {
        // A whole event or series: its instances we hold go too, whether or not Google lists
        // them as cancelled one by one.
        instances ??= instancesBySeries(input.known);
        removed.push(item.id, ...(instances.get(item.id) ?? []));
      }
    }
    const next = nextPosition(page);
    if (next.syncToken !== undefined) {
      yield {
        full: false,
        upserts,
        unchanged: [],
        removed,
        cursor: { phase: 'incremental', syncToken: next.syncToken },
        complete: true,
      };
      return;
    }
    pageToken = next.pageToken;
    yield {
      full: false,
      upserts,
      unchanged: [],
      removed,
      cursor: { phase: 'incremental', syncToken, pageToken },
      complete: false,
    };
  }
}

/**
 * One events.list page. A page token stored in a cursor (`resumed`) may have expired by the time
 * it is used again: Google then refuses it with a 400, which means "list again from the start".
 */
async function listPage(
  api: GoogleApi,
  params: calendar_v3.Params$Resource$Events$List,
  pageToken: string | undefined,
  resumed: boolean,
): Promise<calendar_v3.Schema$Events> {
  const answer = await api.callAccepting(
    (options) => api.calendar.events.list({ ...params, ...(pageToken ? { pageToken } : {}) }, options),
    pageToken && resumed ? [400] : [],
  );
  if (answer.ok) return answer.data;
  throw new CursorExpiredError('Google no longer accepts the stored page position');
}

/** Keys of series instances we hold (`{seriesId}_{originalStart}`), by series id. */
function instancesBySeries(known: ReadonlyMap<string, string | null>): Map<string, string[]> {
  const bySeries = new Map<string, string[]>();
  for (const key of known.keys()) {
    const cut = key.lastIndexOf('_');
    if (cut <= 0) continue;
    const series = key.slice(0, cut);
    const keys = bySeries.get(series);
    if (keys) keys.push(key);
    else bySeries.set(series, [key]);
  }
  return bySeries;
}

/** `nextPageToken` XOR `nextSyncToken`, as Google promises; anything else is unreadable. */
function nextPosition(
  page: calendar_v3.Schema$Events,
): { pageToken: string; syncToken?: undefined } | { syncToken: string } {
  if (page.nextPageToken) return { pageToken: page.nextPageToken };
  if (page.nextSyncToken) return { syncToken: page.nextSyncToken };
  throw new InvalidDataError('Google listed events without a next page or sync token');
}
