/**
 * Custom time zones. node-ical reads a TZID that is neither an IANA nor a Windows name (e.g.
 * Outlook's "Customized Time Zone") as host-local time, even when the feed carries a VTIMEZONE for
 * it: we evaluate such VTIMEZONEs ourselves and rewrite the affected date lines before node-ical
 * parses the text. normalize.ts converts the values left in wall-clock form after expansion.
 */
import type { DateWithTimeZone, VEvent } from 'node-ical';
import ical from 'node-ical';
import type { TimeWindow } from '../domain/calendar.ts';
import { nonEmpty, parseContentLine, quoteParam } from './content-lines.ts';

const DAY_MS = 86_400_000;

/** One top-level VEVENT as the scan found it: where its zoned values are and how to treat them. */
export interface VEventBlock {
  uid: string;
  isOverride: boolean;
  /** RRULE or RDATE present. */
  recurring: boolean;
  dtstartTzid: string | null;
  /** Top-level DTSTART/DTEND/RECURRENCE-ID/EXDATE/RDATE lines. */
  dateLines: number[];
  rruleLines: number[];
}

/** What rewriting needs from the scan of the text; line numbers index its unfolded lines. */
export interface ZoneScan {
  /** TZID → the VTIMEZONE's lines. */
  timezones: Map<string, string[]>;
  /** TZIDs that VEVENT date properties refer to. */
  usedTzids: Set<string>;
  events: VEventBlock[];
}

/** A UTC offset function built from one VTIMEZONE's observances. "Wall" values are local times encoded as if UTC. */
export interface ZoneRules {
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
export function rewriteCustomZones(
  lines: string[],
  scan: ZoneScan,
  window: TimeWindow,
): Map<string, ZoneRules> {
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
