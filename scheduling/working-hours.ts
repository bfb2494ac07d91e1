/** A host's working hours (weekly schedule + date overrides, wall-clock in their zone) as UTC intervals. */
import type { DateOverride, TimeInterval, Weekday, WeeklyHours } from '../domain/schedule.ts';
import { type Interval, normalize } from './intervals.ts';
import {
  addDays,
  dateClock,
  dateInZone,
  formatCalendarDate,
  instantOf,
  isoWeekday,
  parseCalendarDate,
  parseWallTime,
  rememberedOffsets,
  requireZone,
} from './wall-time.ts';

export interface WorkingHours {
  timeZone: string;
  weekly: WeeklyHours;
  overrides: DateOverride[];
}

const WEEKDAY_BY_ISO: Record<number, Weekday> = {
  1: 'mon',
  2: 'tue',
  3: 'wed',
  4: 'thu',
  5: 'fri',
  6: 'sat',
  7: 'sun',
};

/**
 * The working intervals (UTC ms) that intersect [from, to), from the weekly schedule and date overrides
 * in the host's zone, sorted and whole (not clipped to the range: slot starts are counted from their
 * start). Each is one date's hours, with that date's overlapping or touching intervals merged; a date's
 * interval ending at 24:00 touches the next date's starting at 00:00 but stays a separate interval, so
 * its start — the anchor of the slot grid — never depends on the range asked for.
 */
export function workingIntervals(hours: WorkingHours, from: Date, to: Date): Interval[] {
  const zone = requireZone(hours.timeZone);
  const fromMs = instantOf(from, 'from');
  const toMs = instantOf(to, 'to');
  if (fromMs >= toMs) return [];
  const overrides = overridesByDate(hours.overrides);
  const offsetAt = rememberedOffsets(zone);
  const result: Interval[] = [];
  // A date's hours end by its 24:00, which is the next date's start: the date `from` falls on is the first
  // that can reach into the range. One day earlier guards against a zone whose midnight is ambiguous.
  const last = formatCalendarDate(dateInZone(toMs, zone));
  for (let date = addDays(dateInZone(fromMs, zone), -1); ; date = addDays(date, 1)) {
    const key = formatCalendarDate(date);
    if (key > last) break;
    const wallIntervals = overrides.get(key) ?? hours.weekly[WEEKDAY_BY_ISO[isoWeekday(date)]!] ?? [];
    const clock = dateClock(date, zone, offsetAt);
    const instants = wallIntervals.map((interval) => ({
      start: clock(parseWallTime(interval.start)),
      end: clock(parseWallTime(interval.end)),
    }));
    for (const interval of normalize(instants)) {
      if (interval.start < toMs && interval.end > fromMs) pushAfter(result, interval);
    }
  }
  return result;
}

function overridesByDate(overrides: DateOverride[]): Map<string, TimeInterval[]> {
  const byDate = new Map<string, TimeInterval[]>();
  for (const override of overrides) {
    // Normalizes the spelling ("2024-3-1" is rejected, "2024-03-01" is the key) and rejects non-dates.
    const key = formatCalendarDate(parseCalendarDate(override.date));
    // The API allows one override per date; should two reach us, their hours add up.
    byDate.set(key, [...(byDate.get(key) ?? []), ...override.intervals]);
  }
  return byDate;
}

/**
 * Appends keeping the list sorted and disjoint. Dates follow each other, so only a zone that repeats its
 * midnight could make one date's hours overlap the previous date's; such an overlap is merged.
 */
function pushAfter(list: Interval[], interval: Interval): void {
  const previous = list[list.length - 1];
  if (previous && interval.start < previous.end) {
    if (interval.end > previous.end) previous.end = interval.end;
  } else {
    list.push({ ...interval });
  }
}
