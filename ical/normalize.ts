/**
 * iCalendar text → normalised occurrences, for every provider that hands us iCalendar (ICS feeds,
 * CalDAV resources). Pure: no I/O, no clock; the caller passes the window. Bounded: the work any
 * text can cause is capped (ical/limits.ts), and what a cap or a defect leaves out is reported per
 * object in `problems`, never silently dropped and never failing the rest of the calendar.
 *
 * The pipeline: unfold and pre-scan the lines (scan.ts: line cap, stable UIDs), rewrite custom-zone
 * values (vtimezone.ts) and floating values (floating.ts) so that node-ical reads them the same on
 * any host, parse with node-ical, then expand each VEVENT within the caps (occurrences.ts).
 */
import type { CalendarResponse, VEvent } from 'node-ical';
import ical from 'node-ical';
import type { Occurrence, TimeWindow } from '../domain/calendar.ts';
import { assertICalendar, splitLines } from './content-lines.ts';
import { ICalendarError } from './errors.ts';
import { floatingTimeZone, rewriteFloatingTimes } from './floating.ts';
import {
  MAX_OCCURRENCES_PER_CALENDAR,
  MAX_OCCURRENCES_PER_SERIES,
  MAX_RECURRENCE_STEPS_PER_CALENDAR,
} from './limits.ts';
import { eventOccurrences } from './occurrences.ts';
import { type ICalendarProblem, ProblemLog } from './problems.ts';
import { scanLines } from './scan.ts';
import { rewriteCustomZones } from './vtimezone.ts';

export type { ICalendarProblem, ICalendarProblemKind } from './problems.ts';

export interface ICalendarObject {
  uid: string;
  /** Occurrences overlapping the window, sorted by start; at most MAX_OCCURRENCES_PER_SERIES. */
  occurrences: Occurrence[];
  /** The object's VEVENT components as they appear in the text (unfolded, in order), for hashing. */
  sourceText: string;
}

export interface ICalendarOptions {
  /**
   * IANA zone for floating times (no TZID, no "Z") when the calendar has no usable X-WR-TIMEZONE:
   * the calendar owner's. Default (and for a name that is not an IANA zone): UTC.
   */
  floatingTimeZone?: string;
  /**
   * Occurrences this call may keep in all, for a caller that spreads MAX_OCCURRENCES_PER_CALENDAR
   * over several calls (one per CalDAV resource). Default: MAX_OCCURRENCES_PER_CALENDAR.
   */
  maxOccurrences?: number;
}

export interface ICalendarFeed {
  /** X-WR-CALNAME, else RFC 7986 NAME. */
  name: string | null;
  /** X-APPLE-CALENDAR-COLOR, else RFC 7986 COLOR, verbatim. */
  color: string | null;
  /**
   * By UID, in order of first appearance. An object that is skipped, unexpandable or past the
   * calendar's cap is here with no occurrences (so a full sync removes what it had), and in `problems`.
   */
  objects: Map<string, ICalendarObject>;
  /** At most MAX_PROBLEMS_PER_CALENDAR, in the order found. */
  problems: ICalendarProblem[];
  /** Problems beyond those listed. */
  omittedProblems: number;
  /** The zone floating times were read in. */
  floatingTimeZone: string;
}

/** The occurrences of every VEVENT UID in the text that overlap `window`, by UID. */
export function expandICalendar(
  icsText: string,
  window: TimeWindow,
  options: ICalendarOptions = {},
): Map<string, Occurrence[]> {
  const result = new Map<string, Occurrence[]>();
  for (const [uid, object] of parseICalendarFeed(icsText, window, options).objects)
    result.set(uid, object.occurrences);
  return result;
}

export function parseICalendarFeed(
  icsText: string,
  window: TimeWindow,
  options: ICalendarOptions = {},
): ICalendarFeed {
  const problems = new ProblemLog();
  const lines = splitLines(assertICalendar(icsText));
  const scan = scanLines(lines, problems);
  const wallZones = rewriteCustomZones(lines, scan, window, problems);
  const floatingZone = floatingTimeZone(scan.wrTimezone, options.floatingTimeZone);
  rewriteFloatingTimes(lines, scan.events, floatingZone);

  let parsed: CalendarResponse;
  try {
    parsed = ical.sync.parseICS(lines.join('\n'));
  } catch (error) {
    throw new ICalendarError(`iCalendar could not be parsed: ${(error as Error).message}`);
  }

  const objects = new Map<string, ICalendarObject>();
  const budget = {
    occurrences: Math.max(
      0,
      Math.min(options.maxOccurrences ?? MAX_OCCURRENCES_PER_CALENDAR, MAX_OCCURRENCES_PER_CALENDAR),
    ),
    steps: MAX_RECURRENCE_STEPS_PER_CALENDAR,
  };
  const overCap = { objects: 0, firstUid: '' };
  for (const [key, component] of Object.entries(parsed)) {
    if (key === 'vcalendar' || !component || component.type !== 'VEVENT') continue;
    const event = component as VEvent;
    const uid = typeof event.uid === 'string' ? event.uid : key;
    const sourceText = scan.sourceByUid.get(uid)?.join('\n') ?? '';
    const object: ICalendarObject = { uid, occurrences: [], sourceText };
    objects.set(uid, object);
    if (budget.occurrences === 0) {
      if (overCap.objects++ === 0) overCap.firstUid = uid;
      continue;
    }
    const limit = Math.min(MAX_OCCURRENCES_PER_SERIES, budget.occurrences);
    try {
      const outcome = eventOccurrences(uid, event, window, wallZones.get(uid) ?? null, {
        limit,
        steps: budget.steps,
      });
      if (outcome.kind === 'unexpandable') {
        problems.add({ uid, kind: 'unexpandable', message: outcome.message });
      } else if (outcome.kind === 'over-budget') {
        problems.add({
          uid,
          kind: 'truncated',
          message: `The calendar's recurrences need more than ${MAX_RECURRENCE_STEPS_PER_CALENDAR.toLocaleString('en-US')} instances generated: this series was not imported`,
        });
      } else {
        object.occurrences = outcome.occurrences;
        budget.occurrences -= outcome.occurrences.length;
        budget.steps -= outcome.steps;
        if (outcome.truncated) problems.add(truncation(uid, outcome.occurrences, limit));
      }
    } catch (error) {
      // rrule-temporal gives up on a rule after 10,000 iterations; anything else is data it cannot read.
      const message = (error as Error).message;
      problems.add({ uid, kind: /iterations/i.test(message) ? 'unexpandable' : 'unreadable', message });
    }
  }
  for (const uid of scan.skippedUids) {
    if (!objects.has(uid)) objects.set(uid, { uid, occurrences: [], sourceText: '' });
  }
  if (overCap.objects > 0) {
    problems.add({
      uid: null,
      kind: 'truncated',
      message:
        `The calendar has more than ${MAX_OCCURRENCES_PER_CALENDAR.toLocaleString('en-US')} occurrences in the import window: ` +
        `${overCap.objects.toLocaleString('en-US')} event(s) from ${JSON.stringify(overCap.firstUid)} on were not imported`,
    });
  }
  return {
    name: scan.name,
    color: scan.color,
    objects,
    problems: problems.listed,
    omittedProblems: problems.omitted,
    floatingTimeZone: floatingZone,
  };
}

function truncation(uid: string, kept: Occurrence[], limit: number): ICalendarProblem {
  const last = kept.at(-1)?.start.toISOString();
  const why =
    limit < MAX_OCCURRENCES_PER_SERIES
      ? `the calendar reached its cap of ${MAX_OCCURRENCES_PER_CALENDAR.toLocaleString('en-US')} occurrences`
      : `the series has more than ${MAX_OCCURRENCES_PER_SERIES.toLocaleString('en-US')} occurrences in the import window`;
  return {
    uid,
    kind: 'truncated',
    message: `Only the first ${kept.length.toLocaleString('en-US')} occurrences were imported${last ? ` (until ${last})` : ''}: ${why}`,
  };
}
