/** isBookableStart: the booking path's re-check of one requested start, against the same rules. */
import { describe, expect, it } from 'vitest';
import { isBookableStart } from '../../scheduling/slots.ts';
import { at, type Case, hm, run } from './support.ts';

describe('isBookableStart', () => {
  // Berlin in June is UTC+2: Monday 09:00–12:00 local is 07:00–10:00Z. Earliest start: 06:10Z + 60 min.
  const c: Case = {
    name: '',
    timeZone: 'Europe/Berlin',
    weekly: { mon: hm('09:00', '12:00') },
    rules: { durationMinutes: 30, bufferAfterMinutes: 10, minNoticeMinutes: 60, maxDaysAhead: 14 },
    busy: [['2024-06-03T08:40', '2024-06-03T09:00']],
    now: '2024-06-03T06:10',
    from: '2024-06-03T00:00',
    to: '2024-06-30T00:00',
    expected: [],
  };
  const bookable = (start: string) => isBookableStart({ ...run(c).input, start: at(start) });

  it.each([
    ['a start before now + notice', '2024-06-03T07:00', false],
    ['the first start after the notice', '2024-06-03T07:30', true],
    ['a start whose after-buffer just touches busy time', '2024-06-03T08:00', true],
    ['a start whose after-buffer overlaps busy time', '2024-06-03T08:30', false],
    ['a start as busy time ends', '2024-06-03T09:00', true],
    ['the last start, ending with working hours', '2024-06-03T09:30', true],
    ['a start whose slot would leave working hours', '2024-06-03T10:00', false],
    ['a start off the grid', '2024-06-03T09:15', false],
    ['a start one millisecond off the grid', '2024-06-03T09:30:00.001Z', false],
    ['a start on the last day of the horizon', '2024-06-17T07:00', true],
    ['a start after the horizon', '2024-06-24T07:00', false],
  ])('%s (%s) → %s', (_name, start, expected) => {
    expect(bookable(start)).toBe(expected);
  });

  it('agrees with computeSlots over the whole range', () => {
    const offered = run(c).slots.map((s) => s.start.toISOString().slice(0, 16));
    expect(offered.slice(0, 4)).toEqual([
      '2024-06-03T07:30',
      '2024-06-03T08:00',
      '2024-06-03T09:00',
      '2024-06-03T09:30',
    ]);
    expect(offered.at(-1)).toBe('2024-06-17T09:30');
    for (const start of offered) expect(bookable(start)).toBe(true);
  });

  it('is false for an invalid date', () => {
    expect(isBookableStart({ ...run(c).input, start: new Date('nope') })).toBe(false);
  });
});
