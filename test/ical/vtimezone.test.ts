/**
 * A custom VTIMEZONE is provider text like any other: its rule parts are validated and
 * de-duplicated, its evaluation is bounded, and one we cannot use is reported against the events
 * that use it, whose times are then read as UTC.
 */
import { describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../domain/calendar.ts';
import { MAX_CONTENT_LINE_LENGTH, MAX_OBSERVANCES_PER_ZONE } from '../../ical/limits.ts';
import { parseICalendarFeed } from '../../ical/normalize.ts';
import { runWithDeadline } from './support/deadline.ts';
import type { FeedSummary } from './support/ical-worker.ts';

const MARCH: TimeWindow = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };

function cal(...lines: string[]): string {
  return `${['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Calbridge//Tests//EN', ...lines, 'END:VCALENDAR'].join('\r\n')}\r\n`;
}

function vevent(uid: string, dtstart: string): string[] {
  return ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20250101T000000Z', dtstart, 'END:VEVENT'];
}

/** Central European rules (last Sunday of March / October) under a name no library knows. */
function zone(
  tzid: string,
  daylightRule = 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  extra: string[] = [],
): string[] {
  return [
    'BEGIN:VTIMEZONE',
    `TZID:${tzid}`,
    'BEGIN:STANDARD',
    'DTSTART:16011028T030000',
    'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
    'TZOFFSETFROM:+0200',
    'TZOFFSETTO:+0100',
    'END:STANDARD',
    'BEGIN:DAYLIGHT',
    'DTSTART:16010325T020000',
    daylightRule,
    'TZOFFSETFROM:+0100',
    'TZOFFSETTO:+0200',
    'END:DAYLIGHT',
    ...extra,
    'END:VTIMEZONE',
  ];
}

/** Start of `uid`'s only occurrence, and the problems, for a calendar with one zone and one event. */
function readWith(zoneLines: string[], tzid = 'Office Time') {
  const feed = parseICalendarFeed(
    cal(...zoneLines, ...vevent('event@test', `DTSTART;TZID=${tzid}:20250305T100000`)),
    MARCH,
  );
  return {
    start: feed.objects.get('event@test')?.occurrences[0]?.start.toISOString(),
    problems: feed.problems,
  };
}

const readAsUtc = (reason: RegExp) => ({
  start: '2025-03-05T10:00:00.000Z',
  problems: [{ uid: 'event@test', kind: 'time-zone', message: expect.stringMatching(reason) }],
});

describe('VTIMEZONE rules', () => {
  it('reads a valid custom zone without problems', () => {
    expect(readWith(zone('Office Time'))).toEqual({ start: '2025-03-05T09:00:00.000Z', problems: [] });
  });

  it('evaluates rule lists repeated thousands of times as the values they list, in bounded time', async () => {
    const repeated = (value: string, n: number) => Array(n).fill(value).join(',');
    // Each list fills most of a line; evaluated as written, this zone takes minutes and gigabytes.
    const rule = `RRULE:FREQ=YEARLY;BYMONTH=${repeated('3', 16_000)};BYDAY=${repeated('-1SU', 6_000)}`;
    expect(rule.length).toBeLessThan(MAX_CONTENT_LINE_LENGTH);
    const text = cal(
      ...zone('Office Time', rule),
      ...vevent('before@test', 'DTSTART;TZID=Office Time:20250305T100000'),
      ...vevent('after@test', 'DTSTART;TZID=Office Time:20250331T100000'),
    );
    const { cpuMs, result } = await runWithDeadline(
      {
        op: 'parseICalendarFeed',
        text,
        window: { start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' },
      },
      10_000,
    );
    const { spans, problems } = result as FeedSummary;
    // The last Sunday of March 2025 is the 30th: +01:00 before it, +02:00 after.
    expect(spans).toEqual({
      'before@test': ['2025-03-05T09:00:00.000Z', '2025-03-05T09:00:00.000Z'],
      'after@test': ['2025-03-31T08:00:00.000Z', '2025-03-31T08:00:00.000Z'],
    });
    expect(problems).toEqual([]);
    expect(cpuMs).toBeLessThan(1_000);
  });

  it.each([
    ['a month out of range', 'RRULE:FREQ=YEARLY;BYMONTH=13;BYDAY=-1SU', /BYMONTH="13"/],
    ['a weekday ordinal out of range', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-9SU', /BYDAY value "-9SU"/],
    ['a month day of 0', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=0', /BYMONTHDAY=0/],
    ['a part we do not evaluate', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;BYSETPOS=1', /uses BYSETPOS/],
    ['a frequency other than yearly', 'RRULE:FREQ=MONTHLY;BYDAY=-1SU', /FREQ="MONTHLY", not YEARLY/],
    ['a repeated part', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTH=4;BYDAY=-1SU', /repeats BYMONTH/],
    ['a bad offset', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETTO:+2500', /TZOFFSETTO "\+2500"/],
  ])('rejects a zone with %s, reads its events as UTC and says so', (_name, rule, reason) => {
    expect(readWith(zone('Office Time', rule))).toEqual(readAsUtc(reason));
  });

  it('rejects an observance without offsets instead of skipping it', () => {
    const lines = zone('Office Time').filter((line) => line !== 'TZOFFSETTO:+0200');
    expect(readWith(lines)).toEqual(readAsUtc(/lacks a valid DTSTART, TZOFFSETFROM or TZOFFSETTO/));
  });

  it(`rejects more than ${MAX_OBSERVANCES_PER_ZONE} observances`, () => {
    const observance = [
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
    ];
    const extra = Array.from({ length: MAX_OBSERVANCES_PER_ZONE }, () => observance).flat();
    expect(readWith(zone('Office Time', undefined, extra))).toEqual(readAsUtc(/more than 1000 observances/));
  });

  it('rejects a rule that would have to be walked from year 1 (COUNT) through a transition every day', () => {
    const rule = `RRULE:FREQ=YEARLY;COUNT=100000000;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYMONTHDAY=${[...Array(31).keys()].map((d) => d + 1).join(',')}`;
    const lines = zone('Office Time', rule).map((line) =>
      line === 'DTSTART:16010325T020000' ? 'DTSTART:00010101T020000' : line,
    );
    expect(readWith(lines)).toEqual(readAsUtc(/more than 50000 steps/));
  });

  it('rejects a zone holding a line over the length cap', () => {
    const extra = [`X-JUNK:${'x'.repeat(MAX_CONTENT_LINE_LENGTH)}`];
    expect(readWith(zone('Office Time', undefined, extra))).toEqual(
      readAsUtc(/malformed VTIMEZONE \(a line of/),
    );
  });

  it('reports a TZID that is neither known nor defined, and ignores malformed zones nobody uses', () => {
    const unused = zone('Unused Time', 'RRULE:FREQ=YEARLY;BYMONTH=13');
    expect(readWith(unused, 'Nowhere/Special')).toEqual(
      readAsUtc(/"Nowhere\/Special" is neither a known time zone/),
    );
  });
});
