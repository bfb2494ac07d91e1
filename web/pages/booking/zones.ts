/**
 * Time zones and days on the public booking pages: the visitor's zone (chosen, detected by the
 * script, or a fallback), the zones they can choose from, and the week of days a page shows —
 * each day a calendar day in the visitor's zone, not in UTC.
 */
import { DateTime } from 'luxon';
import { calendarDate, timeZone as timeZoneSchema } from '../../../platform/validation.ts';

/** How many days one page of times shows. */
export const DAYS_PER_PAGE = 7;

// Intl lists no "UTC" (only Etc/ names it resolves to other zones); visitors look for it by name.
const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone')];

/** The zone a visitor asked for in its canonical spelling, or null when it is not one. */
export function chosenZone(raw: unknown): string | null {
  if (typeof raw !== 'string' || !raw) return null;
  const parsed = timeZoneSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Every zone the visitor can pick, with `selected` listed even when Intl spells it otherwise. */
export const zoneChoices = (selected: string) => (ZONES.includes(selected) ? ZONES : [selected, ...ZONES]);

export interface DayPage {
  /** The first day shown (YYYY-MM-DD in the zone). */
  first: string;
  days: string[];
  from: Date;
  to: Date;
  /** The first day of the previous and next pages, when there are such pages. */
  earlier: string | null;
  later: string | null;
}

/**
 * The days from `requested` (or today) in `zone`, kept between today and the calendar's horizon so
 * a hand-written URL can neither look into the past nor ask for centuries of slots.
 */
export function dayPage(requested: unknown, zone: string, now: Date, maxDaysAhead: number): DayPage {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const last = today.plus({ days: maxDaysAhead });
  const parsed = typeof requested === 'string' ? calendarDate.safeParse(requested) : null;
  let first = parsed?.success ? DateTime.fromISO(parsed.data, { zone }).startOf('day') : today;
  if (!first.isValid || first < today) first = today;
  if (first > last) first = last;
  const days = Array.from({ length: DAYS_PER_PAGE }, (_, i) => first.plus({ days: i }).toISODate()!);
  const next = first.plus({ days: DAYS_PER_PAGE });
  const previous = DateTime.max(first.minus({ days: DAYS_PER_PAGE }), today);
  return {
    first: first.toISODate()!,
    days,
    from: first.toJSDate(),
    to: next.toJSDate(),
    earlier: first > today ? previous.toISODate()! : null,
    later: next <= last ? next.toISODate()! : null,
  };
}

/** The calendar day (YYYY-MM-DD) an instant falls on in `zone`. */
export const dayOf = (instant: string | Date, zone: string) =>
  DateTime.fromJSDate(new Date(instant), { zone }).toISODate()!;

/** "Tuesday 1 December" for a YYYY-MM-DD day. */
export const dayHeading = (day: string) =>
  new Intl.DateTimeFormat('en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  }).format(new Date(`${day}T12:00:00Z`));

/** "14:30": the time of day of an instant in `zone`. */
export const timeOfDay = (instant: string | Date, zone: string) =>
  new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: zone }).format(
    new Date(instant),
  );
