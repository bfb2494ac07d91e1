/**
 * Wall-clock times in an IANA zone → UTC instants, resolved the way RFC 5545 (§3.3.5) resolves local
 * times, so our slots agree with the calendars that display them:
 *  - a time skipped by a spring-forward gap moves forward by the gap (02:30 → 03:30);
 *  - a time that occurs twice on a fall-back day means its first occurrence.
 */
import { DateTime, IANAZone } from 'luxon';

/** A calendar date in some zone. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The zone, or a RangeError naming it: an unknown zone would silently turn every instant into NaN. */
export function requireZone(timeZone: string): IANAZone {
  // create() is cached per name; isValidZone() would build a new Intl formatter on every call.
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new RangeError(`unknown time zone "${timeZone}"`);
  return zone;
}

/** The epoch milliseconds of a valid Date, or a RangeError naming the argument. */
export function instantOf(date: Date, name: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid date`);
  return ms;
}

/** "HH:MM" (00:00 to 24:00) → minutes after midnight. */
export function parseWallTime(text: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) {
    throw new RangeError(`wall-clock time "${text}" is not HH:MM between 00:00 and 24:00`);
  }
  return hours * 60 + minutes;
}

/** "YYYY-MM-DD" → the date, or a RangeError. */
export function parseCalendarDate(text: string): CalendarDate {
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || !parsed.isValid) {
    throw new RangeError(`date "${text}" is not a calendar date YYYY-MM-DD`);
  }
  return { year: parsed.year, month: parsed.month, day: parsed.day };
}

export function formatCalendarDate({ year, month, day }: CalendarDate): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The date `days` calendar days after `date` (negative: before). */
export function addDays(date: CalendarDate, days: number): CalendarDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: CalendarDate): number {
  return ((new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7) + 1;
}

/** The date an instant falls on in the zone. */
export function dateInZone(instant: number, zone: IANAZone): CalendarDate {
  const local = new Date(instant + zone.offset(instant) * MINUTE_MS);
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}

/** The instant the zone's clocks read `minutes` after midnight on `date`; 24:00 is the next day's 00:00. */
export function wallTimeToInstant(date: CalendarDate, minutes: number, zone: IANAZone): number {
  // The wall time read as if it were UTC; the real instant is this minus the zone's offset then.
  const asUtc = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE_MS;
  // Offsets in force a day either side cover both sides of any transition on this date.
  const offsets = new Set([zone.offset(asUtc - DAY_MS), zone.offset(asUtc), zone.offset(asUtc + DAY_MS)]);
  let earliest = Number.POSITIVE_INFINITY;
  for (const offset of offsets) {
    const candidate = asUtc - offset * MINUTE_MS;
    if (zone.offset(candidate) === offset && candidate < earliest) earliest = candidate;
  }
  if (earliest !== Number.POSITIVE_INFINITY) return earliest;
  // In a spring-forward gap no offset fits: read the time with the offset before the gap, which
  // lands as far past the gap's start as the time was (RFC 5545; luxon does the same).
  return asUtc - zone.offset(asUtc - DAY_MS) * MINUTE_MS;
}

/** The zone's offset in minutes at an instant. */
export type OffsetAt = (instant: number) => number;

/**
 * The zone's offset function, remembering what it has read: luxon reads an offset through a slow Intl
 * call, and consecutive dates ask for the same instants. Meant for one computation, not kept.
 */
export function rememberedOffsets(zone: IANAZone): OffsetAt {
  const known = new Map<number, number>();
  return (instant) => {
    let offset = known.get(instant);
    if (offset === undefined) {
      offset = zone.offset(instant);
      known.set(instant, offset);
    }
    return offset;
  };
}

/**
 * `wallTimeToInstant` for many times of one date. On the ~363 dates a year without a transition nearby
 * one offset serves the whole date; only the others pay for the exact resolution.
 */
export function dateClock(
  date: CalendarDate,
  zone: IANAZone,
  offsetAt: OffsetAt = (instant) => zone.offset(instant),
): (minutes: number) => number {
  const midnightAsUtc = Date.UTC(date.year, date.month - 1, date.day);
  // Every instant of this date (any offset, 24:00 included) lies within a day either side of its
  // midnight read as UTC; the same offset at both ends means no transition in between (zones never
  // change twice within three days). Both probes fall on midnights, so the next dates reuse them.
  const offset = offsetAt(midnightAsUtc - DAY_MS);
  if (offset !== offsetAt(midnightAsUtc + 2 * DAY_MS)) {
    return (minutes) => wallTimeToInstant(date, minutes, zone);
  }
  return (minutes) => midnightAsUtc + (minutes - offset) * MINUTE_MS;
}

/** The first instant of `date` in the zone (its 00:00, or the first existing time after it). */
export function startOfDate(date: CalendarDate, zone: IANAZone): number {
  return wallTimeToInstant(date, 0, zone);
}
