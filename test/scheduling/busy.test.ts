import { describe, expect, it } from 'vitest';
import { busyFromEvents } from '../../scheduling/busy.ts';

function busy(events: { start: string; end: string; allDay: boolean }[], zone: string): [string, string][] {
  return busyFromEvents(
    events.map((e) => ({ start: new Date(e.start), end: new Date(e.end), allDay: e.allDay })),
    zone,
  ).map((i) => [new Date(i.start).toISOString().slice(0, 16), new Date(i.end).toISOString().slice(0, 16)]);
}

const allDay = (start: string, end: string) => ({
  start: `${start}T00:00Z`,
  end: `${end}T00:00Z`,
  allDay: true,
});

describe('busyFromEvents', () => {
  it.each([
    {
      name: 'Auckland (UTC+12): the 4th is the host’s 4th, not the UTC one',
      events: [allDay('2024-06-04', '2024-06-05')],
      zone: 'Pacific/Auckland',
      expected: [['2024-06-03T12:00', '2024-06-04T12:00']],
    },
    {
      name: 'Los Angeles (UTC−7): the 4th starts at 07:00Z',
      events: [allDay('2024-06-04', '2024-06-05')],
      zone: 'America/Los_Angeles',
      expected: [['2024-06-04T07:00', '2024-06-05T07:00']],
    },
    {
      name: 'several days',
      events: [allDay('2024-06-04', '2024-06-07')],
      zone: 'America/Los_Angeles',
      expected: [['2024-06-04T07:00', '2024-06-07T07:00']],
    },
    {
      name: 'a DST day in the host’s zone is 23 hours long',
      events: [allDay('2024-03-31', '2024-04-01')],
      zone: 'Europe/Berlin',
      expected: [['2024-03-30T23:00', '2024-03-31T22:00']],
    },
    {
      name: 'Auckland’s own DST change (2024-09-29, 02:00 → 03:00)',
      events: [allDay('2024-09-29', '2024-09-30')],
      zone: 'Pacific/Auckland',
      expected: [['2024-09-28T12:00', '2024-09-29T11:00']],
    },
    {
      name: 'an end that is not at midnight still blocks the day it falls on',
      events: [{ start: '2024-06-04T00:00Z', end: '2024-06-04T23:59:59Z', allDay: true }],
      zone: 'UTC',
      expected: [['2024-06-04T00:00', '2024-06-05T00:00']],
    },
    {
      name: 'a zero-length all-day event blocks its day',
      events: [allDay('2024-06-04', '2024-06-04')],
      zone: 'UTC',
      expected: [['2024-06-04T00:00', '2024-06-05T00:00']],
    },
    {
      name: 'timed events are kept as they are, merged and sorted',
      events: [
        { start: '2024-06-04T15:00Z', end: '2024-06-04T16:00Z', allDay: false },
        { start: '2024-06-04T09:00Z', end: '2024-06-04T10:00Z', allDay: false },
        { start: '2024-06-04T09:30Z', end: '2024-06-04T11:00Z', allDay: false },
        { start: '2024-06-04T12:00Z', end: '2024-06-04T12:00Z', allDay: false },
      ],
      zone: 'Pacific/Auckland',
      expected: [
        ['2024-06-04T09:00', '2024-06-04T11:00'],
        ['2024-06-04T15:00', '2024-06-04T16:00'],
      ],
    },
  ])('$name', ({ events, zone, expected }) => {
    expect(busy(events, zone)).toEqual(expected);
  });

  it('rejects an unknown zone', () => {
    expect(() => busyFromEvents([], 'Europe/Atlantis')).toThrow(/unknown time zone/);
  });
});
