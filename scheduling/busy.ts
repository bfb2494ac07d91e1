/** Busy time from imported calendar events. */
import { type Interval, normalize } from './intervals.ts';
import { addDays, type CalendarDate, instantOf, requireZone, startOfDate } from './wall-time.ts';

export interface BusyEvent {
  start: Date;
  end: Date;
  allDay: boolean;
}

/**
 * Busy intervals (normalized) from imported events: timed events as they are; all-day events block their
 * whole day(s) in the host's zone. Providers store an all-day event as its dates at UTC midnight (start =
 * the first date, end = the day after the last, exclusive), so those UTC dates are read back as dates and
 * laid over the host's days: a holiday on the 25th blocks the host's 25th wherever the host is.
 */
export function busyFromEvents(events: BusyEvent[], hostTimeZone: string): Interval[] {
  const zone = requireZone(hostTimeZone);
  const busy: Interval[] = [];
  for (const event of events) {
    const start = instantOf(event.start, 'event start');
    const end = instantOf(event.end, 'event end');
    if (!event.allDay) {
      busy.push({ start, end });
      continue;
    }
    const firstDate = utcDate(start);
    // An end that is not at UTC midnight (an inclusive last moment) still blocks the date it falls on.
    const endDate = end % DAY_MS === 0 ? utcDate(end) : addDays(utcDate(end), 1);
    // A zero-length all-day event still names its day.
    const lastExclusive = compareDates(endDate, firstDate) > 0 ? endDate : addDays(firstDate, 1);
    busy.push({ start: startOfDate(firstDate, zone), end: startOfDate(lastExclusive, zone) });
  }
  return normalize(busy);
}

const DAY_MS = 86_400_000;

function utcDate(instant: number): CalendarDate {
  const date = new Date(instant);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function compareDates(a: CalendarDate, b: CalendarDate): number {
  return Date.UTC(a.year, a.month - 1, a.day) - Date.UTC(b.year, b.month - 1, b.day);
}
