/**
 * fetchChanges for one CalDAV collection.
 *
 * Full sync: read the collection's sync-token and ctag FIRST, then list (href, etag) with a
 * calendar-query time-ranged to the window, skip objects whose version the consumer already holds,
 * and calendar-multiget the rest in batches, one page per batch. Changes made while we list are
 * therefore replayed by the next incremental sync. Each page's cursor names the last href it
 * covered (hrefs are walked in sorted order), so a crashed full sync resumes after it.
 *
 * Incremental sync: RFC 6578 sync-collection from the stored token; where the server does not
 * advertise it or gives no token, the ctag decides between "nothing changed" and a full listing.
 *
 * Version tags: an object's occurrences depend on the window as well as on its data. The `etag` we
 * hand out is the server's ETag for a plain event inside the window (its one occurrence is the same
 * in any window it is listed for), and the ETag tagged with the window for anything else (series,
 * events outside the window, unreadable data) — so a consumer that re-lists with a moved window gets
 * series re-expanded and newly covered events imported, while plain events stay "unchanged".
 *
 * Longer than our usual file (~430 lines) on purpose: full listing, incremental sync and the ctag
 * fallback share one cursor format and hand over to each other mid-run; they read best together.
 */

import type { Occurrence, TimeWindow } from '../../domain/calendar.ts';
import { ICalendarError } from '../../ical/errors.ts';
import { expandICalendar } from '../../ical/normalize.ts';
import type { ChangePage, FetchChangesInput, SourceObject, SyncCursor } from '../contract.ts';
import { CursorExpiredError, InvalidDataError, NotFoundError } from '../errors.ts';
import { propfind } from './discovery.ts';
import {
  asCollectionUrl,
  CALDAV_NS,
  childNames,
  type DavClient,
  type DavResult,
  pathOf,
  samePath,
  textOf,
} from './http.ts';

/** hrefs per calendar-multiget (and so upserts per page). */
export const MULTIGET_BATCH = 100;
/** Bounds a page that only confirms unchanged objects. */
const UNCHANGED_PER_PAGE = 1000;
/** Guards against a server that keeps answering "truncated" (507) with the same token. */
const MAX_SYNC_ROUNDS = 1000;

interface WindowKey {
  start: string;
  end: string;
}

/** What we store between runs (JSON). `after` only in the 'full' phase. */
interface CalDavCursor {
  phase: 'full' | 'incremental';
  syncToken: string | null;
  ctag: string | null;
  window: WindowKey;
  after: string | null;
}

interface CollectionState {
  /** Only when the server advertises sync-collection and gave a token. */
  syncToken: string | null;
  ctag: string | null;
}

interface Listed {
  key: string;
  etag: string | null;
}

export function fetchCollectionChanges(
  client: DavClient,
  input: FetchChangesInput,
): AsyncGenerator<ChangePage> {
  return new CollectionSync(client, input).run();
}

class CollectionSync {
  readonly #client: DavClient;
  readonly #input: FetchChangesInput;
  readonly #collection: string;
  readonly #collectionPath: string;
  readonly #window: WindowKey;

  constructor(client: DavClient, input: FetchChangesInput) {
    this.#client = client;
    this.#input = input;
    try {
      this.#collection = asCollectionUrl(input.calendar.externalId);
    } catch {
      throw new NotFoundError(`Not a CalDAV collection URL: ${input.calendar.externalId}`);
    }
    this.#collectionPath = new URL(this.#collection).pathname;
    this.#window = { start: input.window.start.toISOString(), end: input.window.end.toISOString() };
  }

  async *run(): AsyncGenerator<ChangePage> {
    const cursor = readCursor(this.#input.cursor);
    // A cursor computed for another window cannot be continued: the expansion differs.
    const sameWindow =
      cursor !== null && cursor.window.start === this.#window.start && cursor.window.end === this.#window.end;
    if (cursor === null || !sameWindow) {
      yield* this.#full(null);
    } else if (cursor.phase === 'full') {
      yield* this.#full(cursor);
    } else if (cursor.syncToken !== null) {
      yield* this.#syncCollection(cursor);
    } else {
      const state = await this.#readState();
      if (state.ctag !== null && state.ctag === cursor.ctag) {
        yield {
          full: false,
          upserts: [],
          unchanged: [],
          removed: [],
          cursor: this.#cursor('incremental', cursor, null),
          complete: true,
        };
      } else {
        yield* this.#full({ ...cursor, ...state, phase: 'full', after: null });
      }
    }
  }

  async *#full(resume: CalDavCursor | null): AsyncGenerator<ChangePage> {
    const state: CollectionState = resume ?? (await this.#readState());
    const after = resume?.after ?? null;
    const listed = await this.#listWindow();

    let pending: Listed[] = [];
    let unchanged: string[] = [];
    let lastKey = after;
    for (const item of listed) {
      // Covered by pages of this full sync before a crash: upserted then, replayed by the token since.
      if (after !== null && item.key <= after) unchanged.push(item.key);
      else if (holdsCurrent(this.#input.known, item, this.#input.window)) unchanged.push(item.key);
      else pending.push(item);
      lastKey = item.key;
      if (pending.length >= MULTIGET_BATCH || unchanged.length >= UNCHANGED_PER_PAGE) {
        const { upserts } = await this.#fetchObjects(pending.map((p) => p.key));
        yield {
          full: true,
          upserts,
          unchanged,
          removed: [],
          cursor: this.#cursor('full', state, lastKey),
          complete: false,
        };
        pending = [];
        unchanged = [];
      }
    }
    const { upserts } = await this.#fetchObjects(pending.map((p) => p.key));
    yield {
      full: true,
      upserts,
      unchanged,
      removed: [],
      cursor: this.#cursor('incremental', state, null),
      complete: true,
    };
  }

  async *#syncCollection(cursor: CalDavCursor): AsyncGenerator<ChangePage> {
    let token = cursor.syncToken ?? '';
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const result = await this.#client.dav(this.#collection, {
        method: 'REPORT',
        body: {
          'sync-collection': {
            _attributes: CALDAV_NS,
            'sync-token': token,
            'sync-level': 1,
            prop: { getetag: {} },
          },
        },
      });
      if (result.status !== 207) throw this.#syncCollectionError(result);
      const newToken = textOf((result.raw as { syncToken?: unknown } | null)?.syncToken);
      if (!newToken) {
        throw new CursorExpiredError(`sync-collection on ${this.#where()} answered without a sync-token`);
      }
      const changed = new Set<string>();
      const removed = new Set<string>();
      let truncated = false;
      for (const response of result.responses) {
        const key = pathOf(response.href ?? '', result.url);
        if (samePath(key, this.#collectionPath)) {
          // RFC 6578 3.6: a 507 on the collection itself means "more changes, ask again".
          if (response.status === 507) truncated = true;
          continue;
        }
        if (response.status === 404) removed.add(key);
        else if (response.ok) changed.add(key);
      }
      for (const key of removed) changed.delete(key);

      const keys = [...changed];
      const roundCursor = this.#cursor('incremental', { ...cursor, syncToken: newToken }, null);
      const restartCursor = this.#cursor('incremental', { ...cursor, syncToken: token }, null);
      let first = true;
      for (let i = 0; i === 0 || i < keys.length; i += MULTIGET_BATCH) {
        const batch = keys.slice(i, i + MULTIGET_BATCH);
        const { upserts, missing } = await this.#fetchObjects(batch);
        const last = i + MULTIGET_BATCH >= keys.length;
        yield {
          full: false,
          upserts,
          unchanged: [],
          // Changed but gone by the time we fetched it: deleted.
          removed: [...(first ? removed : []), ...missing],
          // Until the round's last page, a crash replays the round from the previous token.
          cursor: last ? roundCursor : restartCursor,
          complete: last && !truncated,
        };
        first = false;
      }
      if (!truncated || newToken === token) return;
      token = newToken;
    }
  }

  #syncCollectionError(result: DavResult): Error {
    const body = typeof result.raw === 'string' ? result.raw : '';
    const tokenRejected = /valid-sync-token/i.test(body);
    if (result.status === 404) return new NotFoundError(`The calendar ${this.#where()} does not exist`);
    // 403/409 with DAV:valid-sync-token is RFC 6578's answer; 412 and a bare 403 are what other
    // servers (or one that stopped supporting the report) send. All of them: start over.
    if (result.status === 403 || result.status === 409 || result.status === 412 || tokenRejected) {
      return new CursorExpiredError(
        `sync-collection on ${this.#where()} rejected the sync token (${result.status}${tokenRejected ? ', valid-sync-token' : ''})`,
      );
    }
    return new InvalidDataError(`sync-collection on ${this.#where()} answered ${result.status}`);
  }

  /** sync-token (if sync-collection is advertised) and ctag, read before any listing. */
  async #readState(): Promise<CollectionState> {
    const result = await this.#client.dav(this.#collection, {
      method: 'PROPFIND',
      depth: '0',
      body: propfind({
        'd:sync-token': {},
        'cs:getctag': {},
        'd:supported-report-set': {},
        'd:resourcetype': {},
      }),
    });
    this.#assertCollectionStatus(result, 'PROPFIND');
    const response =
      result.responses.find((r) => samePath(pathOf(r.href ?? '', result.url), this.#collectionPath)) ??
      result.responses[0];
    const props = response?.props ?? {};
    if (props.resourcetype !== undefined && !childNames(props.resourcetype).includes('calendar')) {
      throw new NotFoundError(`${this.#where()} is not a calendar collection`);
    }
    const reports = [props.supportedReportSet?.supportedReport]
      .flat()
      .flatMap((r: unknown) => childNames((r as { report?: unknown } | null)?.report));
    const token = textOf(props.syncToken);
    return {
      syncToken: reports.includes('syncCollection') ? token : null,
      ctag: textOf(props.getctag),
    };
  }

  /** (href, etag) of every VEVENT object overlapping the window, sorted by href, collection excluded. */
  async #listWindow(): Promise<Listed[]> {
    const result = await this.#client.dav(this.#collection, {
      method: 'REPORT',
      depth: '1',
      namespace: 'c',
      body: {
        'calendar-query': {
          _attributes: CALDAV_NS,
          'd:prop': { 'd:getetag': {} },
          filter: {
            'comp-filter': {
              _attributes: { name: 'VCALENDAR' },
              'comp-filter': {
                _attributes: { name: 'VEVENT' },
                'time-range': {
                  _attributes: {
                    start: basicUtc(this.#input.window.start),
                    end: basicUtc(this.#input.window.end),
                  },
                },
              },
            },
          },
        },
      },
    });
    this.#assertCollectionStatus(result, 'calendar-query');
    const byKey = new Map<string, Listed>();
    for (const response of result.responses) {
      if (!response.ok) continue;
      const key = pathOf(response.href ?? '', result.url);
      // Some servers (iCloud) list the collection itself among its members.
      if (samePath(key, this.#collectionPath)) continue;
      byKey.set(key, { key, etag: textOf(response.props?.getetag) });
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** calendar-multiget of `keys` (one request); objects gone in the meantime come back as `missing`. */
  async #fetchObjects(keys: string[]): Promise<{ upserts: SourceObject[]; missing: string[] }> {
    if (keys.length === 0) return { upserts: [], missing: [] };
    const result = await this.#client.dav(this.#collection, {
      method: 'REPORT',
      depth: '1',
      namespace: 'c',
      body: {
        'calendar-multiget': {
          _attributes: CALDAV_NS,
          'd:prop': { 'd:getetag': {}, 'c:calendar-data': {} },
          'd:href': keys,
        },
      },
    });
    this.#assertCollectionStatus(result, 'calendar-multiget');
    const found = new Map<string, { etag: string | null; data: string }>();
    for (const response of result.responses) {
      if (!response.ok) continue;
      const data = textOf(response.props?.calendarData);
      if (data === null) continue;
      const key = pathOf(response.href ?? '', result.url);
      found.set(comparable(key), { etag: textOf(response.props?.getetag), data });
    }
    const upserts: SourceObject[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const object = found.get(comparable(key));
      if (!object) missing.push(key);
      else upserts.push(sourceObject(key, object.etag, object.data, this.#input.window));
    }
    return { upserts, missing };
  }

  #assertCollectionStatus(result: DavResult, what: string): void {
    if (result.status === 207) return;
    if (result.status === 404 || result.status === 410) {
      throw new NotFoundError(
        `The calendar ${this.#where()} does not exist (${what} answered ${result.status})`,
      );
    }
    if (result.status === 403) {
      throw new NotFoundError(
        `The calendar ${this.#where()} is not accessible to this account (${what} answered 403)`,
      );
    }
    throw new InvalidDataError(`${what} on ${this.#where()} answered ${result.status}, not a multistatus`);
  }

  #cursor(phase: CalDavCursor['phase'], state: CollectionState, after: string | null): SyncCursor {
    const cursor: CalDavCursor = {
      phase,
      syncToken: state.syncToken,
      ctag: state.ctag,
      window: this.#window,
      after: phase === 'full' ? after : null,
    };
    return { ...cursor };
  }

  #where(): string {
    const url = new URL(this.#collection);
    return `${url.host}${url.pathname}`;
  }
}

function comparable(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

function sourceObject(key: string, davEtag: string | null, data: string, window: TimeWindow): SourceObject {
  let occurrences: Occurrence[] = [];
  try {
    occurrences = [...expandICalendar(data, window).values()].flat();
  } catch (error) {
    // One unreadable resource must not stop the calendar's sync; it imports as nothing, and its
    // window-tagged version makes the next listing with another window try it again.
    if (!(error instanceof ICalendarError)) throw error;
  }
  return { key, etag: versionTag(davEtag, occurrences, window), occurrences };
}

/** See the file comment: the plain ETag only where the expansion cannot depend on the window. */
function versionTag(davEtag: string | null, occurrences: Occurrence[], window: TimeWindow): string | null {
  if (davEtag === null) return null;
  const windowIndependent = occurrences.length > 0 && occurrences.every((o) => o.occurrenceKey === '');
  return windowIndependent ? davEtag : windowedTag(davEtag, window);
}

function windowedTag(davEtag: string, window: TimeWindow): string {
  return `${davEtag};window=${window.start.toISOString()}/${window.end.toISOString()}`;
}

function holdsCurrent(known: ReadonlyMap<string, string | null>, item: Listed, window: TimeWindow): boolean {
  if (item.etag === null) return false;
  const held = known.get(item.key);
  return held === item.etag || held === windowedTag(item.etag, window);
}

function basicUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

function readCursor(cursor: SyncCursor | null): CalDavCursor | null {
  if (cursor === null) return null;
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  const window = cursor.window as { start?: unknown; end?: unknown } | null | undefined;
  const start = text(window?.start);
  const end = text(window?.end);
  const phase = cursor.phase;
  const valid =
    (phase === 'full' || phase === 'incremental') &&
    start !== null &&
    end !== null &&
    (cursor.syncToken === null || typeof cursor.syncToken === 'string') &&
    (cursor.ctag === null || typeof cursor.ctag === 'string') &&
    (cursor.after === undefined || cursor.after === null || typeof cursor.after === 'string');
  if (!valid) throw new CursorExpiredError('The stored CalDAV sync cursor is not one this adapter wrote');
  return {
    phase,
    syncToken: text(cursor.syncToken),
    ctag: text(cursor.ctag),
    window: { start, end },
    after: text(cursor.after),
  };
}
