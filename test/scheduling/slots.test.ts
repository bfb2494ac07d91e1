/**
 * Slot computation, table-driven: every case states the exact UTC starts it expects. Dates are 2024:
 * EU DST 03-31 / 10-27, US DST 03-10 / 11-03; 2024-06-03 is a Monday.
 */
import { describe, expect, it } from 'vitest';
import { busyFromEvents } from '../../scheduling/busy.ts';
import type { Interval } from '../../scheduling/intervals.ts';
import { computeSlots } from '../../scheduling/slots.ts';
import { at, type Case, hm, ms, RULES, run } from './support.ts';

const cases: Case[] = [
  // DST
  {
    name: 'Berlin spring-forward: 01:00–05:00 gives 3 one-hour slots',
    timeZone: 'Europe/Berlin',
    weekly: { sun: hm('01:00', '05:00') },
    from: '2024-03-30T12:00',
    to: '2024-04-01T00:00',
    expected: ['2024-03-31T00:00', '2024-03-31T01:00', '2024-03-31T02:00'],
  },
  {
    name: 'Berlin fall-back: 00:00–04:00 gives 5 one-hour slots',
    timeZone: 'Europe/Berlin',
    weekly: { sun: hm('00:00', '04:00') },
    from: '2024-10-26T12:00',
    to: '2024-10-28T00:00',
    expected: [
      '2024-10-26T22:00',
      '2024-10-26T23:00',
      '2024-10-27T00:00',
      '2024-10-27T01:00',
      '2024-10-27T02:00',
    ],
  },
  {
    name: 'Berlin fall-back: starts step in real minutes through the repeated hour (90-min grid)',
    timeZone: 'Europe/Berlin',
    weekly: { sun: hm('00:00', '04:00') },
    rules: { slotIntervalMinutes: 90 },
    from: '2024-10-26T12:00',
    to: '2024-10-28T00:00',
    expected: ['2024-10-26T22:00', '2024-10-26T23:30', '2024-10-27T01:00'],
  },
  {
    name: 'New York spring-forward: 00:00–06:00 gives 5 one-hour slots',
    timeZone: 'America/New_York',
    weekly: { sun: hm('00:00', '06:00') },
    from: '2024-03-10T00:00',
    to: '2024-03-11T00:00',
    expected: [
      '2024-03-10T05:00',
      '2024-03-10T06:00',
      '2024-03-10T07:00',
      '2024-03-10T08:00',
      '2024-03-10T09:00',
    ],
  },
  {
    name: 'New York fall-back: 01:30–03:00 starts at the first 01:30 (EDT) and lasts 2.5 h',
    timeZone: 'America/New_York',
    weekly: { sun: hm('01:30', '03:00') },
    rules: { durationMinutes: 30 },
    from: '2024-11-03T00:00',
    to: '2024-11-04T00:00',
    expected: [
      '2024-11-03T05:30',
      '2024-11-03T06:00',
      '2024-11-03T06:30',
      '2024-11-03T07:00',
      '2024-11-03T07:30',
    ],
  },
  {
    name: 'New York: the week after spring-forward keeps 09:00 local (13:00Z, not 14:00Z)',
    timeZone: 'America/New_York',
    weekly: { fri: hm('09:00', '10:00') },
    from: '2024-03-08T00:00',
    to: '2024-03-16T00:00',
    expected: ['2024-03-08T14:00', '2024-03-15T13:00'],
  },
  // Buffers
  {
    name: 'busy time removes the slots it overlaps; touching is fine',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30 },
    busy: [['2024-06-03T10:00', '2024-06-03T10:30']],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: [
      '2024-06-03T09:00',
      '2024-06-03T09:30',
      '2024-06-03T10:30',
      '2024-06-03T11:00',
      '2024-06-03T11:30',
    ],
  },
  {
    name: 'buffer before keeps a slot from starting right after busy time',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30, bufferBeforeMinutes: 15 },
    busy: [['2024-06-03T10:00', '2024-06-03T10:30']],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:00', '2024-06-03T09:30', '2024-06-03T11:00', '2024-06-03T11:30'],
  },
  {
    name: 'buffer after keeps a slot from ending right before busy time',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30, bufferAfterMinutes: 15 },
    busy: [['2024-06-03T10:00', '2024-06-03T10:30']],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:00', '2024-06-03T10:30', '2024-06-03T11:00', '2024-06-03T11:30'],
  },
  {
    name: 'buffers guard against busy time only, not the edges of working hours',
    weekly: { mon: hm('09:00', '10:00') },
    rules: { durationMinutes: 30, bufferBeforeMinutes: 30, bufferAfterMinutes: 30 },
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:00', '2024-06-03T09:30'],
  },
  {
    name: 'a buffer reaching into busy time outside working hours still counts',
    weekly: { mon: hm('09:00', '10:00') },
    rules: { durationMinutes: 30, bufferBeforeMinutes: 10 },
    busy: [['2024-06-03T08:00', '2024-06-03T08:55']],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:30'],
  },
  {
    name: 'overlapping, unsorted busy intervals',
    weekly: { mon: hm('09:00', '17:00') },
    busy: [
      ['2024-06-03T13:30', '2024-06-03T14:10'],
      ['2024-06-03T09:10', '2024-06-03T09:20'],
      ['2024-06-03T13:00', '2024-06-03T13:45'],
      ['2024-06-03T09:00', '2024-06-03T09:15'],
      ['2024-06-03T16:00', '2024-06-03T16:00'],
    ],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: [
      '2024-06-03T10:00',
      '2024-06-03T11:00',
      '2024-06-03T12:00',
      '2024-06-03T15:00',
      '2024-06-03T16:00',
    ],
  },
  // Notice and horizon
  {
    name: 'minimum notice: nothing starts before now + notice',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30, minNoticeMinutes: 60 },
    now: '2024-06-03T08:50',
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T10:00', '2024-06-03T10:30', '2024-06-03T11:00', '2024-06-03T11:30'],
  },
  {
    name: 'minimum notice: a start exactly at now + notice is offered',
    weekly: { mon: hm('09:00', '11:00') },
    rules: { durationMinutes: 30, minNoticeMinutes: 60 },
    now: '2024-06-03T09:00',
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T10:00', '2024-06-03T10:30'],
  },
  {
    name: 'horizon: maxDaysAhead 1 allows tomorrow in the host’s zone, not the day after',
    timeZone: 'Europe/Berlin',
    weekly: { tue: hm('23:00', '24:00'), wed: hm('00:00', '01:00') },
    rules: { durationMinutes: 30, maxDaysAhead: 1 },
    now: '2024-06-03T21:30',
    from: '2024-06-03T00:00',
    to: '2024-06-06T00:00',
    expected: ['2024-06-04T21:00', '2024-06-04T21:30'],
  },
  {
    name: 'horizon: a slot starting before the horizon may end after it',
    timeZone: 'Europe/Berlin',
    weekly: { tue: hm('23:00', '24:00'), wed: hm('00:00', '01:00') },
    rules: { durationMinutes: 60, slotIntervalMinutes: 30, maxDaysAhead: 1 },
    now: '2024-06-03T21:30',
    from: '2024-06-03T00:00',
    to: '2024-06-06T00:00',
    expected: ['2024-06-04T21:00', '2024-06-04T21:30'],
  },
  {
    name: 'horizon: counted from the host’s date, which in Auckland is already tomorrow',
    timeZone: 'Pacific/Auckland',
    weekly: { tue: hm('20:00', '22:00'), wed: hm('09:00', '10:00') },
    rules: { maxDaysAhead: 0 },
    now: '2024-06-03T23:30',
    from: '2024-06-03T00:00',
    to: '2024-06-10T00:00',
    expected: ['2024-06-04T08:00', '2024-06-04T09:00'],
  },
  // Overrides
  {
    name: 'an override closes a working day',
    weekly: { mon: hm('09:00', '11:00'), tue: hm('09:00', '11:00') },
    overrides: [{ date: '2024-06-03', intervals: [] }],
    from: '2024-06-03T00:00',
    to: '2024-06-05T00:00',
    expected: ['2024-06-04T09:00', '2024-06-04T10:00'],
  },
  {
    name: 'an override changes the hours of one date only',
    timeZone: 'America/Los_Angeles',
    weekly: { mon: hm('09:00', '11:00') },
    overrides: [{ date: '2024-06-03', intervals: [...hm('13:00', '14:00'), ...hm('16:00', '17:00')] }],
    from: '2024-06-03T00:00',
    to: '2024-06-12T00:00',
    expected: ['2024-06-03T20:00', '2024-06-03T23:00', '2024-06-10T16:00', '2024-06-10T17:00'],
  },
  // 24:00 and spanning midnight
  {
    name: '24:00 end: slots run up to midnight',
    timeZone: 'America/New_York',
    weekly: { fri: hm('22:00', '24:00') },
    from: '2024-06-07T00:00',
    to: '2024-06-09T00:00',
    expected: ['2024-06-08T02:00', '2024-06-08T03:00'],
  },
  {
    name: 'a slot may run past midnight into the next date’s hours when they continue without a gap',
    timeZone: 'America/New_York',
    weekly: { fri: hm('22:00', '24:00'), sat: hm('00:00', '01:00') },
    rules: { slotIntervalMinutes: 30 },
    from: '2024-06-07T00:00',
    to: '2024-06-09T00:00',
    expected: [
      '2024-06-08T02:00',
      '2024-06-08T02:30',
      '2024-06-08T03:00',
      '2024-06-08T03:30',
      '2024-06-08T04:00',
    ],
  },
  // Interval ≠ duration
  {
    name: 'interval shorter than duration: overlapping offers',
    weekly: { mon: hm('09:00', '11:00') },
    rules: { durationMinutes: 45, slotIntervalMinutes: 30 },
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:00', '2024-06-03T09:30', '2024-06-03T10:00'],
  },
  {
    name: 'interval longer than duration: gaps between offers',
    weekly: { mon: hm('09:00', '11:00') },
    rules: { durationMinutes: 30, slotIntervalMinutes: 45 },
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T09:00', '2024-06-03T09:45', '2024-06-03T10:30'],
  },
  {
    name: 'the grid stays anchored at the working interval’s start after busy time',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30 },
    busy: [['2024-06-03T09:00', '2024-06-03T10:10']],
    from: '2024-06-03T00:00',
    to: '2024-06-04T00:00',
    expected: ['2024-06-03T10:30', '2024-06-03T11:00', '2024-06-03T11:30'],
  },
  // The range
  {
    name: 'only starts inside [from, to), on the grid of the whole working interval',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30 },
    from: '2024-06-03T09:40',
    to: '2024-06-03T11:00',
    expected: ['2024-06-03T10:00', '2024-06-03T10:30'],
  },
];

describe('computeSlots', () => {
  it.each(cases)('$name', (c) => {
    const { input, slots } = run(c);
    expect(slots.map((s) => s.start.toISOString().slice(0, 16))).toEqual(c.expected);
    for (const slot of slots) {
      expect(slot.end.getTime() - slot.start.getTime()).toBe(input.rules.durationMinutes * 60_000);
    }
  });

  it('all-day busy blocks the host’s own day: Auckland and Los Angeles', () => {
    const holiday = [{ start: at('2024-06-04T00:00'), end: at('2024-06-05T00:00'), allDay: true }];
    const weekdays = { mon: hm('10:00', '11:00'), tue: hm('10:00', '11:00'), wed: hm('10:00', '11:00') };
    const slotsIn = (timeZone: string) =>
      computeSlots({
        hours: { timeZone, weekly: weekdays, overrides: [] },
        busy: busyFromEvents(holiday, timeZone),
        rules: RULES,
        now: at('2024-05-01T00:00'),
        from: at('2024-06-02T00:00'),
        to: at('2024-06-07T00:00'),
      }).map((s) => s.start.toISOString().slice(0, 16));
    // Auckland is UTC+12: Monday 10:00 = Sunday 22:00Z; Tuesday the 4th is blocked.
    expect(slotsIn('Pacific/Auckland')).toEqual(['2024-06-02T22:00', '2024-06-04T22:00']);
    // Los Angeles is UTC−7: Tuesday the 4th at 10:00 = 17:00Z is blocked.
    expect(slotsIn('America/Los_Angeles')).toEqual(['2024-06-03T17:00', '2024-06-05T17:00']);
  });

  it('offers nothing for an empty or reversed range', () => {
    const c: Case = {
      name: '',
      weekly: { mon: hm('09:00', '12:00') },
      from: '2024-06-03T12:00',
      to: '',
      expected: [],
    };
    expect(run({ ...c, to: '2024-06-03T12:00' }).slots).toEqual([]);
    expect(run({ ...c, to: '2024-06-03T00:00' }).slots).toEqual([]);
  });

  it('rejects rules it cannot honour', () => {
    const base: Case = {
      name: '',
      weekly: {},
      from: '2024-06-03T00:00',
      to: '2024-06-04T00:00',
      expected: [],
    };
    expect(() => run({ ...base, rules: { durationMinutes: 0 } })).toThrow(
      /durationMinutes must be a whole number ≥ 1/,
    );
    expect(() => run({ ...base, rules: { slotIntervalMinutes: 7.5 } })).toThrow(/slotIntervalMinutes/);
    expect(() => run({ ...base, rules: { bufferBeforeMinutes: -5 } })).toThrow(/bufferBeforeMinutes/);
    expect(() => run({ ...base, rules: { maxDaysAhead: Number.NaN } })).toThrow(/maxDaysAhead/);
    expect(() => run({ ...base, timeZone: 'Nowhere/Town' })).toThrow(/unknown time zone/);
  });

  it('62 days with 5,000 busy intervals takes a few milliseconds', () => {
    const from = ms('2024-06-03T00:00');
    const day = 86_400_000;
    // 5,000 five-minute blocks at pseudo-random places: dense, but with gaps a 10-minute slot fits.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const busy: Interval[] = [];
    for (let i = 0; i < 5000; i++) {
      const start = from + Math.floor(random() * 62 * day);
      busy.push({ start, end: start + 5 * 60_000 });
    }
    const allDay = hm('00:00', '24:00');
    const input = {
      hours: {
        timeZone: 'Europe/Berlin',
        weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: hm('08:00', '18:00') },
        overrides: [],
      },
      busy,
      rules: { ...RULES, durationMinutes: 10 },
      now: new Date(from),
      from: new Date(from),
      to: new Date(from + 62 * day),
    };
    const timings: number[] = [];
    let count = 0;
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      count = computeSlots(input).length;
      timings.push(performance.now() - t0);
    }
    timings.sort((a, b) => a - b);
    expect(count).toBeGreaterThan(1000);
    // A few ms on an idle machine; the bound leaves room for a loaded 2-core box but not for a
    // per-minute or busy-per-slot scan (which takes hundreds of ms here).
    expect(timings[3]).toBeLessThan(40);
  });
});
