/**
 * A read-only iCalendar feed ("subscribe by URL"): one calendar, always fully listed.
 *
 * We fetch the feed ourselves rather than through node-ical's fromURL: that one throws on every
 * non-2xx (304 included) and hides the response headers, and we need conditional requests, typed
 * errors and Retry-After.
 */
import { createHash } from 'node:crypto';
import type { TimeWindow } from '../../domain/calendar.ts';
import { ICalendarError } from '../../ical/errors.ts';
import { type ICalendarFeed, parseICalendarFeed } from '../../ical/normalize.ts';
import type {
  CalendarProvider,
  ChangePage,
  FetchChangesInput,
  ProviderCalendar,
  ProviderConnection,
  ProviderContext,
  SourceObject,
  SyncCursor,
} from '../contract.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  NotFoundError,
  type ProviderError,
  RateLimitedError,
  ReadOnlyError,
  TransientProviderError,
} from '../errors.ts';
import { retryAfterMs } from '../http-errors.ts';
import { unrestrictedOutbound } from '../outbound/context.ts';

/** What fetchChanges stores between runs. Small on purpose: no UIDs, no body. */
interface IcsCursor {
  etag: string | null;
  lastModified: string | null;
  fetchedAt: string;
  /** The window the last listing was computed for: a 304 only means "unchanged" for the same window. */
  window: { start: string; end: string } | null;
}

interface Feed {
  /** Fetchable URL: webcal → https, user-info moved to `authorization`. */
  url: URL;
  authorization: string | null;
}

/**
 * A feed connection is one calendar. Its id does not derive from the URL, so a reconnect with a
 * rotated feed URL (the secret token in it changed) keeps the calendar, its selection and its busy time.
 */
const FEED_CALENDAR_ID = 'ics:feed';

/**
 * Objects per page: a large feed is applied in several transactions (each a bounded amount of
 * work), and its full listing resumes from the start if interrupted, as upserts are idempotent.
 */
export const ICS_PAGE_OBJECTS = 500;

type FetchResult =
  | { kind: 'notModified'; etag: string | null; lastModified: string | null }
  | { kind: 'ok'; body: string; etag: string | null; lastModified: string | null };

const NO_WINDOW = { start: new Date(0), end: new Date(0) };

export function createIcsProvider(conn: ProviderConnection, ctx: ProviderContext): CalendarProvider {
  let feed: Feed | null = null;
  // Resolved on first use so that a broken stored URL surfaces as a typed error from a call, not as
  // a throw while the registry builds adapters.
  const getFeed = (): Feed => {
    feed ??= resolveFeed(conn);
    return feed;
  };

  async function fetchFeed(
    conditional: { etag: string | null; lastModified: string | null } | null,
    options: { readBody?: boolean } = {},
  ) {
    return fetchIcs(getFeed(), ctx, conditional, options);
  }

  const readOnly = async (): Promise<never> => {
    throw new ReadOnlyError('ICS feeds are read-only');
  };

  return {
    kind: 'ics',

    async verifyAccess() {
      const result = await fetchFeed(null);
      if (result.kind === 'ok') parseFeed(result.body, NO_WINDOW);
      return { accountEmail: null };
    },

    async listCalendars(): Promise<ProviderCalendar[]> {
      const { url } = getFeed();
      const result = await fetchFeed(null);
      const parsed: ICalendarFeed | null = result.kind === 'ok' ? parseFeed(result.body, NO_WINDOW) : null;
      return [
        {
          externalId: FEED_CALENDAR_ID,
          name: parsed?.name ?? url.hostname,
          color: parsed?.color ?? null,
          readOnly: true,
          providerPrimary: false,
        },
      ];
    },

    fetchChanges(input: FetchChangesInput): AsyncIterable<ChangePage> {
      return fetchChanges(input);
    },

    async unchangedSince({ calendar, window, cursor }): Promise<SyncCursor | null> {
      if (calendar.externalId !== FEED_CALENDAR_ID) return null;
      const { previous, listed, conditional } = validatorsFor(cursor, window);
      if (!conditional || (!conditional.etag && !conditional.lastModified)) return null;
      // Only a 304 matters here: a changed feed is downloaded by the import that follows, not twice.
      const result = await fetchFeed(conditional, { readBody: false });
      if (result.kind !== 'notModified') return null;
      return cursorAfterNotModified(result, previous, listed, new Date().toISOString());
    },

    createEvent: readOnly,
    updateEvent: readOnly,
    deleteEvent: readOnly,
  };

  async function* fetchChanges(input: FetchChangesInput): AsyncGenerator<ChangePage> {
    if (input.calendar.externalId !== FEED_CALENDAR_ID) {
      throw new NotFoundError('This ICS connection has a single calendar and it is not the one asked for');
    }
    const { previous, listed: window, conditional } = validatorsFor(input.cursor, input.window);
    const result = await fetchFeed(conditional);
    const fetchedAt = new Date().toISOString();

    if (result.kind === 'notModified') {
      yield {
        full: true,
        upserts: [],
        unchanged: [...input.known.keys()],
        removed: [],
        cursor: cursorAfterNotModified(result, previous, window, fetchedAt),
        complete: true,
        notModified: true,
      };
      return;
    }

    const parsed = parseFeed(result.body, input.window, input.ownerTimeZone);
    const upserts: SourceObject[] = [];
    const unchanged: string[] = [];
    for (const [uid, object] of parsed.objects) {
      // The tag covers the component text and what we made of it, so it changes when the window
      // brings other occurrences into view or a VTIMEZONE changes, not only when the VEVENT does.
      const etag = createHash('sha256')
        .update(object.sourceText)
        .update('\0')
        .update(JSON.stringify(object.occurrences))
        .digest('hex')
        .slice(0, 32);
      if (input.known.get(uid) === etag) unchanged.push(uid);
      else
        upserts.push({ key: uid, etag, occurrences: object.occurrences, warnings: warningsOf(parsed, uid) });
    }
    const calendarWide = warningsOf(parsed, null).map((w) => ({ ...w, objectKey: null }));
    const cursor = cursorOf({ etag: result.etag, lastModified: result.lastModified, fetchedAt, window });
    const pages = Math.max(1, Math.ceil(upserts.length / ICS_PAGE_OBJECTS));
    for (let page = 0; page < pages; page++) {
      const last = page === pages - 1;
      yield {
        full: true,
        upserts: upserts.slice(page * ICS_PAGE_OBJECTS, (page + 1) * ICS_PAGE_OBJECTS),
        unchanged: last ? unchanged : [],
        removed: [],
        cursor: last ? cursor : { phase: 'full' },
        complete: last,
        ...(last && calendarWide.length ? { warnings: calendarWide } : {}),
      };
    }
  }
}

/** The feed's problems about one object (or, with null, about the calendar as a whole). */
function warningsOf(feed: ICalendarFeed, uid: string | null) {
  return feed.problems.filter((p) => p.uid === uid).map((p) => ({ kind: p.kind, message: p.message }));
}

function resolveFeed(conn: ProviderConnection): Feed {
  const configured =
    typeof conn.credentials.url === 'string' && conn.credentials.url.trim() !== ''
      ? conn.credentials.url.trim()
      : conn.serverUrl?.trim() || null;
  if (!configured) throw new InvalidDataError('The ICS connection has no feed URL');
  const normalized = configured.replace(/^webcals?:\/\//i, 'https://');
  let url: URL;
  try {
    url = new URL(normalized);
  } catch {
    throw new InvalidDataError('The ICS feed URL is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidDataError(`The ICS feed URL must be http(s) or webcal, not ${url.protocol}`);
  }
  let authorization: string | null = null;
  if (url.username || url.password) {
    // fetch refuses URLs with credentials; send them as the Basic auth they stand for.
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { url, authorization };
}

async function fetchIcs(
  feed: Feed,
  ctx: ProviderContext,
  conditional: { etag: string | null; lastModified: string | null } | null,
  { readBody = true }: { readBody?: boolean } = {},
): Promise<FetchResult> {
  const headers: Record<string, string> = {
    'User-Agent': ctx.userAgent,
    Accept: 'text/calendar, text/plain;q=0.5, */*;q=0.1',
  };
  if (conditional?.etag) headers['If-None-Match'] = conditional.etag;
  if (conditional?.lastModified) headers['If-Modified-Since'] = conditional.lastModified;
  // Messages name the host only: the path and query of a feed URL are often its secret.
  const host = feed.url.host;
  const outbound = ctx.outbound ?? unrestrictedOutbound();
  // Destination policy, redirects (the stored user-info credentials stay on the feed's origin),
  // the MAX_FEED_BYTES cap on the decompressed body: all in the outbound client.
  const response = await outbound.client.request(feed.url, {
    headers,
    authorization: feed.authorization,
    maxBodyBytes: outbound.maxFeedBytes,
    timeoutMs: ctx.requestTimeoutMs,
    readBody,
  });
  const validators = {
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
  if (response.status === 304) return { kind: 'notModified', ...validators };
  if (response.status < 200 || response.status > 299) throw statusError(response, host);
  return { kind: 'ok', body: decodeBody(response.body, response.headers.get('content-type')), ...validators };
}

function statusError(response: { status: number; headers: Headers }, host: string): ProviderError {
  const { status } = response;
  const what = `ICS feed at ${host} answered ${status}`;
  if (status === 401 || status === 403) return new CredentialsRejectedError(`${what}: access denied`);
  if (status === 404 || status === 410)
    return new NotFoundError(`${what}: the feed does not exist (any more)`);
  if (status === 429)
    return new RateLimitedError(`${what}: rate limited`, retryAfterMs(response.headers.get('retry-after')));
  if (status === 408 || status >= 500) return new TransientProviderError(what);
  return new InvalidDataError(`${what}, which is not a feed`);
}

function decodeBody(bytes: Uint8Array, contentType: string | null): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  if (charset) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // An unknown label: iCalendar is UTF-8 by default (RFC 5545 3.1.4).
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

function readCursor(cursor: SyncCursor | null): IcsCursor | null {
  if (!cursor) return null;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  const window = cursor.window as { start?: unknown; end?: unknown } | null | undefined;
  const start = text(window?.start);
  const end = text(window?.end);
  return {
    etag: text(cursor.etag),
    lastModified: text(cursor.lastModified),
    fetchedAt: text(cursor.fetchedAt) ?? '',
    window: start && end ? { start, end } : null,
  };
}

/**
 * The stored validators, and those a request may send for `window`. A cursor from a listing
 * interrupted between pages carries none. Occurrences depend on the window as much as on the feed:
 * a feed unchanged since a listing for another window still has to be expanded again, so it is
 * asked for unconditionally (`conditional` null).
 */
function validatorsFor(cursor: SyncCursor | null, window: TimeWindow) {
  const previous = cursor?.phase === 'full' ? null : readCursor(cursor);
  const listed = { start: window.start.toISOString(), end: window.end.toISOString() };
  const sameWindow = previous?.window?.start === listed.start && previous.window.end === listed.end;
  return { previous, listed, conditional: previous && sameWindow ? previous : null };
}

/** The cursor after a 304: the validators the server sent again, else those it confirmed. */
function cursorAfterNotModified(
  result: { etag: string | null; lastModified: string | null },
  previous: IcsCursor | null,
  window: { start: string; end: string },
  fetchedAt: string,
): SyncCursor {
  return cursorOf({
    etag: result.etag ?? previous?.etag ?? null,
    lastModified: result.lastModified ?? previous?.lastModified ?? null,
    fetchedAt,
    window,
  });
}

function cursorOf(cursor: IcsCursor): SyncCursor {
  return { ...cursor };
}

/** A feed that is not iCalendar we can read is the provider's bad data, not our failure. */
function parseFeed(body: string, window: TimeWindow, floatingTimeZone?: string): ICalendarFeed {
  try {
    return parseICalendarFeed(body, window, { floatingTimeZone });
  } catch (error) {
    if (error instanceof ICalendarError) throw new InvalidDataError(error.message);
    throw error;
  }
}
