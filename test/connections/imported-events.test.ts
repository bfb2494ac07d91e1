/**
 * Hostile provider data at the database boundary: text PostgreSQL cannot store is cleaned, values
 * it refuses skip only their own object (recorded as a warning), and warnings follow their objects.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCalendarListing } from '../../connections/calendars.ts';
import { applyPage, type PageTarget } from '../../connections/imported-events.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import type { Occurrence } from '../../domain/calendar.ts';
import { MAX_OCCURRENCES_PER_CALENDAR } from '../../ical/limits.ts';
import { loadConfig } from '../../platform/config.ts';
import type { ChangePage, SourceObject } from '../../providers/contract.ts';
import { testEnv } from '../harness/platform.ts';
import { seedConnection } from '../support/seed.ts';

let orm: Orm;
const config = loadConfig(testEnv(), { generateSecrets: false });
beforeAll(async () => {
  orm = await createOrm({ databaseUrl: config.DATABASE_URL! });
});
afterAll(() => orm?.close());

async function calendar(): Promise<PageTarget & { connectionId: string }> {
  const { calendarId, connectionId } = await seedConnection(orm, config, {
    provider: 'ics',
    serverUrl: null,
    credentials: { url: 'https://feeds.example/a.ics' },
    externalId: `ics:${randomUUID()}`,
  });
  const [row] = await orm.em
    .fork()
    .execute<{ user_id: string }[]>('select user_id from provider_calendars where id = ?', [calendarId]);
  return {
    calendarId,
    connectionId,
    userId: row!.user_id,
    generation: 1,
    windowStart: new Date('2026-01-01Z'),
  };
}

const occurrence = (over: Partial<Occurrence> = {}): Occurrence => ({
  occurrenceKey: '',
  uid: 'u@t',
  start: new Date('2026-03-02T09:00:00Z'),
  end: new Date('2026-03-02T10:00:00Z'),
  allDay: false,
  busy: true,
  status: 'confirmed',
  title: 'Meeting',
  calbridgeId: null,
  ...over,
});

const object = (key: string, occurrences: Occurrence[]): SourceObject => ({
  key,
  etag: `e-${key}`,
  occurrences,
});

const page = (upserts: SourceObject[], over: Partial<ChangePage> = {}): ChangePage => ({
  full: false,
  upserts,
  unchanged: [],
  removed: [],
  cursor: { at: 1 },
  complete: true,
  ...over,
});

async function rows(calendarId: string) {
  return orm.em
    .fork()
    .execute<{ object_key: string; title: string | null; uid: string }[]>(
      'select object_key, title, uid from imported_events where calendar_id = ? order by object_key',
      [calendarId],
    );
}

async function warnings(calendarId: string) {
  const [row] = await orm.em
    .fork()
    .execute<{ warnings: { objectKey: string | null; kind: string }[] }[]>(
      'select warnings from provider_calendars where id = ?',
      [calendarId],
    );
  return row!.warnings;
}

describe('imported events from hostile providers', () => {
  it('cleans text PostgreSQL cannot store instead of failing the calendar', async () => {
    const target = await calendar();
    await applyPage(
      orm.em.fork(),
      target,
      page([
        object('nul\u0000key', [occurrence({ title: 'Board\u0000meeting', uid: 'u\u0000@t' })]),
        object('surrogate', [occurrence({ title: 'Lone \ud800 surrogate' })]),
      ]),
    );
    expect(await rows(target.calendarId)).toEqual([
      { object_key: 'nulkey', title: 'Boardmeeting', uid: 'u@t' },
      { object_key: 'surrogate', title: 'Lone \ufffd surrogate', uid: 'u@t' },
    ]);
  });

  it('skips only the object the database refuses, records why, and imports the rest', async () => {
    const target = await calendar();
    const bogus = occurrence({ status: 'bogus' as Occurrence['status'] });
    const applied = await applyPage(
      orm.em.fork(),
      target,
      page([
        object('good-1', [occurrence()]),
        object('bad', [bogus]),
        object('good-2', [occurrence()]),
        object('year-zero', [
          occurrence({ start: new Date('0000-06-01T00:00:00Z'), end: new Date('0000-06-01T01:00:00Z') }),
        ]),
      ]),
    );
    expect(applied.upserted).toBe(2);
    expect((await rows(target.calendarId)).map((r) => r.object_key)).toEqual(['good-1', 'good-2']);
    expect(await warnings(target.calendarId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ objectKey: 'bad', kind: 'rejected' }),
        expect.objectContaining({ objectKey: 'year-zero', kind: 'rejected' }),
      ]),
    );
    // The cursor of the page was stored: the sync moves on, it does not retry the bad object forever.
    const [cal] = await orm.em
      .fork()
      .execute<{ sync_cursor: unknown }[]>('select sync_cursor from provider_calendars where id = ?', [
        target.calendarId,
      ]);
    expect(cal!.sync_cursor).toEqual({ at: 1 });

    // Fixed on the provider: the object imports and its warning goes.
    await applyPage(orm.em.fork(), target, page([object('bad', [occurrence()])]));
    expect((await warnings(target.calendarId)).map((w) => w.objectKey)).toEqual(['year-zero']);
    // Deleted on the provider: its warning goes too.
    await applyPage(orm.em.fork(), target, page([], { removed: ['year-zero'] }));
    expect(await warnings(target.calendarId)).toEqual([]);
  });

  it('records warnings a provider reports with its page, bounded in number', async () => {
    const target = await calendar();
    const many = Array.from({ length: 80 }, (_, i) => ({
      objectKey: `k${i}`,
      kind: 'unreadable' as const,
      message: `object ${i} is not iCalendar`,
    }));
    await applyPage(orm.em.fork(), target, page([], { warnings: many }));
    const kept = await warnings(target.calendarId);
    expect(kept.length).toBe(50);
    expect(kept[0]).toMatchObject({ objectKey: 'k0', kind: 'unreadable' });
  });

  it('replaces calendar-wide warnings with a new full listing, and keeps them through a "not modified" one', async () => {
    const target = await calendar();
    const wide = {
      objectKey: null,
      kind: 'unexpandable' as const,
      message: 'FREQ=SECONDLY cannot be expanded',
    };
    await applyPage(
      orm.em.fork(),
      target,
      page([object('a', [occurrence()])], { full: true, warnings: [wide] }),
    );
    const notModified = page([], { full: true, unchanged: ['a'], notModified: true });
    await applyPage(orm.em.fork(), { ...target, generation: 2 }, notModified);
    expect(await warnings(target.calendarId)).toEqual([expect.objectContaining({ objectKey: null })]);
    await applyPage(orm.em.fork(), { ...target, generation: 3 }, page([], { full: true, unchanged: ['a'] }));
    expect(await warnings(target.calendarId)).toEqual([]);
  });

  it('keeps calendar names storable and the number of calendars per account bounded', async () => {
    const target = await calendar();
    const listed = Array.from({ length: 250 }, (_, i) => ({
      externalId: `https://dav.example/cal-${String(i).padStart(3, '0')}/`,
      name: i === 0 ? 'Team\u0000calendar' : `Calendar ${i}`,
      color: null,
      readOnly: false,
      providerPrimary: false,
    }));
    const em = orm.em.fork();
    await recordCalendarListing(em, { id: target.connectionId, userId: target.userId }, listed);
    const names = await orm.em
      .fork()
      .execute<{ name: string }[]>(
        'select name from provider_calendars where connection_id = ? and removed_at is null order by external_id',
        [target.connectionId],
      );
    expect(names.length).toBe(200);
    expect(names[0]!.name).toBe('Teamcalendar');
  });

  it("drops the occurrences a changed object no longer has, and only that object's", async () => {
    const target = await calendar();
    const day = (d: number, over: Partial<Occurrence> = {}) =>
      occurrence({
        occurrenceKey: `k${d}`,
        start: new Date(Date.UTC(2026, 2, d, 9)),
        end: new Date(Date.UTC(2026, 2, d, 10)),
        ...over,
      });
    await applyPage(
      orm.em.fork(),
      target,
      page([object('series', [day(2), day(3), day(4)]), object('other', [day(5)]), object('gone', [day(6)])]),
    );
    // The series lost an instance, `gone` was cancelled (no occurrences left), `other` is untouched.
    await applyPage(orm.em.fork(), target, page([object('series', [day(2), day(4)]), object('gone', [])]));
    const [held] = await orm.em
      .fork()
      .execute<{ keys: string[] }[]>(
        "select array_agg(object_key || '/' || occurrence_key order by object_key, occurrence_key) as keys from imported_events where calendar_id = ?",
        [target.calendarId],
      );
    expect(held?.keys).toEqual(['other/k5', 'series/k2', 'series/k4']);
  });

  it('keeps a calendar within its occurrence budget across objects, and says it was cut', async () => {
    const target = await calendar();
    await orm.em.fork().execute(
      `insert into imported_events (id, calendar_id, user_id, object_key, occurrence_key, uid, start_at, end_at)
       select gen_random_uuid(), ?, ?, 'bulk-' || i, '', 'u', now(), now() from generate_series(1, ?) as i`,
      [target.calendarId, target.userId, MAX_OCCURRENCES_PER_CALENDAR - 10],
    );
    const series = Array.from({ length: 25 }, (_, i) =>
      occurrence({
        occurrenceKey: `k${i}`,
        start: new Date(Date.UTC(2026, 2, 2 + i, 9)),
        end: new Date(Date.UTC(2026, 2, 2 + i, 10)),
      }),
    );
    const applied = await applyPage(orm.em.fork(), target, page([object('series', series)]));
    expect(applied.upserted).toBe(10);
    expect(await warnings(target.calendarId)).toEqual([
      expect.objectContaining({ objectKey: null, kind: 'truncated' }),
    ]);
  });
});
