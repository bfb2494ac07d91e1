/**
 * What could not be imported as given, per object, so that a caller can show it per calendar.
 * None of these fails the calendar: the object is skipped, cut short or read in UTC.
 */
import { MAX_PROBLEMS_PER_CALENDAR } from './limits.ts';

export type ICalendarProblemKind =
  /** The object was skipped: a line over the length cap, or data the parser could not read. */
  | 'unreadable'
  /** The object (or the calendar) has more occurrences than the caps: the first ones were kept. */
  | 'truncated'
  /** A recurrence rule we do not expand (FREQ=SECONDLY/MINUTELY, or too long a COUNT walk): nothing imported. */
  | 'unexpandable'
  /** A TZID that is unknown, or whose VTIMEZONE is malformed: the object's times were read as UTC. */
  | 'time-zone';

export interface ICalendarProblem {
  /** The object's UID (the key in `objects`); null for a problem of the calendar as a whole. */
  uid: string | null;
  kind: ICalendarProblemKind;
  /** One sentence for a person; never contains more than a short excerpt of the provider's bytes. */
  message: string;
}

export class ProblemLog {
  readonly listed: ICalendarProblem[] = [];
  /** Problems beyond MAX_PROBLEMS_PER_CALENDAR: counted, not listed. */
  omitted = 0;

  add(problem: ICalendarProblem): void {
    if (this.listed.length < MAX_PROBLEMS_PER_CALENDAR) this.listed.push(problem);
    else this.omitted += 1;
  }
}
