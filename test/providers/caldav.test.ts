/**
 * The CalDAV adapter against a real Radicale, directly (generic CalDAV) and through the iCloud-shaped
 * proxy (discovery across hosts, up-front auth, collection listed in its own reports, and the knobs:
 * no sync-collection, read-only share, injected statuses, slow answers, request log).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Occurrence, OutboundEvent, TimeWindow } from '../../domain/calendar.ts';
import { createCalDavProvider } from '../../providers/caldav/adapter.ts';
import { UPSERTS_PER_DATA_PAGE } from '../../providers/caldav/sync.ts';
import type { CalendarProvider, ChangePage, ProviderContext, SyncCursor } from '../../providers/contract.ts';
import {
  CredentialsRejectedError,
  CursorExpiredError,
  NotFoundError,
  ProviderUnreachableError,
  RateLimitedError,
  ReadOnlyError,
  TransientProviderError,
} from '../../providers/errors.ts';
import { freePort } from '../../worker/local/ports.ts';
import { calendarScenario } from '../support/calendar-scenario.ts';
import { generateIcsEvent, type IcsEventSpec } from '../support/generate-ics.ts';
import { type ICloudProxy, startICloudProxy } from '../support/icloud-proxy.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { collectPages, Mirror } from './conformance.ts';

const ALICE = { username: 'alice', password: 'alice-pw' };
const ctx: ProviderContext = { requestTimeoutMs: 5000, userAgent: 'Calbridge-test/1.0' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let radicale: Radicale;
let proxy: ICloudProxy;
let slugs = 0;

beforeAll(async () => {
  radicale = await startRadicale({ users: [ALICE] });
  proxy = await startICloudProxy({ upstream: radicale.url });
});
afterAll(async () => {
  await proxy?.stop();
  await radicale?.stop();
});

function caldav(
  serverUrl: string = radicale.url,
  password: string = ALICE.password,
  context: ProviderContext = ctx,
  kind: 'caldav' | 'icloud' = 'caldav',
): CalendarProvider {
  return createCalDavProvider(
    { provider: kind, serverUrl, credentials: { username: ALICE.username, password } },
    context,
  );
}

const icloud = (context: ProviderContext = ctx) => caldav(proxy.url, ALICE.password, context, 'icloud');

/** A fresh calendar; returns its URL on Radicale and the same collection on the partition host. */
async function newCalendar(props: { displayName?: string; color?: string } = {}) {
  const slug = `cal-${++slugs}`;
  const direct = await radicale.createCalendar(ALICE.username, ALICE.password, slug, props);
  return { slug, direct, partition: new URL(new URL(direct).pathname, proxy.partitionUrl).href };
}

const put = (collection: string, name: string, ics: string) =>
  radicale.putEvent(collection, ALICE.username, ALICE.password, name, ics);
const remove = (collection: string, name: string) =>
  radicale.deleteEvent(collection, ALICE.username, ALICE.password, name);

// Whole hours from three days ahead: inside every window below, independent of the clock.
const base = Math.ceil((Date.now() + 3 * DAY) / HOUR) * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR);
const WINDOW: TimeWindow = { start: new Date(base - 5 * DAY), end: new Date(base + 60 * DAY) };
const single = (uid: string, startHour: number, extra: Partial<IcsEventSpec> = {}) =>
  generateIcsEvent({ uid, summary: uid, start: at(startHour), end: at(startHour + 1), ...extra });

async function sync(provider: CalendarProvider, calendarId: string, mirror = new Mirror(), window = WINDOW) {
  const pages = await collectPages(provider, calendarId, window, mirror.cursor, mirror.known());
  mirror.apply(pages);
  return { mirror, pages };
}

const uids = (pages: ChangePage[]) =>
  pages.flatMap((p) => p.upserts.flatMap((o) => o.occurrences.map((x) => x.uid)));
const keysOf = (pages: ChangePage[]) => pages.flatMap((p) => p.upserts.map((o) => o.key));

function expectCursorPhase(cursor: SyncCursor | null, phase: string) {
  expect((cursor as { phase?: string } | null)?.phase).toBe(phase);
}

describe('discovery and access', () => {
  it('verifies access and lists only VEVENT calendar collections, with names, colours and rights', async () => {
    const work = await newCalendar({ displayName: 'Work', color: '#FF8800FF' });
    const bare = await newCalendar();
    // A tasks-only calendar is not a calendar we can import.
    const tasks = new URL(`/${ALICE.username}/tasks-${slugs}/`, radicale.url).href;
    const mk = await fetch(tasks, {
      method: 'MKCALENDAR',
      headers: {
        Authorization: `Basic ${Buffer.from(`${ALICE.username}:${ALICE.password}`).toString('base64')}`,
      },
      body: '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>',
    });
    expect(mk.status).toBe(201);

    const provider = caldav();
    expect(provider.kind).toBe('caldav');
    expect(await provider.verifyAccess()).toEqual({ accountEmail: ALICE.username });
    const calendars = await provider.listCalendars();
    expect(calendars.find((c) => c.externalId === work.direct)).toEqual({
      externalId: work.direct,
      name: 'Work',
      color: '#FF8800',
      readOnly: false,
      providerPrimary: false,
    });
    // Without a displayname Radicale reports its own ("alice/cal-2"); we pass it through.
    expect(calendars.find((c) => c.externalId === bare.direct)).toMatchObject({
      name: expect.stringContaining(bare.slug),
      color: null,
    });
    const ids = calendars.map((c) => c.externalId);
    expect(ids).not.toContain(tasks);
    // The home collection (/alice/) comes back in the Depth 1 listing and is not a calendar.
    expect(ids).not.toContain(new URL(`/${ALICE.username}/`, radicale.url).href);
    expect(ids.every((id) => id.startsWith(radicale.url) && id.endsWith('/'))).toBe(true);
  });

  it('discovers an iCloud-style account across hosts, sending credentials up front', async () => {
    const work = await newCalendar({ displayName: 'iCloud Work', color: '#1BADF8' });
    await put(work.direct, 'first.ics', single('first@t', 5));
    proxy.requests.length = 0;
    proxy.defaultCalendarPath = new URL(work.partition).pathname;
    try {
      const provider = icloud();
      expect(provider.kind).toBe('icloud');
      expect(await provider.verifyAccess()).toEqual({ accountEmail: ALICE.username });
      const calendars = await provider.listCalendars();
      // Calendars live on the partition host named by the home set, not on the discovery host.
      expect(calendars.every((c) => c.externalId.startsWith(proxy.partitionUrl))).toBe(true);
      const listed = calendars.find((c) => c.externalId === work.partition);
      expect(listed).toMatchObject({ name: 'iCloud Work', color: '#1BADF8', providerPrimary: true });
      expect(calendars.filter((c) => c.providerPrimary)).toHaveLength(1);

      const { mirror } = await sync(provider, work.partition);
      expect(mirror.occurrences().map((o) => o.uid)).toEqual(['first@t']);

      const front = proxy.requests.filter((r) => r.host === 'front').map((r) => `${r.method} ${r.path}`);
      expect(front).toEqual([
        'PROPFIND /.well-known/caldav',
        'PROPFIND /',
        expect.stringMatching(/^PROPFIND \/\d+\/principal\/$/),
      ]);
      // Every request carried Basic credentials: the proxy answers anything else with a
      // non-Basic challenge, which no fetch-level retry could have satisfied.
      expect(proxy.requests.filter((r) => r.host === 'partition').length).toBeGreaterThan(3);
    } finally {
      proxy.defaultCalendarPath = null;
    }
  });

  it('falls back to the given URL when /.well-known/caldav fails', async () => {
    proxy.requests.length = 0;
    proxy.failNext({ status: 404, method: 'PROPFIND' });
    const provider = caldav(new URL(`/${ALICE.username}/`, proxy.partitionUrl).href);
    expect(await provider.verifyAccess()).toEqual({ accountEmail: ALICE.username });
    expect(proxy.requests.slice(0, 2).map((r) => r.path)).toEqual([
      '/.well-known/caldav',
      `/${ALICE.username}/`,
    ]);
    expect((await provider.listCalendars()).length).toBeGreaterThan(0);
  });

  it('rejects a wrong password with CredentialsRejectedError, directly and on iCloud', async () => {
    await expect(caldav(radicale.url, 'wrong').verifyAccess()).rejects.toBeInstanceOf(
      CredentialsRejectedError,
    );
    await expect(caldav(proxy.url, 'wrong', ctx, 'icloud').verifyAccess()).rejects.toBeInstanceOf(
      CredentialsRejectedError,
    );
    const work = await newCalendar();
    await expect(
      collectPages(caldav(radicale.url, 'wrong'), work.direct, WINDOW, null),
    ).rejects.toBeInstanceOf(CredentialsRejectedError);
    await expect(caldav(radicale.url, '').verifyAccess()).rejects.toBeInstanceOf(CredentialsRejectedError);
  });

  it('sees a changed password at once (htpasswd is re-read on every request)', async () => {
    const bob = { username: 'bob', password: 'bob-1' };
    await radicale.setPassword(bob.username, bob.password);
    const as = (password: string) =>
      createCalDavProvider(
        { provider: 'caldav', serverUrl: radicale.url, credentials: { username: 'bob', password } },
        ctx,
      );
    const before = as('bob-1');
    await before.verifyAccess();
    await radicale.setPassword(bob.username, 'bob-2');
    await expect(as('bob-1').verifyAccess()).rejects.toBeInstanceOf(CredentialsRejectedError);
    await expect(before.listCalendars()).rejects.toBeInstanceOf(CredentialsRejectedError);
    expect(await as('bob-2').verifyAccess()).toEqual({ accountEmail: 'bob' });
  });

  it('reports refused connections, unknown hosts and timeouts as ProviderUnreachableError', async () => {
    const closedPort = await freePort();
    await expect(caldav(`http://127.0.0.1:${closedPort}/`).verifyAccess()).rejects.toBeInstanceOf(
      ProviderUnreachableError,
    );
    await expect(
      caldav('http://calbridge-test.invalid/', ALICE.password, {
        ...ctx,
        requestTimeoutMs: 2000,
      }).verifyAccess(),
    ).rejects.toBeInstanceOf(ProviderUnreachableError);

    const work = await newCalendar();
    proxy.delayMs = 1500;
    try {
      const started = Date.now();
      const slow = caldav(radicale.url, ALICE.password, { ...ctx, requestTimeoutMs: 200 });
      await expect(collectPages(slow, work.partition, WINDOW, null)).rejects.toBeInstanceOf(
        ProviderUnreachableError,
      );
      expect(Date.now() - started).toBeLessThan(1400);
    } finally {
      proxy.delayMs = 0;
    }
  });

  it('maps 429/503 with Retry-After, other 5xx and a missing calendar to typed errors', async () => {
    const work = await newCalendar();
    const provider = caldav();
    const fetchOnce = () => collectPages(provider, work.partition, WINDOW, null);

    proxy.failNext({ status: 429, headers: { 'Retry-After': '7' } });
    const limited = await fetchOnce().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(7000);

    proxy.failNext({ status: 503, headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() } });
    const unavailable = await fetchOnce().catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(RateLimitedError);
    expect((unavailable as RateLimitedError).retryAfterMs).toBeGreaterThan(20_000);

    proxy.failNext({ status: 503 });
    await expect(fetchOnce()).rejects.toBeInstanceOf(TransientProviderError);
    proxy.failNext({ status: 502 });
    await expect(fetchOnce()).rejects.toBeInstanceOf(TransientProviderError);
    proxy.failNext({
      status: 401,
      headers: { 'WWW-Authenticate': 'X-MobileMe-AuthToken realm="Newcastle"' },
    });
    await expect(fetchOnce()).rejects.toBeInstanceOf(CredentialsRejectedError);

    const gone = new URL(`/${ALICE.username}/no-such-calendar/`, radicale.url).href;
    await expect(collectPages(provider, gone, WINDOW, null)).rejects.toBeInstanceOf(NotFoundError);
    // And after all that, the calendar still syncs.
    expect((await fetchOnce()).at(-1)?.complete).toBe(true);
  });
});

describe('import', () => {
  it('imports a series with a moved and a deleted occurrence, all-day, transparent and TZID events exactly', async () => {
    const scenario = calendarScenario();
    const work = await newCalendar({ displayName: 'Scenario' });
    for (const o of scenario.objects) await put(work.direct, `${o.name}.ics`, o.ics);
    const window = { start: new Date(Date.now() - DAY), end: new Date(Date.now() + 60 * DAY) };

    const { mirror, pages } = await sync(caldav(), work.direct, new Mirror(), window);
    expect(pages.at(-1)?.complete).toBe(true);
    const got = mirror.occurrences().map((o: Occurrence) => ({
      start: o.start.toISOString(),
      end: o.end.toISOString(),
      allDay: o.allDay,
      busy: o.busy,
      title: o.title,
    }));
    expect(got).toEqual(scenario.expected);
    // The cancelled event is listed (its object exists) but imports as nothing.
    const cancelledKey = new URL('cancelled.ics', work.direct).pathname;
    expect(mirror.objects.get(cancelledKey)?.occurrences).toEqual([]);
    // The moved occurrence keeps the key of the slot it was moved from.
    const moved = mirror.occurrences().find((o) => o.title === 'Weekly standup (moved)');
    expect(moved?.occurrenceKey).toBe(scenario.specs.moved.recurrenceId?.toISOString());
    expect(mirror.occurrences().every((o) => o.calbridgeId === null)).toBe(true);
  });

  it('keeps resources whose names do not end in .ics, in full and incremental syncs', async () => {
    const work = await newCalendar();
    await put(work.direct, 'no-extension', single('noext@t', 3));
    await put(work.direct, 'odd name@1', single('odd@t', 4));
    await put(work.direct, 'plain.ics', single('plain@t', 5));
    const provider = caldav();
    const { mirror } = await sync(provider, work.direct);
    expect(mirror.occurrences().map((o) => o.uid)).toEqual(['noext@t', 'odd@t', 'plain@t']);
    const keys = [...mirror.objects.keys()];
    expect(keys.filter((k) => !k.endsWith('.ics'))).toHaveLength(2);

    await put(work.direct, 'no-extension', single('noext@t', 10));
    await remove(work.direct, 'odd name@1');
    const { pages } = await sync(provider, work.direct, mirror);
    expect(pages.every((p) => !p.full)).toBe(true);
    expect(keysOf(pages)).toEqual([new URL('no-extension', work.direct).pathname]);
    expect(pages.flatMap((p) => p.removed)).toEqual([keys.find((k) => k.includes('odd'))]);
    expect(mirror.occurrences().map((o) => [o.uid, o.start.toISOString()])).toEqual([
      ['plain@t', at(5).toISOString()],
      ['noext@t', at(10).toISOString()],
    ]);
  });

  it('syncs incrementally with sync-collection: adds, moves and deletes, nothing else', async () => {
    const work = await newCalendar();
    for (let i = 0; i < 5; i++) await put(work.direct, `e${i}.ics`, single(`e${i}@t`, 10 * i));
    const provider = caldav();
    const { mirror } = await sync(provider, work.partition);
    const cursor = mirror.cursor as { phase: string; syncToken: string | null };
    expect(cursor.phase).toBe('incremental');
    expect(cursor.syncToken).toMatch(/^http:\/\/radicale\.org\/ns\/sync\//);

    proxy.requests.length = 0;
    const quiet = await sync(provider, work.partition, mirror);
    expect(quiet.pages).toEqual([
      { full: false, upserts: [], unchanged: [], removed: [], cursor: expect.anything(), complete: true },
    ]);

    await put(work.direct, 'added.ics', single('added@t', 7));
    await put(work.direct, 'e1.ics', single('e1@t', 100));
    await remove(work.direct, 'e3.ics');
    // An event moved out of the window is still reported, with no occurrences.
    await put(work.direct, 'e4.ics', single('e4@t', 24 * 200));
    proxy.requests.length = 0;
    const { pages } = await sync(provider, work.partition, mirror);
    expect(pages.every((p) => !p.full)).toBe(true);
    expect(new Set(uids(pages))).toEqual(new Set(['added@t', 'e1@t']));
    expect(new Set(keysOf(pages))).toEqual(
      new Set(['added.ics', 'e1.ics', 'e4.ics'].map((n) => new URL(n, work.direct).pathname)),
    );
    expect(pages.flatMap((p) => p.removed)).toEqual([new URL('e3.ics', work.direct).pathname]);
    const reports = proxy.requests.filter((r) => r.method === 'REPORT');
    expect(
      reports.map((r) =>
        /sync-collection/.test(r.body) ? 'sync' : /multiget/.test(r.body) ? 'get' : 'query',
      ),
    ).toEqual(['sync', 'get']);
    expect(mirror.occurrences().map((o) => [o.uid, o.start.toISOString()])).toEqual([
      ['e0@t', at(0).toISOString()],
      ['added@t', at(7).toISOString()],
      ['e2@t', at(20).toISOString()],
      ['e1@t', at(100).toISOString()],
    ]);
  });

  it('throws CursorExpiredError for a rejected or forgotten sync token', async () => {
    const work = await newCalendar();
    await put(work.direct, 'a.ics', single('a@t', 1));
    const provider = caldav();
    const { mirror } = await sync(provider, work.direct);
    const cursor = mirror.cursor as Record<string, unknown>;

    const malformed = { ...cursor, syncToken: 'http://radicale.org/ns/sync/not-a-token' };
    await expect(collectPages(provider, work.direct, WINDOW, malformed)).rejects.toBeInstanceOf(
      CursorExpiredError,
    );

    await put(work.direct, 'b.ics', single('b@t', 2));
    await radicale.forgetSyncTokens(work.direct);
    await expect(collectPages(provider, work.direct, WINDOW, cursor, mirror.known())).rejects.toBeInstanceOf(
      CursorExpiredError,
    );
    // The engine's answer, a full sync from scratch, works and keeps what it already had.
    const resync = await collectPages(provider, work.direct, WINDOW, null, mirror.known());
    expect(uids(resync)).toEqual(['b@t']);
    expect(resync.flatMap((p) => p.unchanged)).toEqual([new URL('a.ics', work.direct).pathname]);
  });

  it('resumes an interrupted full sync after its last page without importing done batches again', async () => {
    const work = await newCalendar();
    const names = Array.from(
      { length: 2 * UPSERTS_PER_DATA_PAGE + 30 },
      (_, i) => `bulk-${String(i).padStart(3, '0')}.ics`,
    );
    await radicale.seedEvents(
      work.direct,
      names.map((n, i) => ({ name: n, ics: single(`${n}@t`, i) })),
    );
    const provider = caldav();
    const original = await collectPages(provider, work.partition, WINDOW, null);
    expect(original.map((p) => [p.upserts.length, p.complete])).toEqual([
      [UPSERTS_PER_DATA_PAGE, false],
      [UPSERTS_PER_DATA_PAGE, false],
      [30, true],
    ]);
    expectCursorPhase(original[0]?.cursor ?? null, 'full');

    // Crash after page 1 was applied: resume from its cursor. `known` is left empty on purpose, so
    // only the cursor can keep the first batch from being imported again.
    proxy.requests.length = 0;
    const firstBatch = keysOf(original.slice(0, 1));
    const resumed = await collectPages(provider, work.partition, WINDOW, original[0]?.cursor ?? null);
    expect(keysOf(resumed)).toEqual(keysOf(original.slice(1)));
    expect(new Set(resumed.flatMap((p) => p.unchanged))).toEqual(new Set(firstBatch));
    expect(resumed.at(-1)?.complete).toBe(true);
    expectCursorPhase(resumed.at(-1)?.cursor ?? null, 'incremental');
    // The slice in progress (here the whole window) is asked for once more, data included: no
    // multiget, and nothing listed before the crash is upserted again.
    const reports = proxy.requests.filter((r) => r.method === 'REPORT');
    expect(reports.map((r) => /calendar-query/.test(r.body) && /calendar-data/.test(r.body))).toEqual([true]);
    expect(keysOf(resumed).filter((key) => firstBatch.includes(key))).toEqual([]);

    const mirror = new Mirror();
    mirror.apply(original.slice(0, 1));
    mirror.apply(resumed, true);
    expect(mirror.objects.size).toBe(2 * UPSERTS_PER_DATA_PAGE + 30);
  });

  it('falls back to the ctag where the server has no sync-collection', async () => {
    const work = await newCalendar();
    for (let i = 0; i < 3; i++) await put(work.direct, `c${i}.ics`, single(`c${i}@t`, i));
    proxy.noSyncCollection = true;
    proxy.requests.length = 0;
    try {
      const provider = caldav();
      const { mirror } = await sync(provider, work.partition);
      const cursor = mirror.cursor as { syncToken: unknown; ctag: unknown };
      expect(cursor.syncToken).toBeNull();
      expect(typeof cursor.ctag).toBe('string');

      const quiet = await sync(provider, work.partition, mirror);
      expect(quiet.pages).toHaveLength(1);
      expect(quiet.pages[0]).toMatchObject({ full: false, upserts: [], removed: [], complete: true });

      await put(work.direct, 'c3.ics', single('c3@t', 3));
      await put(work.direct, 'c0.ics', single('c0@t', 30));
      await remove(work.direct, 'c1.ics');
      const { pages } = await sync(provider, work.partition, mirror);
      expect(pages.every((p) => p.full)).toBe(true);
      expect(new Set(uids(pages))).toEqual(new Set(['c0@t', 'c3@t']));
      expect(pages.flatMap((p) => p.unchanged)).toEqual([new URL('c2.ics', work.direct).pathname]);
      expect(mirror.occurrences().map((o) => o.uid)).toEqual(['c2@t', 'c3@t', 'c0@t']);
      expect(proxy.requests.some((r) => /sync-collection/.test(r.body))).toBe(false);
    } finally {
      proxy.noSyncCollection = false;
    }
  });

  it('re-expands series (but not plain events) when the window moves', async () => {
    const work = await newCalendar();
    await put(
      work.direct,
      'weekly.ics',
      generateIcsEvent({
        uid: 'weekly@t',
        summary: 'Weekly',
        start: at(0),
        end: at(1),
        rrule: 'FREQ=WEEKLY;COUNT=20',
      }),
    );
    await put(work.direct, 'plain.ics', single('plain@t', 2));
    const provider = caldav();
    const first = { start: new Date(base - DAY), end: new Date(base + 15 * DAY) };
    const { mirror } = await sync(provider, work.direct, new Mirror(), first);
    expect(mirror.occurrences().filter((o) => o.uid === 'weekly@t')).toHaveLength(3);

    // The engine rolls its window daily and then lists fully with what it holds as `known`.
    const later = { start: new Date(base + 6 * DAY), end: new Date(base + 30 * DAY) };
    const rolled = await collectPages(provider, work.direct, later, null, mirror.known());
    expect(uids(rolled).filter((u) => u === 'weekly@t').length).toBeGreaterThan(0);
    expect(rolled.flatMap((p) => p.unchanged)).toEqual([]);
    // An incremental cursor from the old window is not continued either.
    const fromOldCursor = await collectPages(provider, work.direct, later, mirror.cursor, mirror.known());
    expect(fromOldCursor.every((p) => p.full)).toBe(true);
    mirror.apply(rolled);
    expect(mirror.occurrences().filter((o) => o.uid === 'weekly@t')).toHaveLength(4);

    // Same window again: both unchanged.
    const again = await collectPages(provider, work.direct, later, null, mirror.known());
    expect(again.flatMap((p) => p.upserts)).toEqual([]);
  });
});

describe('writes', () => {
  const booking = (id: string, startHour: number, sequence: number): OutboundEvent => ({
    id,
    title: 'Intro call',
    description: 'Booked via Calbridge',
    start: at(startHour),
    end: at(startHour + 0.5),
    timeZone: 'America/New_York',
    organizer: { name: 'Alice', email: 'alice@example.com' },
    attendees: [{ name: 'Guest', email: 'guest@example.com' }],
    sequence,
  });
  const auth = {
    Authorization: `Basic ${Buffer.from(`${ALICE.username}:${ALICE.password}`).toString('base64')}`,
  };
  const read = async (url: string) => {
    const response = await fetch(url, { headers: auth });
    return { status: response.status, text: await response.text(), etag: response.headers.get('etag') };
  };

  it('creates <id>.ics with a deterministic UID, our marker and SEQUENCE, once', async () => {
    const work = await newCalendar();
    const provider = caldav();
    const id = '0b7e6c1e-2f0c-4a51-9d55-1a2b3c4d5e6f';
    const ref = await provider.createEvent({ externalId: work.direct }, booking(id, 20, 3));
    expect(ref.externalId).toBe(new URL(`${id}.ics`, work.direct).pathname);
    const stored = await read(new URL(ref.externalId, radicale.url).href);
    expect(stored.etag).toBe(ref.etag);
    const unfolded = stored.text.replace(/\r\n[ \t]/g, '');
    expect(unfolded).toContain(`UID:${id}@calbridge\r\n`);
    expect(unfolded).toContain(`X-CALBRIDGE-ID:${id}\r\n`);
    expect(unfolded).toContain('SEQUENCE:3\r\n');
    expect(unfolded).toContain('DTSTART;TZID=America/New_York:');
    expect(unfolded).toContain('BEGIN:VTIMEZONE');
    expect(unfolded).toContain('SCHEDULE-AGENT=CLIENT');
    expect(unfolded).not.toContain('METHOD:');

    // The retry of a create whose answer was lost returns the first event.
    const retried = await provider.createEvent({ externalId: work.direct }, booking(id, 20, 3));
    expect(retried).toEqual(ref);
    const { mirror } = await sync(provider, work.direct);
    expect(mirror.occurrences().map((o) => [o.calbridgeId, o.start.toISOString()])).toEqual([
      [id, at(20).toISOString()],
    ]);
  });

  it('finds its event by UID when the UID already lives under another name (no-uid-conflict)', async () => {
    const work = await newCalendar();
    const provider = caldav();
    const id = 'renamed-1';
    // Our event, stored under a name another client chose.
    await put(work.direct, 'renamed-by-client.ics', single(`${id}@calbridge`, 20, { calbridgeId: id }));
    const ref = await provider.createEvent({ externalId: work.direct }, booking(id, 20, 0));
    expect(ref.externalId).toBe(new URL('renamed-by-client.ics', work.direct).pathname);
    expect(ref.etag).toBe((await read(new URL(ref.externalId, radicale.url).href)).etag);
    const { mirror } = await sync(provider, work.direct);
    expect(mirror.objects.size).toBe(1);
  });

  it('updates over a stale ETag (our event wins), and reports an event deleted meanwhile', async () => {
    const work = await newCalendar();
    const provider = caldav();
    const id = 'stale-etag-1';
    const ref = await provider.createEvent({ externalId: work.direct }, booking(id, 20, 0));
    // Someone's client touches our event: the ETag we hold is stale.
    await put(work.direct, `${id}.ics`, single(`${id}@calbridge`, 21, { calbridgeId: id, sequence: 0 }));
    const updated = await provider.updateEvent({ externalId: work.direct }, ref, booking(id, 30, 1));
    expect(updated.externalId).toBe(ref.externalId);
    expect(updated.etag).not.toBe(ref.etag);
    const stored = await read(new URL(ref.externalId, radicale.url).href);
    expect(stored.text).toContain('SEQUENCE:1');
    expect(stored.etag).toBe(updated.etag);

    await remove(work.direct, `${id}.ics`);
    await expect(
      provider.updateEvent({ externalId: work.direct }, updated, booking(id, 40, 2)),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes over a stale ETag, and deleting twice succeeds', async () => {
    const work = await newCalendar();
    const provider = caldav();
    const ref = await provider.createEvent({ externalId: work.direct }, booking('to-delete', 20, 0));
    await put(work.direct, 'to-delete.ics', single('to-delete@calbridge', 22, { calbridgeId: 'to-delete' }));
    await provider.deleteEvent({ externalId: work.direct }, ref);
    expect((await read(new URL(ref.externalId, radicale.url).href)).status).toBe(404);
    await provider.deleteEvent({ externalId: work.direct }, ref);
    await provider.deleteEvent({ externalId: work.direct }, { ...ref, etag: null });
  });

  it('writes through the iCloud partition host and refuses writes to a read-only share', async () => {
    const work = await newCalendar();
    const provider = icloud();
    const ref = await provider.createEvent({ externalId: work.partition }, booking('icloud-write', 20, 0));
    expect((await read(new URL(ref.externalId, radicale.url).href)).status).toBe(200);

    proxy.readOnly = true;
    try {
      const calendar = (await provider.listCalendars()).find((c) => c.externalId === work.partition);
      expect(calendar?.readOnly).toBe(true);
      await expect(
        provider.createEvent({ externalId: work.partition }, booking('icloud-ro', 20, 0)),
      ).rejects.toBeInstanceOf(ReadOnlyError);
      await expect(
        provider.updateEvent({ externalId: work.partition }, ref, booking('icloud-write', 25, 1)),
      ).rejects.toBeInstanceOf(ReadOnlyError);
      await expect(provider.deleteEvent({ externalId: work.partition }, ref)).rejects.toBeInstanceOf(
        ReadOnlyError,
      );
    } finally {
      proxy.readOnly = false;
    }
  });
});
