/**
 * fetchChanges for one CalDAV collection.
 *
 * Full sync: read the collection's sync-token and ctag FIRST, then list the objects overlapping the
 * window, skip those whose version the consumer already holds, and yield the rest as upserts, in
 * href order, a bounded number per page. Changes made while we list are therefore replayed by the
 * next incremental sync. The listing is fetched the way servers are fast (see slices.ts):
 * - a backfill (the consumer holds nothing) or a re-listing with much to fetch runs calendar-query
 *   REPORTs that carry calendar-data, one time slice after the other (the whole window when it fits);
 * - a re-listing with little to fetch (a rolled window, an expired token) lists (href, etag) once and
 *   calendar-multigets only what changed, so unchanged objects are never downloaded again.
 * Each page's cursor (sync-cursor.ts) names the slice in progress and the last href done, so a
 * crashed full sync resumes there. An object whose occurrences fall in several slices comes back in
 * each of them: it is taken once per listing (by href and ETag); after a restart the consumer's
 * `known` versions mark it unchanged; and anything a page once mentioned keeps its mark, so the
 * final sweep never deletes what an earlier slice saw.
 *
 * Incremental sync: RFC 6578 sync-collection from the stored token, changed objects fetched by
 * calendar-multiget; where the server does not advertise it or gives no token, the ctag decides
 * between "nothing changed" and a full listing.
 *
 * Version tags: see objects.ts.
 *
 * Longer than our usual file on purpose: full listing, incremental sync and the ctag fallback share
 * one cursor and hand over to each other mid-run; they read best together.
 */

import { setImmediate } from 'node:timers/promises';
import type { ChangePage, FetchChangesInput, SourceObject, SyncCursor } from '../contract.ts';
import { CursorExpiredError, InvalidDataError, NotFoundError } from '../errors.ts';
import { ResponseTooLargeError } from '../outbound/errors.ts';
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
  xmlText,
} from './http.ts';
import { comparable, holdsCurrent, type Listed, sourceObject } from './objects.ts';
import {
  basicUtc,
  DEFAULT_SLICE_TUNING,
  firstHalf,
  firstSlice,
  type Slice,
  SliceSizer,
  type SliceTuning,
} from './slices.ts';
import { type CalDavCursor, readCursor, type WindowKey, writeCursor } from './sync-cursor.ts';

/** hrefs per calendar-multiget, and so upserts per page when their data is still to be fetched. */
export const MULTIGET_BATCH = 100;
/**
 * Upserts per page when the listing carried their data: nothing left to fetch, so a page costs
 * parsing and one transaction, and larger pages spend fewer round trips per object. A crash loses
 * at most one page, and resuming asks for the slice in progress again either way.
 */
export const UPSERTS_PER_DATA_PAGE = 250;
/** The parsing of the next page yields to the event loop this often (ms), to interleave with its write. */
const PARSE_TURN_MS = 4;
/** Bounds a page that only confirms unchanged objects. */
const UNCHANGED_PER_PAGE = 1000;
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';
const NAMESPACES = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"';
/** Guards against a server that keeps answering "truncated" (507) with the same token. */
const MAX_SYNC_ROUNDS = 1000;

interface CollectionState {
  /** Only when the server advertises sync-collection and gave a token. */
  syncToken: string | null;
  ctag: string | null;
}

/** Where a run of pages resumes: the cursor after a given href, and the one for its last page. */
interface PagePlan {
  /** Objects up to this href were covered before a restart: unchanged, not fetched again. */
  after: string | null;
  cursorAfter(key: string | null): SyncCursor;
  last: { cursor: SyncCursor; complete: boolean };
}

export function fetchCollectionChanges(
  client: DavClient,
  input: FetchChangesInput,
  tuning: SliceTuning = DEFAULT_SLICE_TUNING,
): AsyncGenerator<ChangePage> {
  return new CollectionSync(client, input, tuning).run();
}

class CollectionSync {
  readonly #client: DavClient;
  readonly #input: FetchChangesInput;
  readonly #tuning: SliceTuning;
  readonly #collection: string;
  readonly #collectionPath: string;
  readonly #window: WindowKey;
  /** href → server ETag of every object this listing has put in a page (an object spans slices). */
  readonly #taken = new Map<string, string | null>();

  constructor(client: DavClient, input: FetchChangesInput, tuning: SliceTuning) {
    this.#client = client;
    this.#input = input;
    this.#tuning = tuning;
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
      yield* this.#full(await this.#readState());
    } else if (cursor.phase === 'full') {
      yield* cursor.slice
        ? this.#slices(cursor, { start: Date.parse(cursor.slice.start), end: Date.parse(cursor.slice.end) })
        : this.#listThenMultiget(cursor, await this.#listWindow(this.#wholeWindow()), cursor.after);
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
          cursor: this.#cursor('incremental', cursor),
          complete: true,
        };
      } else {
        yield* this.#full(state);
      }
    }
  }

  /** A new full listing: by slices when most of it is to be fetched, else by ETag and multiget. */
  async *#full(state: CollectionState): AsyncGenerator<ChangePage> {
    const start = this.#input.window.start.getTime();
    if (this.#input.known.size === 0) {
      yield* this.#slices(state, firstSlice(this.#input.window, start, this.#tuning));
      return;
    }
    const listed = await this.#listWindow(this.#wholeWindow());
    const toFetch = listed.filter((item) => !holdsCurrent(this.#input.known, item, this.#input.window));
    if (toFetch.length <= this.#tuning.multigetAtMost) {
      yield* this.#listThenMultiget(state, listed, null);
    } else {
      yield* this.#slices(state, firstSlice(this.#input.window, start, this.#tuning));
    }
  }

  async *#listThenMultiget(
    state: CollectionState,
    listed: Listed[],
    after: string | null,
  ): AsyncGenerator<ChangePage> {
    yield* this.#pages(listed, {
      after,
      cursorAfter: (key) => this.#cursor('full', state, { after: key }),
      last: { cursor: this.#cursor('incremental', state), complete: true },
    });
  }

  /** calendar-query with calendar-data, slice after slice, from `from` to the end of the window. */
  async *#slices(
    state: CollectionState & { after?: string | null },
    from: Slice,
  ): AsyncGenerator<ChangePage> {
    const sizer = new SliceSizer(this.#tuning);
    let slice: Slice | null = from;
    let after = state.after ?? null;
    while (slice !== null) {
      const { listed, bytes, done } = await this.#querySlice(slice);
      sizer.record(done, bytes);
      const next = sizer.next(done, this.#input.window);
      const sliceKey = { start: new Date(done.start).toISOString(), end: new Date(done.end).toISOString() };
      const nextKey = next && {
        start: new Date(next.start).toISOString(),
        end: new Date(next.end).toISOString(),
      };
      yield* this.#pages(listed, {
        after,
        cursorAfter: (key) => this.#cursor('full', state, { after: key, slice: sliceKey }),
        last: nextKey
          ? { cursor: this.#cursor('full', state, { after: null, slice: nextKey }), complete: false }
          : { cursor: this.#cursor('incremental', state), complete: true },
      });
      slice = next;
      after = null;
    }
  }

  /**
   * One slice's objects, data included. A response over the cap is asked again for the first half
   * of the slice (`done` says which range was covered); at the smallest slice, the range is listed
   * by ETag and its objects come by multiget.
   */
  async #querySlice(slice: Slice): Promise<{ listed: Listed[]; bytes: number; done: Slice }> {
    let range = slice;
    for (;;) {
      try {
        const listed = await this.#listWindow(range, true);
        const bytes = listed.reduce((sum, item) => sum + (item.data?.length ?? 0), 0);
        return { listed, bytes, done: range };
      } catch (error) {
        if (!(error instanceof ResponseTooLargeError)) throw error;
        const half = firstHalf(range, this.#tuning);
        if (half === null)
          return { listed: await this.#listWindow(range), bytes: error.limitBytes, done: range };
        range = half;
      }
    }
  }

  /**
   * Pages over a listing in href order: objects the consumer holds (or that this listing already
   * took) are unchanged, the others upserted — from the listing's data, or fetched by multiget.
   * The data of the page after the one handed out is parsed while the consumer writes that one.
   */
  async *#pages(listed: Listed[], plan: PagePlan): AsyncGenerator<ChangePage> {
    const batches = this.#batches(listed, plan);
    let parsing = this.#parseAhead(batches[0]?.pending ?? []);
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const parsed = await parsing;
      parsing = this.#parseAhead(batches[i + 1]?.pending ?? []);
      yield {
        full: true,
        upserts: await this.#materialize(batch.pending, parsed),
        unchanged: batch.unchanged,
        removed: [],
        ...(batch.lastKey === null
          ? plan.last
          : { cursor: plan.cursorAfter(batch.lastKey), complete: false }),
      };
    }
  }

  /** How a listing splits into pages; the last batch (lastKey null) ends the listing, possibly empty. */
  #batches(
    listed: Listed[],
    plan: PagePlan,
  ): { pending: Listed[]; unchanged: string[]; lastKey: string | null }[] {
    const batches: { pending: Listed[]; unchanged: string[]; lastKey: string | null }[] = [];
    let pending: Listed[] = [];
    let unchanged: string[] = [];
    let toFetch = 0;
    for (const item of listed) {
      if (this.#taken.has(item.key) && this.#taken.get(item.key) === item.etag) continue;
      this.#taken.set(item.key, item.etag);
      // Covered by pages of this full sync before a crash: upserted then, replayed by the token since.
      if (plan.after !== null && item.key <= plan.after) unchanged.push(item.key);
      else if (holdsCurrent(this.#input.known, item, this.#input.window)) unchanged.push(item.key);
      else {
        pending.push(item);
        if (item.data === null) toFetch += 1;
      }
      if (
        toFetch >= MULTIGET_BATCH ||
        pending.length >= UPSERTS_PER_DATA_PAGE ||
        unchanged.length >= UNCHANGED_PER_PAGE
      ) {
        batches.push({ pending, unchanged, lastKey: item.key });
        pending = [];
        unchanged = [];
        toFetch = 0;
      }
    }
    batches.push({ pending, unchanged, lastKey: null });
    return batches;
  }

  /**
   * The objects of `items` listed with their data, parsed a few milliseconds at a time from the next
   * turn of the event loop on, so that it runs while the consumer writes the page before. Never
   * rejects unawaited: a failure surfaces where the result is awaited.
   */
  #parseAhead(items: Listed[]): Promise<Map<string, SourceObject>> {
    const parsing = (async () => {
      const parsed = new Map<string, SourceObject>();
      if (!items.some((item) => item.data !== null)) return parsed;
      await setImmediate();
      let turn = performance.now();
      for (const item of items) {
        if (item.data === null) continue;
        parsed.set(
          item.key,
          sourceObject(item.key, item.etag, item.data, this.#input.window, this.#input.ownerTimeZone),
        );
        if (performance.now() - turn >= PARSE_TURN_MS) {
          await setImmediate();
          turn = performance.now();
        }
      }
      return parsed;
    })();
    parsing.catch(() => {});
    return parsing;
  }

  /** Objects listed with their data come parsed; the others come by one multiget. */
  async #materialize(items: Listed[], parsed: Map<string, SourceObject>): Promise<SourceObject[]> {
    const withoutData = items.filter((item) => item.data === null).map((item) => item.key);
    const fetched = new Map((await this.#fetchObjects(withoutData)).upserts.map((o) => [o.key, o]));
    const objects: SourceObject[] = [];
    for (const item of items) {
      const object = item.data === null ? fetched.get(item.key) : parsed.get(item.key);
      // Gone by the time we fetched it: not upserted, so the final sweep removes it.
      if (object) objects.push(object);
    }
    return objects;
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
      const roundCursor = this.#cursor('incremental', { ...cursor, syncToken: newToken });
      const restartCursor = this.#cursor('incremental', { ...cursor, syncToken: token });
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

  /**
   * The sync-token where sync-collection is advertised, else the ctag, read before any listing. Not
   * both: on some servers each costs a pass over the whole collection (Radicale: ~0.1 s each at
   * 2,000 objects), and the ctag only matters without a token.
   */
  async #readState(): Promise<CollectionState> {
    const props = await this.#collectionProps({
      'd:sync-token': {},
      'd:supported-report-set': {},
      'd:resourcetype': {},
    });
    if (props.resourcetype !== undefined && !childNames(props.resourcetype).includes('calendar')) {
      throw new NotFoundError(`${this.#where()} is not a calendar collection`);
    }
    const reports = [props.supportedReportSet?.supportedReport]
      .flat()
      .flatMap((r: unknown) => childNames((r as { report?: unknown } | null)?.report));
    const syncToken = reports.includes('syncCollection') ? textOf(props.syncToken) : null;
    if (syncToken !== null) return { syncToken, ctag: null };
    return { syncToken: null, ctag: textOf((await this.#collectionProps({ 'cs:getctag': {} })).getctag) };
  }

  // biome-ignore lint/suspicious/noExplicitAny: tsdav's parsed properties are untyped
  async #collectionProps(props: Record<string, object>): Promise<Record<string, any>> {
    const result = await this.#client.dav(this.#collection, {
      method: 'PROPFIND',
      depth: '0',
      body: propfind(props),
    });
    this.#assertCollectionStatus(result, 'PROPFIND');
    const response =
      result.responses.find((r) => samePath(pathOf(r.href ?? '', result.url), this.#collectionPath)) ??
      result.responses[0];
    return response?.props ?? {};
  }

  #wholeWindow(): Slice {
    return { start: this.#input.window.start.getTime(), end: this.#input.window.end.getTime() };
  }

  /**
   * Every VEVENT object overlapping `range`, sorted by href, collection excluded: (href, etag), and
   * the calendar-data too when `withData`.
   */
  async #listWindow(range: Slice, withData = false): Promise<Listed[]> {
    const result = await this.#client.report(
      this.#collection,
      `${XML_DECLARATION}<c:calendar-query ${NAMESPACES}>` +
        `<d:prop><d:getetag/>${withData ? '<c:calendar-data/>' : ''}</d:prop>` +
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">' +
        `<c:time-range start="${basicUtc(range.start)}" end="${basicUtc(range.end)}"/>` +
        '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>',
    );
    this.#assertCollectionStatus(result, 'calendar-query');
    const byKey = new Map<string, Listed>();
    for (const response of result.responses) {
      if (!response.ok) continue;
      const key = pathOf(response.href, result.url);
      // Some servers (iCloud) list the collection itself among its members.
      if (samePath(key, this.#collectionPath)) continue;
      const data = withData ? (response.props.get('calendar-data') ?? null) : null;
      // A member the server answered for without its data: left to a multiget.
      byKey.set(key, { key, etag: response.props.get('getetag') ?? null, data });
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** calendar-multiget of `keys` (one request); objects gone in the meantime come back as `missing`. */
  async #fetchObjects(keys: string[]): Promise<{ upserts: SourceObject[]; missing: string[] }> {
    if (keys.length === 0) return { upserts: [], missing: [] };
    const result = await this.#client.report(
      this.#collection,
      `${XML_DECLARATION}<c:calendar-multiget ${NAMESPACES}>` +
        '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
        keys.map((key) => `<d:href>${xmlText(key)}</d:href>`).join('') +
        '</c:calendar-multiget>',
    );
    this.#assertCollectionStatus(result, 'calendar-multiget');
    const found = new Map<string, { etag: string | null; data: string }>();
    for (const response of result.responses) {
      if (!response.ok) continue;
      const data = response.props.get('calendar-data');
      if (data === undefined) continue;
      const key = pathOf(response.href, result.url);
      found.set(comparable(key), { etag: response.props.get('getetag') ?? null, data });
    }
    const upserts: SourceObject[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const object = found.get(comparable(key));
      if (!object) missing.push(key);
      else
        upserts.push(
          sourceObject(key, object.etag, object.data, this.#input.window, this.#input.ownerTimeZone),
        );
    }
    return { upserts, missing };
  }

  #assertCollectionStatus(result: { status: number }, what: string): void {
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

  #cursor(
    phase: CalDavCursor['phase'],
    state: CollectionState,
    position: Pick<CalDavCursor, 'after'> & { slice?: CalDavCursor['slice'] } = { after: null },
  ): SyncCursor {
    return writeCursor({
      phase,
      syncToken: state.syncToken,
      ctag: state.ctag,
      window: this.#window,
      after: position.after,
      slice: position.slice ?? null,
    });
  }

  #where(): string {
    const url = new URL(this.#collection);
    return `${url.host}${url.pathname}`;
  }
}
