/**
 * Caps on occurrences per series and per calendar, and on the recurrence work a calendar can cause:
 * a series over its cap keeps its first occurrences, and every cap that bites is reported.
 */
import { describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../domain/calendar.ts';
import {
  MAX_OCCURRENCES_PER_CALENDAR,
  MAX_OCCURRENCES_PER_SERIES,
  MAX_RECURRENCE_STEPS_PER_CALENDAR,
} from '../../ical/limits.ts';
import { expandICalendar, parseICalendarFeed } from '../../ical/normalize.ts';
import { runWithDeadline } from './support/deadline.ts';
import type { FeedSummary } from './support/ical-worker.ts';

const MARCH: TimeWindow = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };
const YEAR = { start: '2025-03-01T00:00:00Z', end: '2026-03-01T00:00:00Z' };
const YEAR_WINDOW: TimeWindow = { start: new Date(YEAR.start), end: new Date(YEAR.end) };
const HOUR = 3_600_000;
const DEADLINE_MS = 10_000;

function cal(...components: string[]): string {
  return `${['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Calbridge//Tests//EN', ...components, 'END:VCALENDAR'].join('\r\n')}\r\n`;
}

function vevent(uid: string, ...lines: string[]): string {
  return ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20250101T000000Z', ...lines, 'END:VEVENT'].join('\r\n');
}

const range = (n: number) => [...Array(n).keys()].join(',');

describe('occurrences per series', () => {
  it('keeps the first 5,000 of an hourly series over a year and reports the cut', () => {
    const feed = parseICalendarFeed(
      cal(vevent('hourly@test', 'DTSTART:20250101T000000Z', 'RRULE:FREQ=HOURLY')),
      YEAR_WINDOW,
    );
    const occurrences = feed.objects.get('hourly@test')?.occurrences ?? [];
    expect(occurrences).toHaveLength(MAX_OCCURRENCES_PER_SERIES);
    expect(occurrences[0]?.start).toEqual(new Date(YEAR.start));
    expect(occurrences.at(-1)?.start).toEqual(
      new Date(Date.parse(YEAR.start) + (MAX_OCCURRENCES_PER_SERIES - 1) * HOUR),
    );
    expect(feed.problems).toEqual([
      {
        uid: 'hourly@test',
        kind: 'truncated',
        message: expect.stringMatching(/^Only the first 5,000 occurrences/),
      },
    ]);
  });

  it('bounds a rule with 1,440 instances a day by its first 5,000, in a worker killed at the deadline', async () => {
    const text = cal(
      vevent(
        'dense@test',
        'DTSTART:20250301T000000Z',
        `RRULE:FREQ=DAILY;BYHOUR=${range(24)};BYMINUTE=${range(60)}`,
      ),
    );
    const { cpuMs, result } = await runWithDeadline(
      { op: 'parseICalendarFeed', text, window: YEAR },
      DEADLINE_MS,
    );
    const { objects, spans, problems } = result as FeedSummary;
    expect(objects).toEqual({ 'dense@test': MAX_OCCURRENCES_PER_SERIES });
    expect(spans['dense@test']).toEqual(['2025-03-01T00:00:00.000Z', '2025-03-04T11:19:00.000Z']);
    expect(problems).toEqual([{ uid: 'dense@test', kind: 'truncated', message: expect.any(String) }]);
    expect(cpuMs).toBeLessThan(1_000);
  });

  it('reports FREQ=SECONDLY and FREQ=MINUTELY as not expanded, whatever the interval', () => {
    const text = cal(
      vevent('seconds@test', 'DTSTART:20250301T000000Z', 'RRULE:FREQ=SECONDLY'),
      vevent('minutes@test', 'DTSTART:20250301T000000Z', 'RRULE:FREQ=MINUTELY;INTERVAL=60'),
      vevent('fine@test', 'DTSTART:20250305T100000Z'),
    );
    const feed = parseICalendarFeed(text, MARCH);
    expect(feed.objects.get('seconds@test')?.occurrences).toEqual([]);
    expect(feed.objects.get('minutes@test')?.occurrences).toEqual([]);
    expect(feed.objects.get('fine@test')?.occurrences).toHaveLength(1);
    expect(feed.problems).toEqual([
      { uid: 'seconds@test', kind: 'unexpandable', message: expect.stringContaining('FREQ=SECONDLY') },
      { uid: 'minutes@test', kind: 'unexpandable', message: expect.stringContaining('FREQ=MINUTELY') },
    ]);
  });

  it('walks a COUNT from a DTSTART long ago, but not one that would take too long to reach the window', () => {
    const text = cal(
      vevent('weekly@test', 'DTSTART:20000103T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=2000'),
      vevent(
        'endless@test',
        'DTSTART:20000101T000000Z',
        `RRULE:FREQ=DAILY;BYHOUR=${range(24)};COUNT=1000000`,
      ),
    );
    const feed = parseICalendarFeed(text, MARCH);
    expect(feed.objects.get('weekly@test')?.occurrences.map((o) => o.start.toISOString())).toEqual([
      '2025-03-03T09:00:00.000Z',
      '2025-03-10T09:00:00.000Z',
      '2025-03-17T09:00:00.000Z',
      '2025-03-24T09:00:00.000Z',
      '2025-03-31T09:00:00.000Z',
    ]);
    expect(feed.objects.get('endless@test')?.occurrences).toEqual([]);
    expect(feed.problems).toEqual([
      { uid: 'endless@test', kind: 'unexpandable', message: expect.stringContaining('COUNT=1000000') },
    ]);
  });

  it('applies 40,000 EXDATEs to 5,000 all-day instances in linear time', async () => {
    const exdates: string[] = [];
    for (let day = Date.UTC(1800, 0, 1), n = 0; n < 40_000; day += 86_400_000, n++) {
      exdates.push(new Date(day).toISOString().slice(0, 10).replaceAll('-', ''));
    }
    const lines = [];
    for (let i = 0; i < exdates.length; i += 1000)
      lines.push(`EXDATE;VALUE=DATE:${exdates.slice(i, i + 1000).join(',')}`);
    const text = cal(
      vevent(
        'daily@test',
        'DTSTART;VALUE=DATE:20250301',
        'RRULE:FREQ=DAILY',
        'EXDATE;VALUE=DATE:20250305',
        ...lines,
      ),
    );
    const window = {
      start: YEAR.start,
      end: new Date(Date.parse(YEAR.start) + 5_000 * 86_400_000).toISOString(),
    };
    const { cpuMs, result } = await runWithDeadline({ op: 'parseICalendarFeed', text, window }, DEADLINE_MS);
    expect((result as FeedSummary).objects).toEqual({ 'daily@test': 4_999 });
    expect(cpuMs).toBeLessThan(1_000);
  });
});

describe('occurrences per calendar', () => {
  it('keeps 50,000 occurrences in all and reports the events left out', () => {
    const series = Array.from({ length: 11 }, (_, i) =>
      vevent(`hourly-${i}@test`, 'DTSTART:20250101T000000Z', 'RRULE:FREQ=HOURLY'),
    );
    const feed = parseICalendarFeed(cal(...series), YEAR_WINDOW);
    const counts = [...feed.objects.values()].map((o) => o.occurrences.length);
    expect(counts).toEqual([...Array(10).fill(MAX_OCCURRENCES_PER_SERIES), 0]);
    expect(counts.reduce((a, b) => a + b)).toBe(MAX_OCCURRENCES_PER_CALENDAR);
    expect(feed.problems.at(-1)).toEqual({
      uid: null,
      kind: 'truncated',
      message: expect.stringContaining('1 event(s) from "hourly-10@test" on were not imported'),
    });
  });

  it('lets a caller spread the calendar cap over several calls', () => {
    const text = cal(vevent('daily@test', 'DTSTART:20250301T090000Z', 'RRULE:FREQ=DAILY'));
    const feed = parseICalendarFeed(text, MARCH, { maxOccurrences: 7 });
    expect(feed.objects.get('daily@test')?.occurrences).toHaveLength(7);
    expect(feed.problems).toEqual([
      {
        uid: 'daily@test',
        kind: 'truncated',
        message: expect.stringContaining('the calendar reached its cap'),
      },
    ]);
    expect(expandICalendar(text, MARCH, { maxOccurrences: 0 }).get('daily@test')).toEqual([]);
  });

  it('stops generating recurrences past the calendar budget and says which series it left out', () => {
    // Each walks 19,000 hourly instances from 2023 to end early on 2025-03-02.
    const series = Array.from({ length: 20 }, (_, i) =>
      vevent(
        `walk-${i}@test`,
        'DTSTART:20230101T000000Z',
        `RRULE:FREQ=DAILY;BYHOUR=${range(24)};COUNT=19000`,
      ),
    );
    const feed = parseICalendarFeed(cal(...series), MARCH);
    const expanded = Math.floor(MAX_RECURRENCE_STEPS_PER_CALENDAR / 19_000);
    const counts = [...feed.objects.values()].map((o) => o.occurrences.length);
    expect(counts.filter((n) => n > 0)).toHaveLength(expanded);
    expect(counts.slice(expanded)).toEqual(Array(20 - expanded).fill(0));
    expect(feed.problems).toEqual(
      Array.from({ length: 20 - expanded }, (_, i) => ({
        uid: `walk-${expanded + i}@test`,
        kind: 'truncated',
        message: expect.stringContaining('this series was not imported'),
      })),
    );
  });
});
