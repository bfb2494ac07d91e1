import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Occurrence } from '../../domain/calendar.ts';
import type {
  CalendarProvider,
  ChangePage,
  FetchChangesInput,
  ProviderContext,
} from '../../providers/contract.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  NotFoundError,
  ProviderUnreachableError,
  RateLimitedError,
  ReadOnlyError,
  TransientProviderError,
} from '../../providers/errors.ts';
import { createIcsProvider } from '../../providers/ics/adapter.ts';
import { freePort } from '../../worker/local/ports.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ics/${name}`, import.meta.url), 'utf8');
const BASIC = fixture('basic.ics');
const HTML = fixture('not-a-calendar.html');

/** See test/fixtures/ics/README.md. */
const MARCH = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };
const ctx: ProviderContext = { requestTimeoutMs: 2000, userAgent: 'Calbridge-test/1.0' };

let server: IcsServer;

beforeAll(async () => {
  server = await startIcsServer();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => {
  server.requests.length = 0;
});

function provider(path: string, context: ProviderContext = ctx): CalendarProvider {
  return createIcsProvider(
    { provider: 'ics', serverUrl: null, credentials: { url: server.url(path) } },
    context,
  );
}

async function calendarOf(p: CalendarProvider): Promise<{ externalId: string }> {
  const [calendar] = await p.listCalendars();
  if (!calendar) throw new Error('no calendar');
  return { externalId: calendar.externalId };
}

async function pages(p: CalendarProvider, input: Partial<FetchChangesInput> = {}): Promise<ChangePage[]> {
  const result: ChangePage[] = [];
  const full: FetchChangesInput = {
    calendar: input.calendar ?? (await calendarOf(p)),
    window: input.window ?? MARCH,
    cursor: input.cursor ?? null,
    known: input.known ?? new Map(),
  };
  server.requests.length = 0;
  for await (const page of p.fetchChanges(full)) result.push(page);
  return result;
}

async function onePage(p: CalendarProvider, input: Partial<FetchChangesInput> = {}): Promise<ChangePage> {
  const result = await pages(p, input);
  expect(result).toHaveLength(1);
  return result[0] as ChangePage;
}

function occ(
  uid: string,
  key: string,
  start: string,
  end: string,
  extra: Partial<Occurrence> = {},
): Occurrence {
  return {
    occurrenceKey: key,
    uid,
    start: new Date(start),
    end: new Date(end),
    allDay: false,
    busy: true,
    status: 'confirmed',
    title: null,
    calbridgeId: null,
    ...extra,
  };
}

const STANDUP = 'weekly-standup@calbridge.test';
const EXPECTED: Record<string, Occurrence[]> = {
  [STANDUP]: [
    occ(STANDUP, '2025-03-03T14:00:00.000Z', '2025-03-03T14:00:00Z', '2025-03-03T14:30:00Z', {
      title: 'Team standup',
    }),
    occ(STANDUP, '2025-03-10T13:00:00.000Z', '2025-03-10T13:00:00Z', '2025-03-10T13:30:00Z', {
      title: 'Team standup',
    }),
    occ(STANDUP, '2025-03-24T13:00:00.000Z', '2025-03-25T15:00:00Z', '2025-03-25T15:30:00Z', {
      title: 'Team standup (moved to Tuesday)',
    }),
    occ(STANDUP, '2025-03-31T13:00:00.000Z', '2025-03-31T13:00:00Z', '2025-03-31T13:30:00Z', {
      title: 'Team standup',
    }),
  ],
  'offsite@calbridge.test': [
    occ('offsite@calbridge.test', '', '2025-03-12T00:00:00Z', '2025-03-14T00:00:00Z', {
      allDay: true,
      title: 'Team offsite',
    }),
  ],
  'focus-time@calbridge.test': [
    occ('focus-time@calbridge.test', '', '2025-03-05T13:00:00Z', '2025-03-05T15:00:00Z', {
      busy: false,
      title: 'Focus time',
    }),
  ],
  'cancelled-review@calbridge.test': [],
  'berlin-workshop@calbridge.test': [
    occ('berlin-workshop@calbridge.test', '', '2025-03-20T09:00:00Z', '2025-03-20T10:30:00Z', {
      title: 'Workshop in Berlin',
    }),
  ],
  'tentative-1on1@calbridge.test': [
    occ('tentative-1on1@calbridge.test', '', '2025-03-07T16:00:00Z', '2025-03-07T16:30:00Z', {
      status: 'tentative',
      title: '1:1 (maybe)',
    }),
  ],
};

describe('ICS provider: access and calendars', () => {
  it('verifies a feed and lists exactly one read-only calendar', async () => {
    server.setFeed('/basic.ics', BASIC);
    const p = provider('/basic.ics');
    expect(p.kind).toBe('ics');
    expect(p.push).toBeUndefined();
    await expect(p.verifyAccess()).resolves.toEqual({ accountEmail: null });
    expect(server.requests[0]?.headers['user-agent']).toBe('Calbridge-test/1.0');

    const calendars = await p.listCalendars();
    expect(calendars).toEqual([
      {
        externalId: 'ics:feed',
        name: 'Calbridge Test Feed',
        color: '#1BADF8',
        readOnly: true,
        providerPrimary: false,
      },
    ]);
    const again = await provider('/basic.ics').listCalendars();
    expect(again[0]?.externalId).toBe(calendars[0]?.externalId);
    // One calendar per feed, whatever its URL: a rotated URL (new secret token) is the same calendar.
    server.setFeed('/other.ics', BASIC);
    expect((await provider('/other.ics').listCalendars())[0]?.externalId).toBe(calendars[0]?.externalId);
  });

  it('names a calendar without X-WR-CALNAME after the host', async () => {
    server.setFeed('/unnamed.ics', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n');
    const [calendar] = await provider('/unnamed.ics').listCalendars();
    expect(calendar).toMatchObject({ name: '127.0.0.1', color: null });
  });

  it('treats webcal:// as https://, prefers credentials.url, falls back to serverUrl', async () => {
    // .invalid never resolves (RFC 2606): the fetch fails on DNS, after the calendar id check passed.
    const https = 'https://feeds.invalid/u/secret-token/basic.ics';
    const id = 'ics:feed';
    for (const url of [https, 'webcal://feeds.invalid/u/secret-token/basic.ics']) {
      const p = createIcsProvider({ provider: 'ics', serverUrl: null, credentials: { url } }, ctx);
      await expect(pages(p, { calendar: { externalId: id } })).rejects.toBeInstanceOf(
        ProviderUnreachableError,
      );
    }

    server.setFeed('/basic.ics', BASIC);
    const viaServerUrl = createIcsProvider(
      { provider: 'ics', serverUrl: server.url('/basic.ics'), credentials: {} },
      ctx,
    );
    const viaCredentials = createIcsProvider(
      {
        provider: 'ics',
        serverUrl: 'http://127.0.0.1:9/unused',
        credentials: { url: server.url('/basic.ics') },
      },
      ctx,
    );
    const [a] = await viaServerUrl.listCalendars();
    const [b] = await viaCredentials.listCalendars();
    expect(a?.externalId).toBe(b?.externalId);
    expect(a?.externalId).not.toContain('basic');
  });

  it('refuses a connection without a usable URL', async () => {
    const none = createIcsProvider({ provider: 'ics', serverUrl: null, credentials: {} }, ctx);
    await expect(none.verifyAccess()).rejects.toBeInstanceOf(InvalidDataError);
    const ftp = createIcsProvider(
      { provider: 'ics', serverUrl: null, credentials: { url: 'ftp://x/y.ics' } },
      ctx,
    );
    await expect(ftp.verifyAccess()).rejects.toBeInstanceOf(InvalidDataError);
  });

  it('sends user-info in the URL as Basic auth', async () => {
    server.setFeed('/private.ics', BASIC);
    const url = server.url('/private.ics').replace('http://', 'http://alice:s%40cret@');
    const p = createIcsProvider({ provider: 'ics', serverUrl: null, credentials: { url } }, ctx);
    await p.verifyAccess();
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('alice:s@cret').toString('base64')}`,
    );
  });
});

describe('ICS provider: fetchChanges', () => {
  it('imports every case of basic.ics exactly, in one complete full page', async () => {
    server.setFeed('/basic.ics', BASIC);
    const page = await onePage(provider('/basic.ics'));
    expect(page).toMatchObject({ full: true, complete: true, removed: [], unchanged: [] });
    expect(Object.fromEntries(page.upserts.map((o) => [o.key, o.occurrences]))).toEqual(EXPECTED);
    for (const object of page.upserts) expect(object.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(page.cursor).toEqual({
      etag: expect.stringMatching(/^".+"$/),
      lastModified: expect.any(String),
      fetchedAt: expect.any(String),
      window: { start: MARCH.start.toISOString(), end: MARCH.end.toISOString() },
    });
  });

  it('answers a 304 with no upserts and every known key unchanged', async () => {
    server.setFeed('/basic.ics', BASIC);
    const p = provider('/basic.ics');
    const first = await onePage(p);
    // A key that only the consumer holds is reported unchanged only on the 304 path, which never
    // looks at the feed (a 200 listing would leave it out).
    const known = new Map([...first.upserts.map((o) => [o.key, o.etag] as const), ['only-known@test', 'x']]);

    const second = await onePage(p, { cursor: first.cursor, known });
    const request = server.requests.at(-1);
    expect(request?.headers['if-none-match']).toBe(first.cursor.etag);
    expect(request?.headers['if-modified-since']).toBe(first.cursor.lastModified);
    expect(second.upserts).toEqual([]);
    expect([...second.unchanged].sort()).toEqual([...known.keys()].sort());
    expect(second).toMatchObject({ full: true, complete: true, removed: [] });
    expect(second.cursor).toMatchObject({ etag: first.cursor.etag, lastModified: first.cursor.lastModified });
  });

  it('upserts only the UIDs that changed', async () => {
    server.setFeed('/changing.ics', BASIC);
    const p = provider('/changing.ics');
    const first = await onePage(p);
    const known = new Map(first.upserts.map((o) => [o.key, o.etag]));

    const changed = BASIC.replace('SUMMARY:Focus time', 'SUMMARY:Deep work')
      .replace(/BEGIN:VEVENT\r\nUID:cancelled-review@calbridge\.test[\s\S]*?END:VEVENT\r\n/, '')
      .replace(
        'END:VCALENDAR',
        'BEGIN:VEVENT\r\nUID:new@calbridge.test\r\nDTSTAMP:20250201T120000Z\r\nDTSTART:20250310T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR',
      );
    server.setFeed('/changing.ics', changed);
    const second = await onePage(p, { cursor: first.cursor, known });
    expect(second.upserts.map((o) => o.key).sort()).toEqual([
      'focus-time@calbridge.test',
      'new@calbridge.test',
    ]);
    expect(second.upserts.find((o) => o.key === 'focus-time@calbridge.test')?.occurrences[0]?.title).toBe(
      'Deep work',
    );
    // The removed UID is simply not mentioned: the consumer deletes it at the end of the full sync.
    expect([...second.unchanged].sort()).toEqual(
      [...known.keys()]
        .filter((k) => k !== 'focus-time@calbridge.test' && k !== 'cancelled-review@calbridge.test')
        .sort(),
    );
    expect(second.cursor.etag).not.toBe(first.cursor.etag);
  });

  it('skips unchanged objects even when the server ignores conditional requests', async () => {
    server.setFeed('/no-cache.ics', BASIC, { headers: { ETag: '"always-new"' } });
    const p = provider('/no-cache.ics');
    const first = await onePage(p);
    const known = new Map(first.upserts.map((o) => [o.key, o.etag]));
    server.setFeed('/no-cache.ics', BASIC);
    const second = await onePage(p, { cursor: { ...first.cursor, etag: null, lastModified: null }, known });
    expect(second.upserts).toEqual([]);
    expect(second.unchanged.length).toBe(known.size);
  });

  it('fetches unconditionally when the window moved, and re-expands what it brings into view', async () => {
    server.setFeed('/basic.ics', BASIC);
    const p = provider('/basic.ics');
    const first = await onePage(p);
    const known = new Map(first.upserts.map((o) => [o.key, o.etag]));
    const april = { start: new Date('2025-03-15T00:00:00Z'), end: new Date('2025-04-15T00:00:00Z') };
    const second = await onePage(p, { cursor: first.cursor, known, window: april });
    expect(server.requests.at(-1)?.headers['if-none-match']).toBeUndefined();
    const standup = second.upserts.find((o) => o.key === STANDUP);
    expect(standup?.occurrences.map((o) => o.start.toISOString())).toEqual([
      '2025-03-25T15:00:00.000Z',
      '2025-03-31T13:00:00.000Z',
      '2025-04-07T13:00:00.000Z',
    ]);
    expect(second.unchanged).toContain('berlin-workshop@calbridge.test');
  });

  it('refuses a calendar id that is not this feed', async () => {
    server.setFeed('/basic.ics', BASIC);
    await expect(
      pages(provider('/basic.ics'), { calendar: { externalId: 'ics:other' } }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('decodes the charset the server declares', async () => {
    const text =
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:cafe@test\r\nDTSTART:20250305T100000Z\r\n' +
      'SUMMARY:Caf\u00e9 cr\u00e8me\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
    server.setFeed('/latin1.ics', Buffer.from(text, 'latin1'), {
      contentType: 'text/calendar; charset=ISO-8859-1',
    });
    server.setFeed('/utf8.ics', text);
    expect((await onePage(provider('/latin1.ics'))).upserts[0]?.occurrences[0]?.title).toBe('Café crème');
    expect((await onePage(provider('/utf8.ics'))).upserts[0]?.occurrences[0]?.title).toBe('Café crème');
  });
});

describe('ICS provider: errors', () => {
  it('rejects a 200 answer that is not iCalendar with InvalidDataError', async () => {
    server.setFeed('/login', HTML, { contentType: 'text/html; charset=utf-8' });
    const p = provider('/login');
    await expect(p.verifyAccess()).rejects.toBeInstanceOf(InvalidDataError);
    await expect(p.verifyAccess()).rejects.toThrow(/HTML/);
    await expect(p.listCalendars()).rejects.toBeInstanceOf(InvalidDataError);
  });

  it('reports a closed port as ProviderUnreachableError', async () => {
    const port = await freePort();
    const p = createIcsProvider(
      { provider: 'ics', serverUrl: null, credentials: { url: `http://127.0.0.1:${port}/feed.ics` } },
      ctx,
    );
    await expect(p.verifyAccess()).rejects.toBeInstanceOf(ProviderUnreachableError);
  });

  it('reports a timeout as ProviderUnreachableError', async () => {
    server.setFeed('/slow.ics', BASIC, { delayMs: 1000 });
    const p = provider('/slow.ics', { ...ctx, requestTimeoutMs: 100 });
    await expect(p.verifyAccess()).rejects.toBeInstanceOf(ProviderUnreachableError);
    await expect(p.verifyAccess()).rejects.toThrow(/100 ms/);
  });

  it.each([
    [401, CredentialsRejectedError],
    [403, CredentialsRejectedError],
    [404, NotFoundError],
    [410, NotFoundError],
    [500, TransientProviderError],
    [503, TransientProviderError],
    [400, InvalidDataError],
  ])('maps HTTP %i to its typed error', async (status, type) => {
    server.setFeed(`/status-${status}`, 'nope', { status });
    const p = provider(`/status-${status}`);
    await expect(p.verifyAccess()).rejects.toBeInstanceOf(type);
  });

  it('keeps the feed URL out of error messages', async () => {
    server.setFeed('/secret-token-123/feed.ics', 'nope', { status: 401 });
    await expect(provider('/secret-token-123/feed.ics').verifyAccess()).rejects.toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret-token-123') }),
    );
  });

  it('maps 429 to RateLimitedError with Retry-After in seconds or as an HTTP date', async () => {
    server.setFeed('/limited', 'slow down', { status: 429, headers: { 'Retry-After': '30' } });
    const error = await provider('/limited')
      .verifyAccess()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(30_000);

    const at = new Date(Date.now() + 120_000).toUTCString();
    server.setFeed('/limited-date', 'slow down', { status: 429, headers: { 'Retry-After': at } });
    const dated = (await provider('/limited-date')
      .verifyAccess()
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(dated).toBeInstanceOf(RateLimitedError);
    expect(dated.retryAfterMs).toBeGreaterThan(100_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(120_000);

    server.setFeed('/limited-bare', 'slow down', { status: 429 });
    const bare = (await provider('/limited-bare')
      .verifyAccess()
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(bare.retryAfterMs).toBeNull();
  });

  it('refuses every write with ReadOnlyError', async () => {
    const p = provider('/basic.ics');
    const calendar = { externalId: 'ics:any' };
    const event = {
      id: 'evt_1',
      title: 'x',
      start: new Date('2025-03-05T10:00:00Z'),
      end: new Date('2025-03-05T11:00:00Z'),
      timeZone: 'UTC',
      sequence: 0,
    };
    await expect(p.createEvent(calendar, event)).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(p.updateEvent(calendar, { externalId: 'x', etag: null }, event)).rejects.toBeInstanceOf(
      ReadOnlyError,
    );
    await expect(p.deleteEvent(calendar, { externalId: 'x', etag: null })).rejects.toBeInstanceOf(
      ReadOnlyError,
    );
  });
});
