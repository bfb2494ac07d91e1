/**
 * iCalendar text → normalised occurrences, for every provider that hands us iCalendar (ICS feeds,
 * CalDAV resources). Pure: no I/O, no clock; the caller passes the window.
 *
 * node-ical does the parsing and the recurrence expansion (RRULE, EXDATE, RECURRENCE-ID). Around it
 * we fix what it gets wrong for our purposes (see /work/shared/PROVIDERS.md, "ICS feeds"):
 *  - a TZID that is neither an IANA nor a Windows name is read as host-local time (UTC on our
 *    servers) even when the feed carries a VTIMEZONE for it: we evaluate such VTIMEZONEs ourselves
 *    and rewrite the affected values before node-ical sees them;
 *  - RDATE is ignored by its expansion: we add those instances;
 *  - an override whose RECURRENCE-ID is also an EXDATE comes back: EXDATE wins;
 *  - a VEVENT without UID is keyed by a random UUID (a new key on every fetch): we give it a
 *    stable one derived from its text;
 *  - a duplicate DTSTART/DTEND throws for the whole feed: we keep the first, as node-ical means to.
 */
import { createHash } from 'node:crypto';
import type { CalendarResponse, DateWithTimeZone, EventInstance, VEvent } from 'node-ical';
import ical from 'node-ical';
import type { Occurrence, TimeWindow } from '../domain/calendar.ts';
import { ICalendarError } from './errors.ts';

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

const DATE_PROPERTIES = new Set(['DTSTART', 'DTEND', 'RECURRENCE-ID', 'EXDATE', 'RDATE']);
const SINGLETON_PROPERTIES = new Set(['DTSTART', 'DTEND', 'DUE', 'DURATION']);

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
// Validation and line handling

function assertICalendar(text: string): string {
  const body = text.replace(/^\uFEFF/, '');
  const head = body.trimStart();
  if (!/^BEGIN:VCALENDAR\s*(\r?\n|$)/i.test(head)) {
    throw new ICalendarError(`Not iCalendar data: ${describeNonCalendar(head)}`);
  }
  // A feed cut off mid-transfer still parses, minus its tail; a full sync from it would delete the
  // missing events, so refuse it.
  if (!/(^|\n)END:VCALENDAR\s*$/i.test(body.trimEnd())) {
    throw new ICalendarError('iCalendar data is truncated: it does not end with END:VCALENDAR');
  }
  return body;
}

function describeNonCalendar(head: string): string {
  if (head === '') return 'the body is empty';
  if (head.startsWith('<')) return 'the body looks like HTML or XML';
  if (head.startsWith('{') || head.startsWith('[')) return 'the body looks like JSON';
  return `it does not start with BEGIN:VCALENDAR (starts with ${JSON.stringify(head.slice(0, 40))})`;
}

/** Unfolded content lines (RFC 5545 3.1), whatever the line endings. */
function splitLines(text: string): string[] {
  return text
    .replace(/\r\n|\r/g, '\n')
    .replace(/\n[ \t]/g, '')
    .split('\n');
}

interface ContentLine {
  name: string;
  /** Parameter names upper-cased, values without surrounding quotes. */
  params: Map<string, string>;
  value: string;
}

const CONTENT_LINE =
  /^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:]*)(?:,(?:"[^"]*"|[^";:]*))*)*):(.*)$/s;
const PARAMETER = /;([A-Za-z0-9-]+)=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)/g;

function parseContentLine(line: string): ContentLine | null {
  const match = CONTENT_LINE.exec(line);
  if (!match) return null;
  const params = new Map<string, string>();
  for (const param of (match[2] ?? '').matchAll(PARAMETER)) {
    params.set((param[1] ?? '').toUpperCase(), (param[2] ?? '').replace(/^"(.*)"$/s, '$1'));
  }
  return { name: (match[1] ?? '').toUpperCase(), params, value: match[3] ?? '' };
}

/** RFC 5545 TEXT unescaping, as node-ical applies it (so our UID keys equal its keys). */
function unescapeText(value: string): string {
  return value
    .replaceAll('\\,', ',')
    .replaceAll('\\;', ';')
    .replaceAll(/\\n/gi, '\n')
    .replaceAll('\\\\', '\\')
    .replace(/^"(.*)"$/s, '$1');
}

// ---------------------------------------------------------------------------------------------
// Pre-scan: calendar properties, VTIMEZONEs, VEVENT blocks

interface VEventBlock {
  uid: string;
  isOverride: boolean;
  /** RRULE or RDATE present. */
  recurring: boolean;
  dtstartTzid: string | null;
  /** Top-level DTSTART/DTEND/RECURRENCE-ID/EXDATE/RDATE lines. */
  dateLines: number[];
  rruleLines: number[];
}

interface Scan {
  name: string | null;
  color: string | null;
  /** TZID → the VTIMEZONE's lines. */
  timezones: Map<string, string[]>;
  /** TZIDs that VEVENT date properties refer to. */
  usedTzids: Set<string>;
  events: VEventBlock[];
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

function unquote(value: string): string {
  return value.trim().replace(/^"(.*)"$/s, '$1');
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

// ---------------------------------------------------------------------------------------------
// Custom time zones: VTIMEZONE evaluation and rewriting

/** A UTC offset function built from one VTIMEZONE's observances. "Wall" values are local times encoded as if UTC. */
interface ZoneRules {
  wallToUtc(wall: number): number;
  utcToWall(utc: number): number;
}

const UTC_RULES: ZoneRules = { wallToUtc: (wall) => wall, utcToWall: (utc) => utc };

/**
 * Rewrites, in place, every date-time value given in a custom zone so that node-ical reads it right,
 * and returns the UIDs whose values were left in wall-clock form (with the zone to convert them with).
 *
 * A value that only needs to be an instant becomes UTC ("...Z"). A recurring series whose DTSTART is
 * in a custom zone cannot simply become UTC: its instances must keep their local time across DST
 * changes. Such a series (all its components) is moved into wall-clock time written as UTC, which
 * node-ical expands without any DST shift; its occurrences are converted back to instants after
 * expansion.
 */
function rewriteCustomZones(lines: string[], scan: Scan, window: TimeWindow): Map<string, ZoneRules> {
  const wallZones = new Map<string, ZoneRules>();
  if (scan.usedTzids.size === 0) return wallZones;

  const maxYear = new Date(Math.max(window.end.getTime(), window.start.getTime())).getUTCFullYear() + 2;
  const zones = new Map<string, ZoneRules>();
  for (const [tzid, tzLines] of scan.timezones) {
    if (nodeIcalResolves(tzid)) continue;
    const rules = buildZoneRules(tzLines, maxYear);
    if (rules) zones.set(tzid, rules);
  }
  for (const tzid of scan.usedTzids) {
    // Unknown and undefined: node-ical would use the host's zone; read it as UTC wherever we run.
    if (!zones.has(tzid) && !nodeIcalResolves(tzid)) zones.set(tzid, UTC_RULES);
  }
  if (zones.size === 0) return wallZones;

  for (const block of scan.events) {
    if (!block.isOverride && block.recurring && block.dtstartTzid !== null) {
      const rules = zones.get(block.dtstartTzid);
      if (rules) wallZones.set(block.uid, rules);
    }
  }
  for (const block of scan.events) {
    const wallZone = wallZones.get(block.uid) ?? null;
    if (!wallZone && !block.dateLines.some((i) => usesZone(lines[i] ?? '', zones))) continue;
    for (const i of block.dateLines) {
      const rewritten = rewriteDateLine(lines[i] ?? '', zones, wallZone);
      if (rewritten !== null) lines[i] = rewritten;
    }
    if (wallZone) {
      for (const i of block.rruleLines) lines[i] = rewriteUntil(lines[i] ?? '', wallZone);
    }
  }
  return wallZones;
}

function usesZone(line: string, zones: Map<string, ZoneRules>): boolean {
  const tzid = parseContentLine(line)?.params.get('TZID');
  return tzid !== undefined && zones.has(tzid);
}

const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/;

function parseDateTime(value: string): { ms: number; utc: boolean } | null {
  const m = DATE_TIME.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, z] = m;
  return {
    ms: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)),
    utc: z === 'Z',
  };
}

function formatDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** The rewritten line, or null to leave it as it is. */
function rewriteDateLine(
  line: string,
  zones: Map<string, ZoneRules>,
  wallZone: ZoneRules | null,
): string | null {
  const property = parseContentLine(line);
  if (!property) return null;
  const valueType = property.params.get('VALUE')?.toUpperCase();
  if (valueType === 'DATE' || valueType === 'PERIOD') return null;
  const tzid = nonEmpty(property.params.get('TZID'));
  const custom = tzid === null ? undefined : zones.get(tzid);
  if (!wallZone && !custom) return null;

  const values: string[] = [];
  for (const raw of property.value.split(',')) {
    const parsed = parseDateTime(raw);
    if (!parsed) return null;
    let instant: number;
    if (parsed.utc) instant = parsed.ms;
    else if (custom) instant = custom.wallToUtc(parsed.ms);
    else if (tzid !== null) instant = instantInResolvableZone(tzid, raw.trim()) ?? parsed.ms;
    else instant = wallZone ? wallZone.wallToUtc(parsed.ms) : parsed.ms; // floating: read in the series' zone
    values.push(formatDateTime(wallZone ? wallZone.utcToWall(instant) : instant));
  }
  const params = [...property.params]
    .filter(([name]) => name !== 'TZID')
    .map(([n, v]) => `;${n}=${quoteParam(v)}`);
  return `${property.name}${params.join('')}:${values.join(',')}`;
}

function rewriteUntil(line: string, wallZone: ZoneRules): string {
  return line.replace(/UNTIL=(\d{8}T\d{6})(Z?)/i, (_match, stamp: string, z: string) => {
    const parsed = parseDateTime(stamp + z);
    if (!parsed) return _match;
    return `UNTIL=${formatDateTime(parsed.utc ? wallZone.utcToWall(parsed.ms) : parsed.ms)}`;
  });
}

function quoteParam(value: string): string {
  return /[;:,]/.test(value) ? `"${value}"` : value;
}

function isIanaZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const MICROSOFT_CUSTOM = /^(Customized Time Zone|tzone:\/\/Microsoft\/|\(no TZ description\))/;
const resolvableCache = new Map<string, boolean>();

/**
 * Whether node-ical maps this TZID to a zone by itself (IANA, Windows or offset label). Microsoft's
 * custom forms count as unresolved: node-ical guesses an IANA zone from two probe dates, which can
 * pick a zone with different DST dates; the VTIMEZONE is the authority for them.
 */
function nodeIcalResolves(tzid: string): boolean {
  const cached = resolvableCache.get(tzid);
  if (cached !== undefined) return cached;
  let resolves: boolean;
  if (isIanaZone(tzid)) resolves = true;
  else if (MICROSOFT_CUSTOM.test(tzid)) resolves = false;
  else {
    // Without a VTIMEZONE in sight, node-ical either resolves the name (the Date carries an IANA tz,
    // or an offset label moved the instant) or falls back to host-local time.
    const probe = probeStart(tzid, '20250115T120000');
    const tz = probe?.tz;
    resolves =
      probe !== null &&
      ((typeof tz === 'string' && isIanaZone(tz)) || probe.getTime() !== new Date(2025, 0, 15, 12).getTime());
  }
  resolvableCache.set(tzid, resolves);
  return resolves;
}

/** How node-ical reads a local time in a zone it knows (IANA or Windows name); null if it does not. */
function instantInResolvableZone(tzid: string, stamp: string): number | null {
  if (!nodeIcalResolves(tzid)) return null;
  return probeStart(tzid, stamp)?.getTime() ?? null;
}

function probeStart(tzid: string, stamp: string): DateWithTimeZone | null {
  const text = `BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:probe\nDTSTART;TZID=${quoteParam(tzid)}:${stamp}\nEND:VEVENT\nEND:VCALENDAR`;
  try {
    const start = (ical.sync.parseICS(text).probe as VEvent | undefined)?.start;
    return start instanceof Date && !Number.isNaN(start.getTime()) ? start : null;
  } catch {
    return null;
  }
}

interface Transition {
  utc: number;
  offsetFrom: number;
  offsetTo: number;
}

/** Offsets in ms. Null when the VTIMEZONE has no usable observance. */
function buildZoneRules(tzLines: string[], maxYear: number): ZoneRules | null {
  const transitions: Transition[] = [];
  let observance: {
    start: number | null;
    from: number | null;
    to: number | null;
    rrule: string | null;
    rdates: number[];
  } | null = null;
  for (const line of tzLines) {
    const property = parseContentLine(line);
    if (!property) continue;
    const value = property.value.trim();
    if (
      property.name === 'BEGIN' &&
      (value.toUpperCase() === 'STANDARD' || value.toUpperCase() === 'DAYLIGHT')
    ) {
      observance = { start: null, from: null, to: null, rrule: null, rdates: [] };
    } else if (property.name === 'END' && observance) {
      const { start, from, to } = observance;
      if (start !== null && from !== null && to !== null) {
        for (const onset of observanceOnsets(start, observance.rrule, observance.rdates, from, maxYear)) {
          transitions.push({ utc: onset - from, offsetFrom: from, offsetTo: to });
        }
      }
      observance = null;
    } else if (observance) {
      if (property.name === 'DTSTART') observance.start = parseDateTime(value)?.ms ?? null;
      if (property.name === 'TZOFFSETFROM') observance.from = parseOffset(value);
      if (property.name === 'TZOFFSETTO') observance.to = parseOffset(value);
      if (property.name === 'RRULE') observance.rrule = value;
      if (property.name === 'RDATE') {
        for (const v of value.split(',')) {
          const parsed = parseDateTime(v);
          if (parsed) observance.rdates.push(parsed.ms);
        }
      }
    }
  }
  if (transitions.length === 0) return null;
  transitions.sort((a, b) => a.utc - b.utc);
  const candidates = [...new Set(transitions.flatMap((t) => [t.offsetFrom, t.offsetTo]))];

  const offsetAt = (utc: number): number => {
    let lo = 0;
    let hi = transitions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((transitions[mid]?.utc ?? 0) <= utc) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? (transitions[0]?.offsetFrom ?? 0) : (transitions[found]?.offsetTo ?? 0);
  };

  return {
    utcToWall: (utc) => utc + offsetAt(utc),
    wallToUtc: (wall) => {
      // RFC 5545 3.3.5: a repeated local time means its first occurrence (the larger offset); a
      // skipped one is read with the offset in force before the gap.
      let best: number | null = null;
      for (const offset of candidates) {
        const utc = wall - offset;
        if (offsetAt(utc) === offset && (best === null || utc < best)) best = utc;
      }
      return best ?? wall - offsetAt(wall - DAY_MS);
    },
  };
}

function parseOffset(value: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(value);
  if (!m) return null;
  const ms = (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0)) * 1000;
  return m[1] === '-' ? -ms : ms;
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/**
 * Onsets (wall time) of one observance up to `maxYear`. Time-zone rules in the wild are yearly
 * (BYMONTH with BYDAY like 2SU / -1SU, sometimes with BYMONTHDAY); anything else yields DTSTART and
 * RDATEs only.
 */
function observanceOnsets(
  start: number,
  rrule: string | null,
  rdates: number[],
  offsetFrom: number,
  maxYear: number,
) {
  const onsets = [start, ...rdates];
  if (!rrule) return onsets;
  const parts = new Map(
    rrule.split(';').map((part) => {
      const [k, v] = part.split('=');
      return [(k ?? '').toUpperCase(), (v ?? '').toUpperCase()] as const;
    }),
  );
  if (parts.get('FREQ') !== 'YEARLY') return onsets;
  const first = new Date(start);
  const interval = Math.max(1, Number(parts.get('INTERVAL') ?? 1) || 1);
  const count = parts.has('COUNT') ? Number(parts.get('COUNT')) : Number.POSITIVE_INFINITY;
  const untilValue = parts.get('UNTIL');
  const until = untilValue ? parseUntil(untilValue, offsetFrom) : Number.POSITIVE_INFINITY;
  const months = parts.has('BYMONTH')
    ? (parts.get('BYMONTH') ?? '').split(',').map(Number)
    : [first.getUTCMonth() + 1];
  const byDay = parts.get('BYDAY')?.split(',') ?? null;
  const byMonthDay = parts.get('BYMONTHDAY')?.split(',').map(Number) ?? null;
  const timeOfDay = start - Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());

  const generated: number[] = [];
  for (let year = first.getUTCFullYear(); year <= maxYear && generated.length < count; year += interval) {
    for (const month of months) {
      for (const day of daysInRule(year, month, byDay, byMonthDay, first.getUTCDate())) {
        const onset = Date.UTC(year, month - 1, day) + timeOfDay;
        if (onset < start) continue;
        if (onset - offsetFrom > until || generated.length >= count) return [...onsets, ...generated];
        generated.push(onset);
      }
    }
  }
  return [...onsets, ...generated];
}

function parseUntil(value: string, offsetFrom: number): number {
  const dateTime = parseDateTime(value);
  if (dateTime) return dateTime.utc ? dateTime.ms : dateTime.ms - offsetFrom;
  const date = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return date
    ? Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]), 23, 59, 59)
    : Number.POSITIVE_INFINITY;
}

function daysInRule(
  year: number,
  month: number,
  byDay: string[] | null,
  byMonthDay: number[] | null,
  dtDay: number,
) {
  const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const monthDays =
    byMonthDay?.map((d) => (d < 0 ? length + d + 1 : d)).filter((d) => d >= 1 && d <= length) ?? null;
  if (!byDay) return monthDays ?? [dtDay];
  const days = new Set<number>();
  for (const entry of byDay) {
    const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(entry.trim());
    if (!m) continue;
    const weekday = WEEKDAYS.indexOf(m[2] ?? '');
    const firstWeekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    const matching: number[] = [];
    for (let d = 1 + ((weekday - firstWeekday + 7) % 7); d <= length; d += 7) matching.push(d);
    const ordinal = m[1] ? Number(m[1]) : 0;
    const picked =
      ordinal === 0 ? matching : [matching[ordinal > 0 ? ordinal - 1 : matching.length + ordinal]];
    for (const d of picked) if (d !== undefined && (!monthDays || monthDays.includes(d))) days.add(d);
  }
  return [...days].sort((a, b) => a - b);
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
