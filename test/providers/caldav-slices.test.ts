/**
 * Full CalDAV listings by time slice (providers/caldav/sync.ts, slices.ts) against a real Radicale:
 * slices forced small (one day, through the tuning the adapter leaves at its defaults) to see
 * resumption between and inside slices, objects that span slices, series whose occurrences fall in
 * many slices, and a response over the multistatus cap asked again in halves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../domain/calendar.ts';
import { DavClient } from '../../providers/caldav/http.ts';
import { DEFAULT_SLICE_TUNING, type SliceTuning } from '../../providers/caldav/slices.ts';
import { fetchCollectionChanges, UPSERTS_PER_DATA_PAGE } from '../../providers/caldav/sync.ts';
import type { ChangePage, SyncCursor } from '../../providers/contract.ts';
import { OutboundClient } from '../../providers/outbound/fetch.ts';
import { DestinationPolicy } from '../../providers/outbound/policy.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { Mirror } from './conformance.ts';

const USER = { username: 'slicer', password: 'slicer-pw' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let radicale: Radicale;
let calendars = 0;

beforeAll(async () => {
  radicale = await startRadicale({ users: [USER] });
});
afterAll(async () => {
  await radicale?.stop();
});

// Whole days from tomorrow: slices of one day start at midnight UTC, like the window.
const day0 = Math.ceil((Date.now() + DAY) / DAY) * DAY;
const at = (days: number, hours = 0) => new Date(day0 + days * DAY + hours * HOUR);
const WINDOW: TimeWindow = { start: at(0), end: at(12) };
/** One-day slices that never grow: each REPORT covers exactly one day. */
const DAILY: SliceTuning = { ...DEFAULT_SLICE_TUNING, firstSliceMs: DAY, minSliceMs: DAY, maxGrowth: 1 };

function client(maxMultistatusBytes?: number): DavClient {
  return new DavClient({
    ...USER,
    timeoutMs: 10_000,
    userAgent: 'Calbridge-test/1.0',
    serverUrl: radicale.url,
    ...(maxMultistatusBytes === undefined
      ? {}
      : {
          outbound: {
            client: new OutboundClient({ policy: DestinationPolicy.allowAll() }),
            maxFeedBytes: maxMultistatusBytes,
            maxMultistatusBytes,
          },
        }),
  });
}

async function newCalendar(events: Record<string, string>): Promise<string> {
  const collection = await radicale.createCalendar(USER.username, USER.password, `slices-${++calendars}`);
  await radicale.seedEvents(
    collection,
    Object.entries(events).map(([name, ics]) => ({ name, ics })),
  );
  return collection;
}

const event = (uid: string, start: Date, end: Date, rrule?: string) =>
  generateIcsEvent({ uid, summary: uid, start, end, ...(rrule ? { rrule } : {}) });

async function pages(
  collection: string,
  tuning: SliceTuning,
  cursor: SyncCursor | null = null,
  known: ReadonlyMap<string, string | null> = new Map(),
  dav: DavClient = client(),
): Promise<ChangePage[]> {
  const out: ChangePage[] = [];
  for await (const page of fetchCollectionChanges(
    dav,
    { calendar: { externalId: collection }, window: WINDOW, cursor, known },
    tuning,
  )) {
    out.push(page);
  }
  return out;
}

const upsertedKeys = (list: ChangePage[]) => list.flatMap((p) => p.upserts.map((o) => o.key));
const sliceOf = (page: ChangePage | undefined) =>
  (page?.cursor as { slice?: { start: string } } | undefined)?.slice?.start;

describe('full listing by time slices', () => {
  it('walks the window one slice per REPORT and resumes after the last slice done', async () => {
    const events: Record<string, string> = {};
    for (let d = 0; d < 10; d++) events[`day-${d}.ics`] = event(`day-${d}@t`, at(d, 12), at(d, 13));
    const collection = await newCalendar(events);

    const original = await pages(collection, DAILY);
    // One page per one-day slice; every cursor but the last names the next slice to list.
    expect(original).toHaveLength(12);
    expect(original.map(sliceOf).slice(0, -1)).toEqual(
      Array.from({ length: 11 }, (_, d) => at(d + 1).toISOString()),
    );
    expect(original.at(-1)).toMatchObject({ complete: true, cursor: { phase: 'incremental' } });
    expect(original.slice(0, -1).every((p) => !p.complete && p.full)).toBe(true);
    expect(upsertedKeys(original)).toHaveLength(10);

    // A crash after the fourth page: the restart lists from day 4 on and nothing before it.
    const resumed = await pages(collection, DAILY, original[3]?.cursor ?? null);
    expect(upsertedKeys(resumed)).toEqual(upsertedKeys(original.slice(4)));
    expect(resumed.flatMap((p) => p.unchanged)).toEqual([]);
    expect(resumed.at(-1)?.complete).toBe(true);

    const mirror = new Mirror();
    mirror.apply(original.slice(0, 4));
    mirror.apply(resumed, true);
    expect(mirror.occurrences().map((o) => o.uid)).toEqual(
      Array.from({ length: 10 }, (_, d) => `day-${d}@t`),
    );
  });

  it('resumes inside a slice after the last object done', async () => {
    const events: Record<string, string> = {};
    for (let i = 0; i < UPSERTS_PER_DATA_PAGE + 50; i++)
      events[`busy-${String(i).padStart(3, '0')}.ics`] = event(`busy-${i}@t`, at(2, 9), at(2, 10));
    const collection = await newCalendar(events);
    const original = await pages(collection, DAILY);
    const busyDay = original.filter((p) => p.upserts.length > 0);
    expect(busyDay.map((p) => p.upserts.length)).toEqual([UPSERTS_PER_DATA_PAGE, 50]);
    // The first of the two pages stops inside day 2: its cursor names day 2 and the last href done.
    expect(busyDay[0]?.cursor).toMatchObject({ phase: 'full', slice: { start: at(2).toISOString() } });
    expect((busyDay[0]?.cursor as { after?: string } | undefined)?.after).toBe(
      busyDay[0]?.upserts.at(-1)?.key,
    );

    const resumed = await pages(collection, DAILY, busyDay[0]?.cursor ?? null);
    expect(upsertedKeys(resumed)).toEqual(upsertedKeys(busyDay.slice(1)));
    expect(new Set(resumed.flatMap((p) => p.unchanged))).toEqual(new Set(upsertedKeys(busyDay.slice(0, 1))));
  });

  it('takes an object that spans two slices once, and the final sweep keeps it', async () => {
    const collection = await newCalendar({
      'overnight.ics': event('overnight@t', at(3, 22), at(4, 2)),
      'morning.ics': event('morning@t', at(4, 9), at(4, 10)),
    });
    const list = await pages(collection, DAILY);
    // Listed by the slices of day 3 and of day 4; upserted by one of them.
    expect(list).toHaveLength(12);
    expect(upsertedKeys(list).filter((k) => k.endsWith('overnight.ics'))).toHaveLength(1);
    // Held from an earlier full sync: listed in both slices, named unchanged once.
    const mirror = new Mirror();
    mirror.apply(list);
    const again = await pages(collection, DAILY, null, mirror.known());
    expect(upsertedKeys(again)).toEqual([]);
    expect(again.flatMap((p) => p.unchanged).filter((k) => k.endsWith('overnight.ics'))).toHaveLength(1);
    mirror.apply(again);
    expect(mirror.occurrences().map((o) => [o.uid, o.start.toISOString(), o.end.toISOString()])).toEqual([
      ['overnight@t', at(3, 22).toISOString(), at(4, 2).toISOString()],
      ['morning@t', at(4, 9).toISOString(), at(4, 10).toISOString()],
    ]);
  });

  it('imports a series whose occurrences fall in many slices once, with every occurrence in the window', async () => {
    const collection = await newCalendar({
      'daily.ics': event('daily@t', at(1, 8), at(1, 9), 'FREQ=DAILY;COUNT=6'),
      'later.ics': event('later@t', at(9, 8), at(9, 9)),
    });
    const list = await pages(collection, DAILY);
    expect(list).toHaveLength(12);
    const series = list.flatMap((p) => p.upserts).filter((o) => o.key.endsWith('daily.ics'));
    expect(series).toHaveLength(1);
    expect(series[0]?.occurrences.map((o) => o.start.toISOString())).toEqual(
      [1, 2, 3, 4, 5, 6].map((d) => at(d, 8).toISOString()),
    );
    const mirror = new Mirror();
    mirror.apply(list);
    expect(mirror.occurrences()).toHaveLength(7);
  });

  it('asks again in halves when a slice answers over the multistatus cap', async () => {
    const events: Record<string, string> = {};
    for (let d = 0; d < 12; d++) {
      for (let h = 0; h < 4; h++)
        events[`e-${d}-${h}.ics`] = event(`e-${d}-${h}@t`, at(d, 6 + 3 * h), at(d, 7 + 3 * h));
    }
    const collection = await newCalendar(events);
    const oneObject = events['e-0-0.ics']?.length ?? 0;
    // Room for a few objects per response: the whole window (48 objects) cannot come back at once.
    const dav = client(oneObject * 12);
    const list = await pages(collection, { ...DEFAULT_SLICE_TUNING, minSliceMs: HOUR }, null, new Map(), dav);
    expect(new Set(upsertedKeys(list)).size).toBe(48);
    expect(upsertedKeys(list)).toHaveLength(48);
    expect(new Set(list.map(sliceOf).filter(Boolean)).size).toBeGreaterThan(3);
    expect(list.at(-1)?.complete).toBe(true);
  });
});
