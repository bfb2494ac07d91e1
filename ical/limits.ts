/**
 * Bounds on the work one calendar's text can cause. Provider bytes are untrusted: every loop over
 * them must be bounded by one of these (or by the input's length), and a bound that is hit is
 * reported as a problem, never silently applied.
 */

/** One content line after unfolding, in UTF-16 code units. RFC 5545 folds at 75 octets; real lines stay far below. */
export const MAX_CONTENT_LINE_LENGTH = 64 * 1024;

/** Occurrences kept per object (a series over it keeps its first ones). Hourly for a year is 8,760. */
export const MAX_OCCURRENCES_PER_SERIES = 5_000;

/** Occurrences kept per call of parseICalendarFeed/expandICalendar (one feed, one CalDAV resource). */
export const MAX_OCCURRENCES_PER_CALENDAR = 50_000;

/**
 * Recurrence instances one series may have to generate. A rule with COUNT must be walked from its
 * DTSTART (the count starts there), however long ago that was; a walk longer than this is not done.
 */
export const MAX_RECURRENCE_STEPS_PER_SERIES = 20_000;

/** Recurrence instances generated per call, all series together (a few µs each). */
export const MAX_RECURRENCE_STEPS_PER_CALENDAR = 250_000;

/** Problems listed per call; beyond, they are only counted. */
export const MAX_PROBLEMS_PER_CALENDAR = 100;

/** STANDARD/DAYLIGHT observances in one VTIMEZONE (full-history zones have a few hundred). */
export const MAX_OBSERVANCES_PER_ZONE = 1_000;

/** Months evaluated plus RDATE values read while building one VTIMEZONE's transitions. */
export const MAX_ZONE_RULE_STEPS = 50_000;
