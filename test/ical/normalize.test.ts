import { describe, expect, it } from 'vitest';
import type { Occurrence, TimeWindow } from '../../domain/calendar.ts';
import { ICalendarError } from '../../ical/errors.ts';
import { expandICalendar, parseICalendarFeed } from '../../ical/normalize.ts';
import { generateIcsFeed, VTIMEZONES } from '../support/generate-ics.ts';

/** March 2025: contains the US DST change (03-09) and the EU one (03-30). */
const MARCH: TimeWindow = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };

function cal(...components: string[]): string {
  const body = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Calbridge//Tests//EN',
    ...components,
    'END:VCALENDAR',
  ];
  return `${body.join('\r\n')}\r\n`;
}

function vevent(...lines: string[]): string {
  return ['BEGIN:VEVENT', 'DTSTAMP:20250101T000000Z', ...lines, 'END:VEVENT'].join('\r\n');
}

/** Occurrences of one UID, reduced to what most assertions look at. */
function times(map: Map<string, Occurrence[]>, uid: string) {
  const occurrences = map.get(uid);
  if (!occurrences) throw new Error(`no object ${uid}; have ${[...map.keys()].join(', ')}`);
  return occurrences.map((o) => ({
    key: o.occurrenceKey,
    start: o.start.toISOString(),
    end: o.end.toISOString(),
  }));
}

function only(map: Map<string, Occurrence[]>, uid: string): Occurrence {
  const occurrences = map.get(uid) ?? [];
  expect(occurrences).toHaveLength(1);
  return occurrences[0] as Occurrence;
}

const CUSTOM_EU_ZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Office Time',
  'BEGIN:STANDARD',
  'DTSTART:16011028T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:16010325T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
].join('\r\n');

/** Rules no IANA zone has: +03:00, and +04:30 from the 2nd Sunday of April to the 1st Sunday of October. */
const FICTIONAL_ZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Fictional Islands Time',
  'BEGIN:STANDARD',
  'DTSTART:20001001T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU',
  'TZOFFSETFROM:+0430',
  'TZOFFSETTO:+0300',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:20000409T010000',
  'RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=2SU',
  'TZOFFSETFROM:+0300',
  'TZOFFSETTO:+0430',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
].join('\r\n');

describe('expandICalendar: recurrence', () => {
  it('expands a weekly series with one deleted (EXDATE) and one moved (RECURRENCE-ID) occurrence', () => {
    const text = cal(
      vevent(
        'UID:series@test',
        'DTSTART:20250303T100000Z',
        'DTEND:20250303T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=5',
        'EXDATE:20250310T100000Z',
        'SUMMARY:Weekly sync',
      ),
      vevent(
        'UID:series@test',
        'RECURRENCE-ID:20250317T100000Z',
        'DTSTART:20250318T150000Z',
        'DTEND:20250318T163000Z',
        'SUMMARY:Weekly sync (moved)',
      ),
    );
    const result = expandICalendar(text, MARCH);
    expect(times(result, 'series@test')).toEqual([
      { key: '2025-03-03T10:00:00.000Z', start: '2025-03-03T10:00:00.000Z', end: '2025-03-03T11:00:00.000Z' },
      { key: '2025-03-17T10:00:00.000Z', start: '2025-03-18T15:00:00.000Z', end: '2025-03-18T16:30:00.000Z' },
      { key: '2025-03-24T10:00:00.000Z', start: '2025-03-24T10:00:00.000Z', end: '2025-03-24T11:00:00.000Z' },
      { key: '2025-03-31T10:00:00.000Z', start: '2025-03-31T10:00:00.000Z', end: '2025-03-31T11:00:00.000Z' },
    ]);
    const titles = result.get('series@test')?.map((o) => o.title);
    expect(titles).toEqual(['Weekly sync', 'Weekly sync (moved)', 'Weekly sync', 'Weekly sync']);
    expect(result.get('series@test')?.every((o) => o.uid === 'series@test' && !o.allDay && o.busy)).toBe(
      true,
    );
  });

  it('shows a moved instance at its new time when only the new time is inside the window, and drops one moved out', () => {
    const text = cal(
      vevent(
        'UID:into@test',
        'DTSTART:20250203T100000Z',
        'DTEND:20250203T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=3',
      ),
      vevent(
        'UID:into@test',
        'RECURRENCE-ID:20250217T100000Z',
        'DTSTART:20250303T120000Z',
        'DTEND:20250303T130000Z',
      ),
      vevent(
        'UID:out@test',
        'DTSTART:20250324T100000Z',
        'DTEND:20250324T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=2',
      ),
      vevent(
        'UID:out@test',
        'RECURRENCE-ID:20250324T100000Z',
        'DTSTART:20250402T100000Z',
        'DTEND:20250402T110000Z',
      ),
    );
    const result = expandICalendar(text, MARCH);
    expect(times(result, 'into@test')).toEqual([
      { key: '2025-02-17T10:00:00.000Z', start: '2025-03-03T12:00:00.000Z', end: '2025-03-03T13:00:00.000Z' },
    ]);
    expect(times(result, 'out@test')).toEqual([
      { key: '2025-03-31T10:00:00.000Z', start: '2025-03-31T10:00:00.000Z', end: '2025-03-31T11:00:00.000Z' },
    ]);
  });

  it('keeps only the part of a series inside the window', () => {
    const text = cal(
      vevent(
        'UID:daily@test',
        'DTSTART:20250225T090000Z',
        'DTEND:20250225T093000Z',
        'RRULE:FREQ=DAILY;COUNT=10',
      ),
      vevent(
        'UID:forever@test',
        'DTSTART:20200106T080000Z',
        'DTEND:20200106T081500Z',
        'RRULE:FREQ=WEEKLY;BYDAY=MO',
      ),
      vevent(
        'UID:late@test',
        'DTSTART:20250330T230000Z',
        'DTEND:20250330T233000Z',
        'RRULE:FREQ=DAILY;COUNT=5',
      ),
    );
    const result = expandICalendar(text, MARCH);
    expect(times(result, 'daily@test').map((o) => o.start)).toEqual([
      '2025-03-01T09:00:00.000Z',
      '2025-03-02T09:00:00.000Z',
      '2025-03-03T09:00:00.000Z',
      '2025-03-04T09:00:00.000Z',
      '2025-03-05T09:00:00.000Z',
      '2025-03-06T09:00:00.000Z',
    ]);
    expect(times(result, 'forever@test').map((o) => o.start)).toEqual([
      '2025-03-03T08:00:00.000Z',
      '2025-03-10T08:00:00.000Z',
      '2025-03-17T08:00:00.000Z',
      '2025-03-24T08:00:00.000Z',
      '2025-03-31T08:00:00.000Z',
    ]);
    expect(times(result, 'late@test').map((o) => o.start)).toEqual([
      '2025-03-30T23:00:00.000Z',
      '2025-03-31T23:00:00.000Z',
    ]);
  });

  it('removes cancelled instances and lets EXDATE win over an override of the same instance', () => {
    const cancelledInstance = cal(
      vevent('UID:s@test', 'DTSTART:20250303T100000Z', 'DTEND:20250303T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=3'),
      vevent('UID:s@test', 'RECURRENCE-ID:20250310T100000Z', 'DTSTART:20250310T100000Z', 'STATUS:CANCELLED'),
    );
    const exdateAndOverride = cal(
      vevent(
        'UID:x@test',
        'DTSTART:20250303T100000Z',
        'DTEND:20250303T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=3',
        'EXDATE:20250310T100000Z',
      ),
      vevent(
        'UID:x@test',
        'RECURRENCE-ID:20250310T100000Z',
        'DTSTART:20250311T100000Z',
        'DTEND:20250311T110000Z',
      ),
    );
    expect(times(expandICalendar(cancelledInstance, MARCH), 's@test').map((o) => o.start)).toEqual([
      '2025-03-03T10:00:00.000Z',
      '2025-03-17T10:00:00.000Z',
    ]);
    expect(times(expandICalendar(exdateAndOverride, MARCH), 'x@test').map((o) => o.start)).toEqual([
      '2025-03-03T10:00:00.000Z',
      '2025-03-17T10:00:00.000Z',
    ]);
  });

  it('adds RDATE instances (node-ical ignores RDATE in its expansion)', () => {
    const text = cal(
      vevent(
        'UID:r@test',
        'DTSTART:20250303T100000Z',
        'DTEND:20250303T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=2',
        'RDATE:20250306T140000Z',
        'RDATE;TZID=Europe/Berlin:20250320T100000',
      ),
    );
    expect(times(expandICalendar(text, MARCH), 'r@test')).toEqual([
      { key: '2025-03-03T10:00:00.000Z', start: '2025-03-03T10:00:00.000Z', end: '2025-03-03T11:00:00.000Z' },
      { key: '2025-03-06T14:00:00.000Z', start: '2025-03-06T14:00:00.000Z', end: '2025-03-06T15:00:00.000Z' },
      { key: '2025-03-10T10:00:00.000Z', start: '2025-03-10T10:00:00.000Z', end: '2025-03-10T11:00:00.000Z' },
      { key: '2025-03-20T09:00:00.000Z', start: '2025-03-20T09:00:00.000Z', end: '2025-03-20T10:00:00.000Z' },
    ]);
  });
});

describe('expandICalendar: single events and properties', () => {
  it('imports all-day events at UTC midnight of their dates; a missing DTEND means one day', () => {
    const text = cal(
      vevent(
        'UID:two-days@test',
        'DTSTART;VALUE=DATE:20250312',
        'DTEND;VALUE=DATE:20250314',
        'SUMMARY:Offsite',
      ),
      vevent('UID:one-day@test', 'DTSTART;VALUE=DATE:20250315'),
      vevent(
        'UID:weekly-day@test',
        'DTSTART;VALUE=DATE:20250303',
        'RRULE:FREQ=WEEKLY;COUNT=4',
        'EXDATE;VALUE=DATE:20250310',
      ),
    );
    const result = expandICalendar(text, MARCH);
    expect(only(result, 'two-days@test')).toEqual({
      occurrenceKey: '',
      uid: 'two-days@test',
      start: new Date('2025-03-12T00:00:00Z'),
      end: new Date('2025-03-14T00:00:00Z'),
      allDay: true,
      busy: true,
      status: 'confirmed',
      title: 'Offsite',
      calbridgeId: null,
    });
    expect(times(result, 'one-day@test')).toEqual([
      { key: '', start: '2025-03-15T00:00:00.000Z', end: '2025-03-16T00:00:00.000Z' },
    ]);
    expect(times(result, 'weekly-day@test')).toEqual([
      { key: '2025-03-03T00:00:00.000Z', start: '2025-03-03T00:00:00.000Z', end: '2025-03-04T00:00:00.000Z' },
      { key: '2025-03-17T00:00:00.000Z', start: '2025-03-17T00:00:00.000Z', end: '2025-03-18T00:00:00.000Z' },
      { key: '2025-03-24T00:00:00.000Z', start: '2025-03-24T00:00:00.000Z', end: '2025-03-25T00:00:00.000Z' },
    ]);
    expect(result.get('weekly-day@test')?.every((o) => o.allDay)).toBe(true);
  });

  it('gives a timed event without DTEND zero length, and honours DURATION', () => {
    const text = cal(
      vevent('UID:point@test', 'DTSTART:20250305T100000Z'),
      vevent('UID:duration@test', 'DTSTART:20250305T100000Z', 'DURATION:PT1H30M'),
    );
    const result = expandICalendar(text, MARCH);
    expect(times(result, 'point@test')).toEqual([
      { key: '', start: '2025-03-05T10:00:00.000Z', end: '2025-03-05T10:00:00.000Z' },
    ]);
    expect(times(result, 'duration@test')).toEqual([
      { key: '', start: '2025-03-05T10:00:00.000Z', end: '2025-03-05T11:30:00.000Z' },
    ]);
  });

  it('maps TRANSP, STATUS, SUMMARY and X-CALBRIDGE-ID', () => {
    const text = cal(
      vevent('UID:free@test', 'DTSTART:20250305T100000Z', 'DTEND:20250305T110000Z', 'TRANSP:TRANSPARENT'),
      vevent('UID:opaque@test', 'DTSTART:20250305T100000Z', 'DTEND:20250305T110000Z', 'TRANSP:OPAQUE'),
      vevent('UID:maybe@test', 'DTSTART:20250305T100000Z', 'DTEND:20250305T110000Z', 'STATUS:TENTATIVE'),
      vevent('UID:gone@test', 'DTSTART:20250305T100000Z', 'DTEND:20250305T110000Z', 'STATUS:CANCELLED'),
      vevent(
        'UID:gone-series@test',
        'DTSTART:20250305T100000Z',
        'DTEND:20250305T110000Z',
        'RRULE:FREQ=DAILY;COUNT=3',
        'STATUS:CANCELLED',
      ),
      vevent(
        'UID:ours@test',
        'DTSTART:20250305T100000Z',
        'DTEND:20250305T110000Z',
        'SUMMARY:Booked: Intro call\\, 30 min',
        'X-CALBRIDGE-ID:bk_01HZX',
      ),
    );
    const result = expandICalendar(text, MARCH);
    expect(only(result, 'free@test').busy).toBe(false);
    expect(only(result, 'opaque@test').busy).toBe(true);
    expect(only(result, 'maybe@test').status).toBe('tentative');
    expect(only(result, 'opaque@test').status).toBe('confirmed');
    expect(only(result, 'opaque@test').title).toBeNull();
    expect(result.get('gone@test')).toEqual([]);
    expect(result.get('gone-series@test')).toEqual([]);
    expect(only(result, 'ours@test')).toMatchObject({
      title: 'Booked: Intro call, 30 min',
      calbridgeId: 'bk_01HZX',
    });
    expect(only(result, 'free@test').calbridgeId).toBeNull();
  });

  it('applies per-instance status and transparency from overrides, inheriting title and marker from the series', () => {
    const text = cal(
      vevent(
        'UID:s@test',
        'DTSTART:20250303T100000Z',
        'DTEND:20250303T110000Z',
        'RRULE:FREQ=WEEKLY;COUNT=2',
        'SUMMARY:Series',
        'X-CALBRIDGE-ID:ours-1',
      ),
      vevent(
        'UID:s@test',
        'RECURRENCE-ID:20250310T100000Z',
        'DTSTART:20250310T100000Z',
        'DTEND:20250310T110000Z',
        'STATUS:TENTATIVE',
        'TRANSP:TRANSPARENT',
      ),
    );
    const [first, second] = expandICalendar(text, MARCH).get('s@test') ?? [];
    expect(first).toMatchObject({ status: 'confirmed', busy: true, title: 'Series', calbridgeId: 'ours-1' });
    expect(second).toMatchObject({
      status: 'tentative',
      busy: false,
      title: 'Series',
      calbridgeId: 'ours-1',
    });
  });

  it('includes events overlapping the window edges and only those', () => {
    const text = cal(
      vevent('UID:straddles-start@test', 'DTSTART:20250228T220000Z', 'DTEND:20250301T020000Z'),
      vevent('UID:ends-at-start@test', 'DTSTART:20250228T220000Z', 'DTEND:20250301T000000Z'),
      vevent('UID:starts-at-end@test', 'DTSTART:20250401T000000Z', 'DTEND:20250401T010000Z'),
      vevent('UID:point-at-start@test', 'DTSTART:20250301T000000Z'),
      vevent('UID:far@test', 'DTSTART:20240301T000000Z', 'DTEND:20240301T010000Z'),
    );
    const result = expandICalendar(text, MARCH);
    expect(times(result, 'straddles-start@test')).toHaveLength(1);
    expect(times(result, 'point-at-start@test')).toHaveLength(1);
    // Present, but with nothing to import.
    expect(result.get('ends-at-start@test')).toEqual([]);
    expect(result.get('starts-at-end@test')).toEqual([]);
    expect(result.get('far@test')).toEqual([]);
  });

  it('ignores VTODO, VJOURNAL and VFREEBUSY', () => {
    const text = cal(
      'BEGIN:VTODO\r\nUID:todo@test\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250305T100000Z\r\nEND:VTODO',
      'BEGIN:VJOURNAL\r\nUID:journal@test\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250305T100000Z\r\nEND:VJOURNAL',
      'BEGIN:VFREEBUSY\r\nUID:fb@test\r\nDTSTAMP:20250101T000000Z\r\nFREEBUSY:20250305T100000Z/PT1H\r\nEND:VFREEBUSY',
      vevent('UID:event@test', 'DTSTART:20250305T100000Z'),
    );
    expect([...expandICalendar(text, MARCH).keys()]).toEqual(['event@test']);
  });

  it('gives a VEVENT without UID a stable key and survives a duplicated DTSTART', () => {
    const text = cal(
      vevent('DTSTART:20250305T100000Z', 'SUMMARY:No UID'),
      vevent(
        'UID:dup@test',
        'DTSTART:20250306T100000Z',
        'DTSTART:20250306T120000Z',
        'DTEND:20250306T110000Z',
      ),
    );
    const first = expandICalendar(text, MARCH);
    const second = expandICalendar(text, MARCH);
    const noUid = [...first.keys()].find((k) => k.startsWith('calbridge-no-uid-'));
    expect(noUid).toBeDefined();
    expect([...second.keys()]).toEqual([...first.keys()]);
    expect(only(first, noUid as string).title).toBe('No UID');
    expect(times(first, 'dup@test')).toEqual([
      { key: '', start: '2025-03-06T10:00:00.000Z', end: '2025-03-06T11:00:00.000Z' },
    ]);
  });

  it('does not depend on the host time zone', () => {
    const text = cal(
      VTIMEZONES['America/New_York'] ?? '',
      vevent('UID:day@test', 'DTSTART;VALUE=DATE:20250312', 'DTEND;VALUE=DATE:20250314'),
      vevent('UID:days@test', 'DTSTART;VALUE=DATE:20250303', 'RRULE:FREQ=WEEKLY;COUNT=2'),
      vevent(
        'UID:ny@test',
        'DTSTART;TZID=America/New_York:20250303T233000',
        'DTEND;TZID=America/New_York:20250304T003000',
        'RRULE:FREQ=WEEKLY;COUNT=2',
      ),
      CUSTOM_EU_ZONE,
      vevent('UID:custom@test', 'DTSTART;TZID=Office Time:20250328T233000', 'RRULE:FREQ=DAILY;COUNT=3'),
      vevent('UID:unknown@test', 'DTSTART;TZID=Nowhere/Special:20250305T100000'),
    );
    const original = process.env.TZ;
    const results: string[] = [];
    try {
      for (const zone of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Kolkata']) {
        process.env.TZ = zone;
        results.push(JSON.stringify([...expandICalendar(text, MARCH)]));
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    expect(new Set(results).size).toBe(1);
    const result = new Map(JSON.parse(results[0] as string) as [string, { start: string }[]][]);
    expect(result.get('days@test')?.map((o) => o.start)).toEqual([
      '2025-03-03T00:00:00.000Z',
      '2025-03-10T00:00:00.000Z',
    ]);
    expect(result.get('ny@test')?.map((o) => o.start)).toEqual([
      '2025-03-04T04:30:00.000Z',
      '2025-03-11T03:30:00.000Z',
    ]);
    expect(result.get('custom@test')?.map((o) => o.start)).toEqual([
      '2025-03-28T22:30:00.000Z',
      '2025-03-29T22:30:00.000Z',
      '2025-03-30T21:30:00.000Z',
    ]);
    // An unknown TZID without a VTIMEZONE is read as UTC (node-ical would use the host's zone).
    expect(result.get('unknown@test')?.map((o) => o.start)).toEqual(['2025-03-05T10:00:00.000Z']);
  });
});

describe('expandICalendar: time zones', () => {
  it('keeps local time across DST in America/New_York and Europe/Berlin', () => {
    const text = cal(
      VTIMEZONES['America/New_York'] ?? '',
      VTIMEZONES['Europe/Berlin'] ?? '',
      vevent(
        'UID:ny@test',
        'DTSTART;TZID=America/New_York:20250303T090000',
        'DTEND;TZID=America/New_York:20250303T093000',
        'RRULE:FREQ=WEEKLY;COUNT=2',
      ),
      vevent(
        'UID:berlin@test',
        'DTSTART;TZID=Europe/Berlin:20250320T100000',
        'DTEND;TZID=Europe/Berlin:20250320T110000',
        'RRULE:FREQ=WEEKLY;COUNT=3',
      ),
    );
    const window = { start: MARCH.start, end: new Date('2025-04-15T00:00:00Z') };
    const result = expandICalendar(text, window);
    expect(times(result, 'ny@test')).toEqual([
      { key: '2025-03-03T14:00:00.000Z', start: '2025-03-03T14:00:00.000Z', end: '2025-03-03T14:30:00.000Z' },
      { key: '2025-03-10T13:00:00.000Z', start: '2025-03-10T13:00:00.000Z', end: '2025-03-10T13:30:00.000Z' },
    ]);
    expect(times(result, 'berlin@test')).toEqual([
      { key: '2025-03-20T09:00:00.000Z', start: '2025-03-20T09:00:00.000Z', end: '2025-03-20T10:00:00.000Z' },
      { key: '2025-03-27T09:00:00.000Z', start: '2025-03-27T09:00:00.000Z', end: '2025-03-27T10:00:00.000Z' },
      { key: '2025-04-03T08:00:00.000Z', start: '2025-04-03T08:00:00.000Z', end: '2025-04-03T09:00:00.000Z' },
    ]);
  });

  it('resolves IANA names without a VTIMEZONE, and Windows zone names', () => {
    const text = cal(
      vevent('UID:iana@test', 'DTSTART;TZID=Asia/Kolkata:20250305T100000'),
      vevent(
        'UID:windows-eu@test',
        'DTSTART;TZID=W. Europe Standard Time:20250320T100000',
        'DTEND;TZID=W. Europe Standard Time:20250320T110000',
        'RRULE:FREQ=WEEKLY;COUNT=3',
      ),
      vevent('UID:windows-us@test', 'DTSTART;TZID="Eastern Standard Time":20250310T090000'),
    );
    const result = expandICalendar(text, { start: MARCH.start, end: new Date('2025-04-15T00:00:00Z') });
    expect(only(result, 'iana@test').start.toISOString()).toBe('2025-03-05T04:30:00.000Z');
    expect(times(result, 'windows-eu@test').map((o) => o.start)).toEqual([
      '2025-03-20T09:00:00.000Z',
      '2025-03-27T09:00:00.000Z',
      '2025-04-03T08:00:00.000Z',
    ]);
    expect(only(result, 'windows-us@test').start.toISOString()).toBe('2025-03-10T13:00:00.000Z');
  });

  it("falls back to a custom TZID's own VTIMEZONE, recurrence, overrides and EXDATE included", () => {
    const text = cal(
      CUSTOM_EU_ZONE,
      vevent(
        'UID:custom-series@test',
        'DTSTART;TZID=Office Time:20250317T100000',
        'DTEND;TZID=Office Time:20250317T110000',
        'RRULE:FREQ=WEEKLY;COUNT=4',
        'EXDATE;TZID=Office Time:20250407T100000',
        'SUMMARY:Custom zone series',
      ),
      vevent(
        'UID:custom-series@test',
        'RECURRENCE-ID;TZID=Office Time:20250324T100000',
        'DTSTART;TZID=Office Time:20250325T140000',
        'DTEND;TZID=Office Time:20250325T150000',
      ),
      vevent('UID:custom-single@test', 'DTSTART;TZID=Office Time:20250701T100000', 'DURATION:PT45M'),
    );
    const result = expandICalendar(text, { start: MARCH.start, end: new Date('2025-08-01T00:00:00Z') });
    expect(times(result, 'custom-series@test')).toEqual([
      { key: '2025-03-17T09:00:00.000Z', start: '2025-03-17T09:00:00.000Z', end: '2025-03-17T10:00:00.000Z' },
      { key: '2025-03-24T09:00:00.000Z', start: '2025-03-25T13:00:00.000Z', end: '2025-03-25T14:00:00.000Z' },
      { key: '2025-03-31T08:00:00.000Z', start: '2025-03-31T08:00:00.000Z', end: '2025-03-31T09:00:00.000Z' },
    ]);
    expect(times(result, 'custom-single@test')).toEqual([
      { key: '', start: '2025-07-01T08:00:00.000Z', end: '2025-07-01T08:45:00.000Z' },
    ]);
  });

  it('follows VTIMEZONE rules that no IANA zone has, with an UNTIL given in UTC', () => {
    const text = cal(
      FICTIONAL_ZONE,
      vevent(
        'UID:islands@test',
        'DTSTART;TZID=Fictional Islands Time:20250410T090000',
        'DTEND;TZID=Fictional Islands Time:20250410T100000',
        'RRULE:FREQ=DAILY;UNTIL=20250414T043000Z',
      ),
    );
    const window = { start: new Date('2025-04-01T00:00:00Z'), end: new Date('2025-05-01T00:00:00Z') };
    // Daylight time (+04:30) starts 2025-04-13 01:00 local.
    expect(times(expandICalendar(text, window), 'islands@test').map((o) => [o.start, o.end])).toEqual([
      ['2025-04-10T06:00:00.000Z', '2025-04-10T07:00:00.000Z'],
      ['2025-04-11T06:00:00.000Z', '2025-04-11T07:00:00.000Z'],
      ['2025-04-12T06:00:00.000Z', '2025-04-12T07:00:00.000Z'],
      ['2025-04-13T04:30:00.000Z', '2025-04-13T05:30:00.000Z'],
      ['2025-04-14T04:30:00.000Z', '2025-04-14T05:30:00.000Z'],
    ]);
  });

  it("reads Microsoft's custom TZIDs with the VTIMEZONE given", () => {
    const zone = (VTIMEZONES['America/New_York'] ?? '').replace(
      'TZID:America/New_York',
      'TZID:Customized Time Zone',
    );
    const text = cal(
      zone,
      vevent(
        'UID:outlook@test',
        'DTSTART;TZID="Customized Time Zone":20250303T090000',
        'DTEND;TZID="Customized Time Zone":20250303T100000',
        'RRULE:FREQ=WEEKLY;COUNT=2',
      ),
    );
    expect(times(expandICalendar(text, MARCH), 'outlook@test').map((o) => o.start)).toEqual([
      '2025-03-03T14:00:00.000Z',
      '2025-03-10T13:00:00.000Z',
    ]);
  });
});

describe('expandICalendar: input that is not iCalendar', () => {
  const cases: [string, string, RegExp][] = [
    ['an HTML page', '<!DOCTYPE html><html><body>Sign in</body></html>', /HTML/],
    ['JSON', '{"error":"unauthorized"}', /JSON/],
    ['an empty body', '', /empty/],
    ['whitespace', '  \r\n ', /empty/],
    ['plain text', 'Service temporarily unavailable', /BEGIN:VCALENDAR/],
    ['a truncated feed', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n', /truncated/],
  ];
  it.each(cases)('rejects %s with ICalendarError', (_name, text, message) => {
    expect(() => expandICalendar(text, MARCH)).toThrow(ICalendarError);
    expect(() => expandICalendar(text, MARCH)).toThrow(message);
  });

  it('accepts a byte-order mark, LF-only line endings and an empty calendar', () => {
    expect(expandICalendar('\uFEFFBEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n', MARCH).size).toBe(0);
  });
});

describe('parseICalendarFeed', () => {
  it('reports calendar name and colour', () => {
    const text = cal('X-WR-CALNAME:Team\\, shared', 'X-APPLE-CALENDAR-COLOR:#FF2968FF');
    expect(parseICalendarFeed(text, MARCH)).toMatchObject({ name: 'Team, shared', color: '#FF2968FF' });
    expect(parseICalendarFeed(cal('NAME:Other', 'COLOR:turquoise'), MARCH)).toMatchObject({
      name: 'Other',
      color: 'turquoise',
    });
    expect(parseICalendarFeed(cal(), MARCH)).toMatchObject({ name: null, color: null });
  });
});

describe('parseICalendarFeed: problems', () => {
  it('reports an object it cannot expand instead of failing the feed', () => {
    const text = cal(
      // rrule-temporal walks a COUNT rule from DTSTART and gives up after 10,000 hourly periods.
      vevent('UID:runaway@test', 'DTSTART:20150101T000000Z', 'RRULE:FREQ=HOURLY;BYHOUR=9;COUNT=5000'),
      vevent('UID:fine@test', 'DTSTART:20250305T100000Z'),
    );
    const feed = parseICalendarFeed(text, MARCH);
    expect(feed.objects.get('runaway@test')?.occurrences).toEqual([]);
    expect(feed.objects.get('fine@test')?.occurrences).toHaveLength(1);
    expect(feed.problems).toEqual([
      { uid: 'runaway@test', kind: 'unexpandable', message: expect.stringMatching(/iterations/) },
    ]);
  });
});

describe('performance', () => {
  it('parses and expands 5,000 events well under 2 s', () => {
    const text = generateIcsFeed(5000, { start: new Date('2025-03-01T00:00:00Z'), seed: 7 });
    const window = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-07-01T00:00:00Z') };
    expandICalendar(text, window); // warm-up: JIT and node-ical's lazy zone tables
    const started = performance.now();
    const result = expandICalendar(text, window);
    const elapsed = performance.now() - started;
    const occurrences = [...result.values()].reduce((n, list) => n + list.length, 0);
    console.log(
      `ical-normalize: 5000 events (${(text.length / 1024).toFixed(0)} KiB) → ${result.size} objects, ` +
        `${occurrences} occurrences in ${elapsed.toFixed(0)} ms`,
    );
    expect(result.size).toBe(5000);
    expect(elapsed).toBeLessThan(2000);
  });
});
