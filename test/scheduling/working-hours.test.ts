/** Working hours → exact UTC instants, DST included. Dates: 2024 (EU DST 03-31 / 10-27, US 03-10 / 11-03). */
import { describe, expect, it } from 'vitest';
import type { WeeklyHours } from '../../domain/schedule.ts';
import { type WorkingHours, workingIntervals } from '../../scheduling/working-hours.ts';

function utc(hours: WorkingHours, from: string, to: string): [string, string][] {
  return workingIntervals(hours, new Date(from), new Date(to)).map((i) => [
    new Date(i.start).toISOString().slice(0, 16),
    new Date(i.end).toISOString().slice(0, 16),
  ]);
}

const week = (timeZone: string, weekly: WeeklyHours, overrides: WorkingHours['overrides'] = []) => ({
  timeZone,
  weekly,
  overrides,
});

describe('workingIntervals', () => {
  it.each([
    {
      name: 'Berlin spring-forward: 01:00–05:00 is 3 real hours',
      hours: week('Europe/Berlin', { sun: [{ start: '01:00', end: '05:00' }] }),
      day: '2024-03-31',
      expected: [['2024-03-31T00:00', '2024-03-31T03:00']],
    },
    {
      name: 'Berlin spring-forward: a start inside the gap moves forward (02:30 → 03:30 CEST)',
      hours: week('Europe/Berlin', { sun: [{ start: '02:30', end: '04:00' }] }),
      day: '2024-03-31',
      expected: [['2024-03-31T01:30', '2024-03-31T02:00']],
    },
    {
      name: 'Berlin fall-back: 00:00–04:00 is 5 real hours',
      hours: week('Europe/Berlin', { sun: [{ start: '00:00', end: '04:00' }] }),
      day: '2024-10-27',
      expected: [['2024-10-26T22:00', '2024-10-27T03:00']],
    },
    {
      name: 'Berlin fall-back: an ambiguous start is its first occurrence (02:30 CEST)',
      hours: week('Europe/Berlin', { sun: [{ start: '02:30', end: '04:00' }] }),
      day: '2024-10-27',
      expected: [['2024-10-27T00:30', '2024-10-27T03:00']],
    },
    {
      name: 'New York spring-forward: 00:00–06:00 is 5 real hours',
      hours: week('America/New_York', { sun: [{ start: '00:00', end: '06:00' }] }),
      day: '2024-03-10',
      expected: [['2024-03-10T05:00', '2024-03-10T10:00']],
    },
    {
      name: 'New York fall-back: 00:00–04:00 is 5 real hours',
      hours: week('America/New_York', { sun: [{ start: '00:00', end: '04:00' }] }),
      day: '2024-11-03',
      expected: [['2024-11-03T04:00', '2024-11-03T09:00']],
    },
    {
      name: 'New York fall-back: an ambiguous end is its first occurrence (01:30 EDT)',
      hours: week('America/New_York', { sun: [{ start: '00:00', end: '01:30' }] }),
      day: '2024-11-03',
      expected: [['2024-11-03T04:00', '2024-11-03T05:30']],
    },
    {
      name: 'Santiago: a midnight that does not exist starts the day at 01:00',
      hours: week('America/Santiago', { sun: [{ start: '00:00', end: '24:00' }] }),
      day: '2024-09-08',
      expected: [['2024-09-08T04:00', '2024-09-09T03:00']],
    },
    {
      name: '24:00 ends at the next midnight',
      hours: week('America/Los_Angeles', { fri: [{ start: '22:00', end: '24:00' }] }),
      day: '2024-06-07',
      expected: [['2024-06-08T05:00', '2024-06-08T07:00']],
    },
    {
      name: 'one date’s overlapping and touching intervals merge',
      hours: week('UTC', {
        mon: [
          { start: '13:00', end: '14:00' },
          { start: '09:00', end: '11:00' },
          { start: '10:00', end: '12:00' },
          { start: '12:00', end: '12:30' },
        ],
      }),
      day: '2024-06-03',
      expected: [
        ['2024-06-03T09:00', '2024-06-03T12:30'],
        ['2024-06-03T13:00', '2024-06-03T14:00'],
      ],
    },
    {
      name: 'an override closes the day',
      hours: week('UTC', { mon: [{ start: '09:00', end: '17:00' }] }, [
        { date: '2024-06-03', intervals: [] },
      ]),
      day: '2024-06-03',
      expected: [],
    },
    {
      name: 'an override replaces the hours',
      hours: week('Asia/Kolkata', { mon: [{ start: '09:00', end: '17:00' }] }, [
        { date: '2024-06-03', intervals: [{ start: '13:00', end: '15:00' }] },
      ]),
      day: '2024-06-03',
      expected: [['2024-06-03T07:30', '2024-06-03T09:30']],
    },
    {
      name: 'an override opens a day off',
      hours: week('UTC', { sat: [] }, [
        { date: '2024-06-08', intervals: [{ start: '10:00', end: '11:00' }] },
      ]),
      day: '2024-06-08',
      expected: [['2024-06-08T10:00', '2024-06-08T11:00']],
    },
  ])('$name', ({ hours, day, expected }) => {
    // The whole host-zone day and a margin either side, so nothing is cut off by the range.
    const from = new Date(new Date(`${day}T00:00Z`).getTime() - 14 * 3_600_000).toISOString();
    const to = new Date(new Date(`${day}T00:00Z`).getTime() + 38 * 3_600_000).toISOString();
    expect(utc(hours, from, to)).toEqual(expected);
  });

  it('returns whole intervals that intersect the range, not clipped ones', () => {
    const hours = week('UTC', { mon: [{ start: '09:00', end: '17:00' }] });
    expect(utc(hours, '2024-06-03T12:00Z', '2024-06-03T12:01Z')).toEqual([
      ['2024-06-03T09:00', '2024-06-03T17:00'],
    ]);
    expect(utc(hours, '2024-06-03T17:00Z', '2024-06-03T18:00Z')).toEqual([]);
    expect(utc(hours, '2024-06-03T08:00Z', '2024-06-03T09:00Z')).toEqual([]);
  });

  it('keeps each date’s interval separate where one ends at 24:00 and the next starts at 00:00', () => {
    const allDay = [{ start: '00:00', end: '24:00' }];
    const hours = week('Europe/Berlin', { mon: allDay, tue: allDay });
    expect(utc(hours, '2024-06-03T00:00Z', '2024-06-04T12:00Z')).toEqual([
      ['2024-06-02T22:00', '2024-06-03T22:00'],
      ['2024-06-03T22:00', '2024-06-04T22:00'],
    ]);
  });

  it('rejects what it cannot read instead of guessing', () => {
    const range = [new Date('2024-06-03T00:00Z'), new Date('2024-06-04T00:00Z')] as const;
    expect(() => workingIntervals(week('Mars/Olympus', {}), ...range)).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(() => workingIntervals(week('UTC', { mon: [{ start: '9:00', end: '17:00' }] }), ...range)).toThrow(
      /"9:00" is not HH:MM/,
    );
    expect(() =>
      workingIntervals(week('UTC', { mon: [{ start: '09:00', end: '24:30' }] }), ...range),
    ).toThrow(/"24:30"/);
    expect(() =>
      workingIntervals(week('UTC', {}, [{ date: '2024-02-30', intervals: [] }]), ...range),
    ).toThrow(/"2024-02-30" is not a calendar date/);
    expect(() => workingIntervals(week('UTC', {}), new Date('nope'), range[1])).toThrow(
      /from is not a valid date/,
    );
  });
});
