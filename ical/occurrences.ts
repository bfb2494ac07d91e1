/**
 * One VEVENT (with its overrides) → its occurrences inside the window, bounded: at most `limit`
 * of them (the first ones), and no more recurrence instances generated than the plan allows.
 *
 * node-ical does the recurrence expansion (RRULE, EXDATE, RECURRENCE-ID). Around it we fix what it
 * gets wrong for our purposes: RDATE is ignored by its expansion (we add those instances); an
 * override whose RECURRENCE-ID is also an EXDATE comes back (EXDATE wins); and its EXDATE test for
 * all-day series compares every instance with every EXDATE, so we apply EXDATEs ourselves, by set.
 */
import type { DateWithTimeZone, EventInstance, RRule, VEvent } from 'node-ical';
import ical from 'node-ical';
import type { Occurrence, TimeWindow } from '../domain/calendar.ts';
import { quoteParam } from './content-lines.ts';
import { planExpansion } from './series-bounds.ts';
import type { ZoneRules } from './zone-rules.ts';

const DAY_MS = 86_400_000;
// Expansion runs on a wider range than the window and we filter exactly afterwards: node-ical's own
// range checks use host-local calendar days for all-day events and inclusive bounds, and values we
// keep in wall-clock form (custom zones) are off by up to 14 hours until converted.
const EXPANSION_MARGIN_MS = 2 * DAY_MS;

export type ExpansionOutcome =
  | {
      kind: 'expanded';
      /** Sorted by start; at most `limit`. */
      occurrences: Occurrence[];
      /** More occurrences exist in the window than were kept. */
      truncated: boolean;
      /** Recurrence instances generated (an upper bound). */
      steps: number;
    }
  | { kind: 'unexpandable'; message: string }
  /** Expanding the series would take more steps than are left for the calendar. */
  | { kind: 'over-budget' };

type EventLike = Omit<VEvent, 'recurrences'>;

export function eventOccurrences(
  uid: string,
  event: VEvent,
  window: TimeWindow,
  wallZone: ZoneRules | null,
  bounds: { limit: number; steps: number },
): ExpansionOutcome {
  const nothing: ExpansionOutcome = { kind: 'expanded', occurrences: [], truncated: false, steps: 0 };
  const windowStart = window.start.getTime();
  const windowEnd = window.end.getTime();
  if (!(windowStart < windowEnd) || bounds.limit <= 0) return nothing;
  if (!isValidDate(event.start) || statusOf(event) === 'CANCELLED') return nothing;

  const isFullDay = event.datetype === 'date' || event.start.dateOnly === true;
  const toInstant = (date: Date, allDay: boolean): number => {
    if (allDay) return utcMidnight(date);
    return wallZone ? wallZone.wallToUtc(date.getTime()) : date.getTime();
  };
  const from = new Date(windowStart - EXPANSION_MARGIN_MS);
  let to = new Date(windowEnd + EXPANSION_MARGIN_MS);
  // node-ical also searches back by the event's length, for instances still ongoing at `from`.
  const duration = durationMs(event, isFullDay);
  const searchFrom = new Date(from.getTime() - duration - DAY_MS);
  let truncated = false;
  let steps = 1;
  let expandable: VEvent = event;
  if (event.rrule) {
    // How long an instance lasts, as the window test below will see it.
    const span = isFullDay ? Math.max(1, Math.round(duration / DAY_MS)) * DAY_MS : Math.max(duration, 1);
    const plan = planExpansion(
      event.rrule,
      event.start,
      // Instances starting more than a day plus the event's length before the window cannot reach it.
      { from: new Date(windowStart - duration - DAY_MS), to },
      bounds.limit,
      (instance) => toInstant(instance, isFullDay) + span > windowStart,
    );
    if (plan.kind === 'unexpandable') return plan;
    if (plan.steps > bounds.steps) return { kind: 'over-budget' };
    ({ until: to, truncated, steps } = plan);
    if (plan.dates) expandable = { ...event, rrule: withDates(event.rrule, plan.dates) };
  }
  const rdates = rdatesOf(event);
  const recurring = Boolean(event.rrule) || rdates.length > 0 || isValidDate(event.recurrenceid);
  const excluded = exclusionsOf(event, isFullDay);
  // EXDATEs are applied below (by set): node-ical's own test is quadratic for all-day series.
  const instances: EventInstance[] = ical.expandRecurringEvent(expandable, {
    from,
    to,
    expandOngoing: true,
    excludeExdates: false,
  });
  instances.push(...rdateInstances(event, rdates, instances, isFullDay, excluded, { from: searchFrom, to }));
  steps += rdates.length;

  const occurrences: Occurrence[] = [];
  for (const instance of instances) {
    const source: EventLike = instance.isOverride ? instance.event : event;
    if (statusOf(source) === 'CANCELLED') continue;
    const original = instance.isOverride ? instance.event.recurrenceid : event.recurrenceid;
    const excludable = instance.isOverride ? original : instance.isRecurring ? instance.start : undefined;
    if (isValidDate(excludable) && excluded(excludable)) continue;

    const allDay = instance.isFullDay;
    const start = toInstant(instance.start, allDay);
    const end = Math.max(start, toInstant(instance.end, allDay));
    const overlaps = start < windowEnd && (end > windowStart || (end === start && start >= windowStart));
    if (!overlaps) continue;

    let occurrenceKey = '';
    if (recurring) {
      const originalStart = isValidDate(original) ? original : instance.start;
      occurrenceKey = new Date(
        toInstant(originalStart, allDay || originalStart.dateOnly === true),
      ).toISOString();
    }
    occurrences.push({
      occurrenceKey,
      uid,
      start: new Date(start),
      end: new Date(end),
      allDay,
      busy: textOf(source.transparency)?.toUpperCase() !== 'TRANSPARENT',
      status: statusOf(source) === 'TENTATIVE' ? 'tentative' : 'confirmed',
      // Overrides are complete components by RFC 5545, but producers often leave out the
      // descriptive properties: fall back to the series for those only.
      title: textOf(source.summary) ?? textOf(event.summary),
      calbridgeId: textOf(source['CALBRIDGE-ID']) ?? textOf(event['CALBRIDGE-ID']),
    });
  }
  occurrences.sort(
    (a, b) => a.start.getTime() - b.start.getTime() || a.occurrenceKey.localeCompare(b.occurrenceKey),
  );
  if (occurrences.length > bounds.limit) {
    occurrences.length = bounds.limit;
    truncated = true;
  }
  return { kind: 'expanded', occurrences, truncated, steps };
}

/** The rule, answering `between` from instances the plan already generated. */
function withDates(rrule: RRule, dates: Date[]): RRule {
  return {
    options: rrule.options,
    between: (after, before, inclusive = false) =>
      dates.filter((d) => (inclusive ? d >= after && d <= before : d > after && d < before)),
    all: (iterator) => rrule.all(iterator),
    before: (date, inclusive) => rrule.before(date, inclusive),
    after: (date, inclusive) => rrule.after(date, inclusive),
    toText: (locale) => rrule.toText(locale),
    toString: () => rrule.toString(),
  };
}

/** The event's length as node-ical measures it for "ongoing" instances. */
function durationMs(event: VEvent, isFullDay: boolean): number {
  if (!isValidDate(event.end)) return isFullDay ? DAY_MS : 0;
  return Math.max(0, event.end.getTime() - event.start.getTime());
}

/**
 * All-day values are calendar dates, not instants. We store them as UTC midnight of those dates and
 * the occurrence blocks the whole calendar day(s); the availability code interprets `allDay`
 * occurrences in the user's zone. node-ical hands them over as host-local midnights, hence the
 * local getters.
 */
function utcMidnight(date: DateWithTimeZone): number {
  return date.dateOnly === true || !date.tz
    ? Date.UTC(date.getFullYear(), date.getMonth(), date.getDate())
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

/**
 * Whether an original instance start is an EXDATE: by calendar day for all-day series, by instant
 * (or by a date-only EXDATE's day) otherwise, as node-ical tests it, but with one lookup each.
 */
function exclusionsOf(event: VEvent, isFullDay: boolean): (original: DateWithTimeZone) => boolean {
  const exdates = event.exdate;
  if (!exdates) return () => false;
  if (isFullDay) {
    const days = new Set<number>();
    for (const d of Object.values(exdates)) if (isValidDate(d)) days.add(utcMidnight(d));
    return (original) => days.has(utcMidnight(original));
  }
  return (original) => {
    const iso = original.toISOString();
    return Object.hasOwn(exdates, iso) || exdates[iso.slice(0, 10)]?.dateOnly === true;
  };
}

/** RDATE values as Dates, read through node-ical's own date parsing (it stores RDATE unparsed). */
function rdatesOf(event: VEvent): DateWithTimeZone[] {
  const raw = event.rdate;
  if (raw === undefined) return [];
  const entries = Array.isArray(raw) ? raw : [raw];
  const lines: string[] = [];
  for (const entry of entries) {
    let params = '';
    let value: string;
    if (typeof entry === 'string') value = entry;
    else if (entry && typeof entry === 'object' && 'val' in entry) {
      value = String(entry.val);
      const p = (entry as { params?: Record<string, unknown> }).params ?? {};
      for (const [name, v] of Object.entries(p)) {
        if (name === 'VALUE' && String(v).toUpperCase() === 'PERIOD') continue;
        params += `;${name}=${quoteParam(String(v))}`;
      }
    } else continue;
    // A PERIOD contributes its start; the instance keeps the series' duration.
    const starts = value.split(',').map((v) => v.split('/')[0] ?? '');
    lines.push(`EXDATE${params}:${starts.join(',')}`);
  }
  if (lines.length === 0) return [];
  try {
    const text = `BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:rdate\n${lines.join('\n')}\nEND:VEVENT\nEND:VCALENDAR`;
    const parsed = ical.sync.parseICS(text).rdate as VEvent | undefined;
    const unique = new Map<number, DateWithTimeZone>();
    for (const d of Object.values(parsed?.exdate ?? {})) if (isValidDate(d)) unique.set(d.getTime(), d);
    return [...unique.values()];
  } catch {
    return [];
  }
}

function rdateInstances(
  event: VEvent,
  rdates: DateWithTimeZone[],
  existing: EventInstance[],
  isFullDay: boolean,
  excluded: (original: DateWithTimeZone) => boolean,
  range: { from: Date; to: Date },
): EventInstance[] {
  if (rdates.length === 0) return [];
  const keyOf = (d: Date) => (isFullDay ? String(utcMidnight(d)) : d.toISOString());
  const taken = new Set<string>();
  for (const instance of existing) {
    const original = instance.isOverride ? instance.event.recurrenceid : instance.start;
    if (isValidDate(original)) taken.add(keyOf(original));
  }
  for (const override of Object.values(event.recurrences ?? {})) {
    if (isValidDate(override.recurrenceid)) taken.add(keyOf(override.recurrenceid));
  }
  const baseStart = event.start;
  const baseEnd = isValidDate(event.end) ? event.end : baseStart;
  const instances: EventInstance[] = [];
  // Those the range can show, first ones first; the caller cuts the total to the cap.
  const inRange = rdates
    .filter((d) => d.getTime() >= range.from.getTime() && d.getTime() <= range.to.getTime() + DAY_MS)
    .sort((a, b) => a.getTime() - b.getTime());
  for (const rdate of inRange) {
    if (taken.has(keyOf(rdate)) || excluded(rdate)) continue;
    taken.add(keyOf(rdate));
    let start: Date;
    let end: Date;
    if (isFullDay) {
      const days = Math.max(1, Math.round((utcMidnight(baseEnd) - utcMidnight(baseStart)) / DAY_MS));
      start = new Date(rdate.getFullYear(), rdate.getMonth(), rdate.getDate());
      end = new Date(rdate.getFullYear(), rdate.getMonth(), rdate.getDate() + days);
    } else {
      start = new Date(rdate.getTime());
      end = new Date(rdate.getTime() + Math.max(0, baseEnd.getTime() - baseStart.getTime()));
    }
    instances.push({
      start,
      end,
      summary: event.summary,
      isFullDay,
      isRecurring: true,
      isOverride: false,
      event,
    });
  }
  return instances;
}

function isValidDate(value: unknown): value is DateWithTimeZone {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** A property's text whether node-ical stored it plain, with parameters, or repeated. */
function textOf(value: unknown): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'string') return first;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (first && typeof first === 'object' && 'val' in first) return textOf((first as { val: unknown }).val);
  return null;
}

function statusOf(event: EventLike): string | null {
  return textOf(event.status)?.toUpperCase() ?? null;
}
