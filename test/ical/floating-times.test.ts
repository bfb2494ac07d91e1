/**
 * Floating times (no TZID, no "Z") are read in the feed's X-WR-TIMEZONE, else in the zone the
 * caller passes (the owner's), else UTC — never in the zone of the process that happens to run the
 * import. Each case runs in child processes under two host zones and must give the same instants.
 */
import { describe, expect, it } from 'vitest';
import type { ICalendarOptions } from '../../ical/normalize.ts';
import { expandInZone, type ZoneRun } from './support/expand-in-zone.ts';

const MARCH = { start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' };
const HOSTS = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'];

function cal(...lines: string[]): string {
  return `${['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Calbridge//Tests//EN', ...lines, 'END:VCALENDAR'].join('\r\n')}\r\n`;
}

const meeting = [
  'BEGIN:VEVENT',
  'UID:meeting@test',
  'DTSTAMP:20250101T000000Z',
  'DTSTART:20250305T090000',
  'DTEND:20250305T100000',
  'END:VEVENT',
];

/** The run under every host zone, after checking that they all agree. */
async function onEveryHost(text: string, options?: ICalendarOptions): Promise<ZoneRun> {
  const runs = await Promise.all(HOSTS.map((host) => expandInZone(host, text, MARCH, options)));
  for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  return runs[0] as ZoneRun;
}

describe('floating times', () => {
  it('are read as UTC when neither the feed nor the caller names a zone', async () => {
    const run = await onEveryHost(cal(...meeting));
    expect(run.starts).toEqual({ 'meeting@test': ['2025-03-05T09:00:00.000Z'] });
    expect(run.floatingTimeZone).toBe('UTC');
  });

  it("are read in the caller's zone (the owner's) when the feed names none", async () => {
    const run = await onEveryHost(cal(...meeting), { floatingTimeZone: 'America/New_York' });
    expect(run.starts).toEqual({ 'meeting@test': ['2025-03-05T14:00:00.000Z'] });
  });

  it("are read in the feed's X-WR-TIMEZONE before the caller's zone, IANA or Windows name", async () => {
    const options = { floatingTimeZone: 'America/New_York' };
    const iana = await onEveryHost(cal('X-WR-TIMEZONE:Europe/Berlin', ...meeting), options);
    expect(iana.starts).toEqual({ 'meeting@test': ['2025-03-05T08:00:00.000Z'] });
    const windows = await onEveryHost(cal('X-WR-TIMEZONE:W. Europe Standard Time', ...meeting), options);
    expect(windows.starts).toEqual({ 'meeting@test': ['2025-03-05T08:00:00.000Z'] });
  });

  it("fall back to the caller's zone when X-WR-TIMEZONE is no zone, and to UTC when the caller's is none", async () => {
    const text = cal('X-WR-TIMEZONE:Mars/Olympus_Mons', ...meeting);
    const owner = await onEveryHost(text, { floatingTimeZone: 'America/New_York' });
    expect(owner.starts).toEqual({ 'meeting@test': ['2025-03-05T14:00:00.000Z'] });
    const utc = await onEveryHost(text, { floatingTimeZone: 'Not a zone' });
    expect(utc.starts).toEqual({ 'meeting@test': ['2025-03-05T09:00:00.000Z'] });
    expect(utc.floatingTimeZone).toBe('UTC');
  });

  it('keep their local time across DST in a recurring series, with floating EXDATE, RDATE, RECURRENCE-ID and UNTIL', async () => {
    const text = cal(
      'BEGIN:VEVENT',
      'UID:weekly@test',
      'DTSTAMP:20250101T000000Z',
      'DTSTART:20250303T090000',
      'DTEND:20250303T100000',
      // The 24th is the last one; the 17th is deleted (in a list mixing floating and UTC values).
      'RRULE:FREQ=WEEKLY;UNTIL=20250324T090000',
      'EXDATE:20250317T090000,20250101T000000Z',
      'RDATE;VALUE=PERIOD:20250326T090000/PT1H',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:weekly@test',
      'DTSTAMP:20250101T000000Z',
      'RECURRENCE-ID:20250310T090000',
      'DTSTART:20250310T113000',
      'DTEND:20250310T123000',
      'END:VEVENT',
    );
    const run = await onEveryHost(text, { floatingTimeZone: 'America/New_York' });
    // US DST starts on 2025-03-09: 09:00 is 14:00Z before it and 13:00Z after.
    expect(run.starts).toEqual({
      'weekly@test': [
        '2025-03-03T14:00:00.000Z',
        '2025-03-10T15:30:00.000Z',
        '2025-03-24T13:00:00.000Z',
        '2025-03-26T13:00:00.000Z',
      ],
    });
    expect(run.problems).toEqual([]);
  });

  it('leave UTC, zoned and all-day values alone', async () => {
    const text = cal(
      'X-WR-TIMEZONE:Asia/Tokyo',
      'BEGIN:VEVENT',
      'UID:utc@test',
      'DTSTAMP:20250101T000000Z',
      'DTSTART:20250305T090000Z',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:zoned@test',
      'DTSTAMP:20250101T000000Z',
      'DTSTART;TZID=Europe/Paris:20250305T090000',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:day@test',
      'DTSTAMP:20250101T000000Z',
      'DTSTART;VALUE=DATE:20250305',
      'END:VEVENT',
    );
    const run = await onEveryHost(text);
    expect(run.starts).toEqual({
      'utc@test': ['2025-03-05T09:00:00.000Z'],
      'zoned@test': ['2025-03-05T08:00:00.000Z'],
      'day@test': ['2025-03-05T00:00:00.000Z'],
    });
  });
});
