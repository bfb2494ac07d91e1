/**
 * iCalendar text → normalised occurrences, for every provider that hands us iCalendar (ICS feeds,
 * CalDAV resources). Pure: no I/O, no clock; the caller passes the window.
 *
 * node-ical does the parsing and the recurrence expansion (RRULE, EXDATE, RECURRENCE-ID). Around it
 * we fix what it gets wrong for our purposes (see docs/PROVIDERS.md, "ICS feeds"):
 *  - a TZID that is neither an IANA nor a Windows name is read as host-local time (UTC on our
 *    servers) even when the feed carries a VTIMEZONE for it: we evaluate such VTIMEZONEs ourselves
 *    and rewrite the affected values before node-ical sees them;
 *  - RDATE is ignored by its expansion: we add those instances;
 *  - an override whose RECURRENCE-ID is also an EXDATE comes back: EXDATE wins;
 *  - a VEVENT without UID is keyed by a random UUID (a new key on every fetch): we give it a
 *    stable one derived from its text;
 *  - a duplicate DTSTART/DTEND throws for the whole feed: we keep the first, as node-ical means to.
 *
 * Longer than our usual file (~420 lines) on purpose: the pre-scan and the expansion share the
 * repairs listed above, and split apart each half would only make sense read with the other.
 */
import { createHash } from 'node:crypto';
import type { CalendarResponse, DateWithTimeZone, EventInstance, VEvent } from 'node-ical';
import ical from 'node-ical';
import type { Occurrence, TimeWindow } from '../domain/calendar.ts';
import {
  assertICalendar,
  nonEmpty,
  parseContentLine,
  quoteParam,
  splitLines,
  unescapeText,
  unquote,
} from './content-lines.ts';
import { ICalendarError } from './errors.ts';
import { rewriteCustomZones, type VEventBlock, type ZoneRules, type ZoneScan } from './vtimezone.ts';

export interface ICalendarObject {
  uid: string;
  /** Occurrences overlapping the window, sorted by start. */
  occurrences: Occurrence[];
  /** The object's VEVENT components as they appear in the text (unfolded, in order), for hashing. */
  sourceText: string;
}

export interface ICalendarFeed {
  /** X-WR-CALNAME, else RFC 7986 NAME. */
  name: string | null;
  /** X-APPLE-CALENDAR-COLOR, else RFC 7986 COLOR, verbatim. */
  color: string | null;
  /** By UID, in order of first appearance. */
  objects: Map<string, ICalendarObject>;
  /**
   * Objects that could not be expanded (e.g. a rule rrule-temporal gives up on after 10,000
   * iterations): they are in `objects` with no occurrences rather than failing the whole feed.
   */
  problems: { uid: string; message: string }[];
}

/** The occurrences of every VEVENT UID in the text that overlap `window`, by UID. */
export function expandICalendar(icsText: string, window: TimeWindow): Map<string, Occurrence[]> {
  const result = new Map<string, Occurrence[]>();
  for (const [uid, object] of parseICalendarFeed(icsText, window).objects)
    result.set(uid, object.occurrences);
  return result;
}

const DAY_MS = 86_400_000;
// Expansion runs on a wider range than the window and we filter exactly afterwards: node-ical's own
// range checks use host-local calendar days for all-day events and inclusive bounds, and values we
// keep in wall-clock form (custom zones) are off by up to 14 hours until converted.
const EXPANSION_MARGIN_MS = 2 * DAY_MS;

export function parseICalendarFeed(icsText: string, window: TimeWindow): ICalendarFeed {
  const lines = splitLines(assertICalendar(icsText));
  const scan = scanLines(lines);
  const wallZones = rewriteCustomZones(lines, scan, window);

  let parsed: CalendarResponse;
  try {
    parsed = ical.sync.parseICS(lines.join('\n'));
  } catch (error) {
    throw new ICalendarError(`iCalendar could not be parsed: ${(error as Error).message}`);
  }

  const objects = new Map<string, ICalendarObject>();
  const problems: ICalendarFeed['problems'] = [];
  for (const [key, component] of Object.entries(parsed)) {
    if (key === 'vcalendar' || !component || component.type !== 'VEVENT') continue;
    const event = component as VEvent;
    const uid = typeof event.uid === 'string' ? event.uid : key;
    let occurrences: Occurrence[] = [];
    try {
      occurrences = eventOccurrences(uid, event, window, wallZones.get(uid) ?? null);
    } catch (error) {
      problems.push({ uid, message: (error as Error).message });
    }
    objects.set(uid, { uid, occurrences, sourceText: scan.sourceByUid.get(uid)?.join('\n') ?? '' });
  }
  return { name: scan.name, color: scan.color, objects, problems };
}

// ---------------------------------------------------------------------------------------------
// Pre-scan: calendar properties, VTIMEZONEs, VEVENT blocks
// Here rather than in content-lines.ts: besides reading, it repairs the text for node-ical.

const DATE_PROPERTIES = new Set(['DTSTART', 'DTEND', 'RECURRENCE-ID', 'EXDATE', 'RDATE']);
const SINGLETON_PROPERTIES = new Set(['DTSTART', 'DTEND', 'DUE', 'DURATION']);

interface Scan extends ZoneScan {
  name: string | null;
  color: string | null;
  sourceByUid: Map<string, string[]>;
}

function scanLines(lines: string[]): Scan {
  const scan: Scan = {
    name: null,
    color: null,
    timezones: new Map(),
    usedTzids: new Set(),
    events: [],
    sourceByUid: new Map(),
  };
  let calName: string | null = null;
  let rfcName: string | null = null;
  let appleColor: string | null = null;
  let rfcColor: string | null = null;
  const stack: string[] = [];
  let timezone: string[] | null = null;
  let event: { start: number; block: VEventBlock; uidLine: number; seen: Set<string> } | null = null;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const head = line.slice(0, 6).toUpperCase();
    if (head === 'BEGIN:') {
      const component = line.slice(6).trim().toUpperCase();
      stack.push(component);
      if (component === 'VTIMEZONE') timezone = [];
      timezone?.push(line);
      if (component === 'VEVENT' && stack.length === 2) {
        event = {
          start: i,
          uidLine: -1,
          seen: new Set(),
          block: {
            uid: '',
            isOverride: false,
            recurring: false,
            dtstartTzid: null,
            dateLines: [],
            rruleLines: [],
          },
        };
      }
      continue;
    }
    if (head.startsWith('END:')) {
      const component = line.slice(4).trim().toUpperCase();
      timezone?.push(line);
      if (component === 'VTIMEZONE' && timezone) {
        const tzid = timezone.map(parseContentLine).find((p) => p?.name === 'TZID')?.value;
        if (tzid) scan.timezones.set(unquote(tzid), timezone);
        timezone = null;
      }
      if (component === 'VEVENT' && stack.length === 2 && event) {
        finishEvent(lines, event.start, i, event.block, event.uidLine, scan);
        event = null;
      }
      stack.pop();
      continue;
    }
    if (timezone) {
      timezone.push(line);
      continue;
    }

    const depth = stack.length;
    if (depth === 1 && stack[0] === 'VCALENDAR') {
      const property = parseContentLine(line);
      if (property?.name === 'X-WR-CALNAME') calName = unescapeText(property.value).trim() || null;
      if (property?.name === 'NAME') rfcName = unescapeText(property.value).trim() || null;
      if (property?.name === 'X-APPLE-CALENDAR-COLOR') appleColor = property.value.trim() || null;
      if (property?.name === 'COLOR') rfcColor = property.value.trim() || null;
    } else if (event && depth === 2) {
      const property = parseContentLine(line);
      if (!property) continue;
      const { block } = event;
      if (SINGLETON_PROPERTIES.has(property.name)) {
        // node-ical throws on a second DTSTART/DTEND, failing the whole feed: keep the first.
        if (event.seen.has(property.name)) {
          lines[i] = '';
          continue;
        }
        event.seen.add(property.name);
      }
      if (property.name === 'UID' && event.uidLine < 0) {
        event.uidLine = i;
        block.uid = unescapeText(property.value);
      }
      if (property.name === 'RECURRENCE-ID') block.isOverride = true;
      if (property.name === 'RRULE') {
        block.recurring = true;
        block.rruleLines.push(i);
      }
      if (property.name === 'RDATE') block.recurring = true;
      if (property.name === 'DTSTART') block.dtstartTzid = nonEmpty(property.params.get('TZID'));
      if (DATE_PROPERTIES.has(property.name)) {
        block.dateLines.push(i);
        const tzid = nonEmpty(property.params.get('TZID'));
        if (tzid !== null) scan.usedTzids.add(tzid);
      }
    }
  }
  scan.name = calName ?? rfcName;
  scan.color = appleColor ?? rfcColor;
  return scan;
}

function finishEvent(
  lines: string[],
  start: number,
  end: number,
  block: VEventBlock,
  uidLine: number,
  scan: Scan,
) {
  const source = lines.slice(start, end + 1).join('\n');
  if (uidLine < 0 || block.uid === '') {
    // Stable across fetches as long as the component's text is unchanged.
    block.uid = `calbridge-no-uid-${createHash('sha256').update(source).digest('hex').slice(0, 24)}`;
    if (uidLine >= 0) lines[uidLine] = '';
    lines[start] = `${lines[start]}\nUID:${block.uid}`;
  }
  scan.events.push(block);
  const sources = scan.sourceByUid.get(block.uid);
  if (sources) sources.push(source);
  else scan.sourceByUid.set(block.uid, [source]);
}

// ---------------------------------------------------------------------------------------------
// Expansion and normalisation

type EventLike = Omit<VEvent, 'recurrences'>;

function eventOccurrences(
  uid: string,
  event: VEvent,
  window: TimeWindow,
  wallZone: ZoneRules | null,
): Occurrence[] {
  const windowStart = window.start.getTime();
  const windowEnd = window.end.getTime();
  if (!(windowStart < windowEnd)) return [];
  if (!isValidDate(event.start) || statusOf(event) === 'CANCELLED') return [];

  const rdates = rdatesOf(event);
  const recurring = Boolean(event.rrule) || rdates.length > 0 || isValidDate(event.recurrenceid);
  const instances: EventInstance[] = ical.expandRecurringEvent(event, {
    from: new Date(windowStart - EXPANSION_MARGIN_MS),
    to: new Date(windowEnd + EXPANSION_MARGIN_MS),
    expandOngoing: true,
  });
  const isFullDay = event.datetype === 'date' || event.start.dateOnly === true;
  instances.push(...rdateInstances(event, rdates, instances, isFullDay));

  const toInstant = (date: Date, allDay: boolean): number => {
    if (allDay) return utcMidnight(date);
    return wallZone ? wallZone.wallToUtc(date.getTime()) : date.getTime();
  };

  const occurrences: Occurrence[] = [];
  for (const instance of instances) {
    const source: EventLike = instance.isOverride ? instance.event : event;
    if (statusOf(source) === 'CANCELLED') continue;
    const original = instance.isOverride ? instance.event.recurrenceid : event.recurrenceid;
    if (instance.isOverride && original && isExcluded(event, original, isFullDay)) continue;

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
  return occurrences.sort(
    (a, b) => a.start.getTime() - b.start.getTime() || a.occurrenceKey.localeCompare(b.occurrenceKey),
  );
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

function isExcluded(event: VEvent, original: DateWithTimeZone, isFullDay: boolean): boolean {
  const exdates = event.exdate;
  if (!exdates) return false;
  if (isFullDay) {
    const day = utcMidnight(original);
    return Object.values(exdates).some((d) => d instanceof Date && utcMidnight(d) === day);
  }
  return Object.hasOwn(exdates, original.toISOString());
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
) {
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
  for (const rdate of rdates) {
    if (taken.has(keyOf(rdate)) || isExcluded(event, rdate, isFullDay)) continue;
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
