/**
 * How far a recurrence rule may be expanded. node-ical (rrule-temporal) expands a rule over a range
 * and returns every instance at once, so the bound has to be decided before asking: from the rule's
 * densest possible day, its COUNT, and, when that is not enough, by counting instances slice by
 * slice until the cap is reached.
 *
 * FREQ=SECONDLY and FREQ=MINUTELY are not expanded at all. No calendar client offers them, a
 * meeting that repeats every minute is not one a person attends, and expanding one even to the
 * per-series cap would import 5,000 one-minute (or one-second) blocks covering a few hours of a rule
 * meant to run indefinitely: a plausible-looking but wrong answer. They are reported instead.
 */
import type { RRule } from 'node-ical';
import { MAX_RECURRENCE_STEPS_PER_SERIES } from './limits.ts';

const DAY_MS = 86_400_000;
const UNEXPANDED_FREQUENCIES = new Set(['SECONDLY', 'MINUTELY']);

/** rrule-temporal gives up on a range spanning more than 10,000 of a rule's periods: stay below. */
const MAX_PERIODS_PER_QUERY = 9_000;
const PERIOD_MS: Record<string, number> = {
  HOURLY: 3_600_000,
  DAILY: DAY_MS,
  WEEKLY: 7 * DAY_MS,
  MONTHLY: 28 * DAY_MS,
  YEARLY: 365 * DAY_MS,
};

export type ExpansionPlan =
  | { kind: 'unexpandable'; message: string }
  | {
      kind: 'expand';
      /** Expand up to here (inclusive); before the requested end when the series is cut. */
      until: Date;
      /**
       * The rule's instances from the requested start to `until`, when the plan had to generate them
       * (slice by slice, or from DTSTART for a COUNT): expansion reuses them instead of asking again.
       */
      dates: Date[] | null;
      /** The series has more instances than `limit` in the range: only the first are kept. */
      truncated: boolean;
      /** Upper bound of the instances generated. */
      steps: number;
    };

/**
 * `from`..`to` is the range the expansion will search (the window, widened for ongoing instances);
 * `start` is the series' DTSTART, where a COUNT starts. Only instances that `mayOverlap` the window
 * count towards `limit`, so that a cut series keeps its first `limit` occurrences in the window.
 */
export function planExpansion(
  rrule: RRule,
  start: Date,
  range: { from: Date; to: Date },
  limit: number,
  mayOverlap: (instance: Date) => boolean,
): ExpansionPlan {
  const { from, to } = range;
  const options = rrule.options;
  const freq = String(options.freq ?? '').toUpperCase();
  if (UNEXPANDED_FREQUENCIES.has(freq)) {
    return {
      kind: 'unexpandable',
      message: `The series repeats FREQ=${freq}, which is not imported: no calendar occurrence repeats that often`,
    };
  }
  const perDay = maxPerDay(freq, options);
  const interval = Math.max(1, Math.floor(Number(options.interval) || 1));
  const count = typeof options.count === 'number' && options.count > 0 ? options.count : null;
  if (count !== null) {
    // rrule-temporal walks a COUNT rule from DTSTART whatever the range asked for.
    const walk = Math.min(count, perDay * (days(start, to) + 1));
    if (walk > MAX_RECURRENCE_STEPS_PER_SERIES) {
      return {
        kind: 'unexpandable',
        message:
          `The series (COUNT=${count}) would need more than ${MAX_RECURRENCE_STEPS_PER_SERIES.toLocaleString('en-US')} ` +
          'instances generated from its start to reach the import window: it was not imported',
      };
    }
    if (walk <= limit) return { kind: 'expand', until: to, dates: null, truncated: false, steps: walk };
    return cutAt(rrule.between(from, to, true).filter(mayOverlap), limit, to, walk);
  }
  const periodMs = (PERIOD_MS[freq] ?? DAY_MS) * interval;
  const rangeMs = to.getTime() - from.getTime();
  const estimate = perDay * (days(from, to) + 1);
  if (estimate <= limit && rangeMs / periodMs <= MAX_PERIODS_PER_QUERY) {
    return { kind: 'expand', until: to, dates: null, truncated: false, steps: estimate };
  }
  // Slices in which neither the densest day can exceed the cap nor the periods rrule-temporal's limit.
  const sliceMs = Math.max(
    1000,
    Math.min(Math.floor((limit / perDay) * DAY_MS), MAX_PERIODS_PER_QUERY * periodMs),
  );
  const found: Date[] = [];
  let steps = 0;
  for (let sliceStart = from.getTime(); sliceStart <= to.getTime(); sliceStart += sliceMs) {
    const sliceEnd = Math.min(to.getTime(), sliceStart + sliceMs - 1);
    const slice = rrule.between(new Date(sliceStart), new Date(sliceEnd), true);
    steps += slice.length;
    for (const date of slice) if (mayOverlap(date)) found.push(date);
    if (found.length > limit) break;
  }
  return cutAt(found, limit, to, steps);
}

function cutAt(dates: Date[], limit: number, to: Date, steps: number): ExpansionPlan {
  const last = dates[limit - 1];
  if (dates.length <= limit || last === undefined) {
    return { kind: 'expand', until: to, dates, truncated: false, steps };
  }
  return { kind: 'expand', until: expansionEnd(last), dates: dates.slice(0, limit), truncated: true, steps };
}

/**
 * Just after `last`. node-ical widens a range end that falls on a local midnight (ignoring
 * milliseconds) to the end of that day, which could bring in a whole day of a dense rule.
 */
function expansionEnd(last: Date): Date {
  const end = new Date(last.getTime() + 500);
  const midnight = end.getHours() === 0 && end.getMinutes() === 0 && end.getSeconds() === 0;
  return midnight ? new Date(last.getTime() + 1000) : end;
}

function days(from: Date, to: Date): number {
  return Math.max(0, Math.ceil((to.getTime() - from.getTime()) / DAY_MS));
}

/** An upper bound of the instances on any one day: (hours × minutes × seconds) it can pick. */
function maxPerDay(freq: string, options: Record<string, unknown>): number {
  const distinct = (value: unknown): number | null =>
    Array.isArray(value) && value.length > 0 ? new Set(value).size : null;
  const interval = Math.max(1, Math.floor(Number(options.interval) || 1));
  const byHour = distinct(options.byHour);
  const hours = freq === 'HOURLY' ? Math.min(byHour ?? 24, Math.ceil(24 / interval)) : (byHour ?? 1);
  const perDay = hours * (distinct(options.byMinute) ?? 1) * (distinct(options.bySecond) ?? 1);
  return Math.max(1, Math.min(86_400, perDay));
}
