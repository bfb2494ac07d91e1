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
import type { ProblemLog } from './problems.ts';
import type { Scan } from './scan.ts';
import {
  buildZoneRules,
  MalformedZoneError,
  parseDateTime,
  UTC_RULES,
  type ZoneRules,
} from './zone-rules.ts';

export type { ZoneRules } from './zone-rules.ts';

/** What rewriting needs from the scan of the text; line numbers index its unfolded lines. */
export type ZoneScan = Pick<Scan, 'timezones' | 'brokenTimezones' | 'usedTzids' | 'events'>;

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
  problems: ProblemLog,
): Map<string, ZoneRules> {
  const wallZones = new Map<string, ZoneRules>();
  if (scan.usedTzids.size === 0) return wallZones;

  const zones = new Map<string, ZoneRules>();
  /** TZID → why its values are read as UTC. */
  const unusable = new Map<string, string>();
  const years = {
    first: new Date(Math.min(window.start.getTime(), window.end.getTime())).getUTCFullYear() - 1,
    last: new Date(Math.max(window.end.getTime(), window.start.getTime())).getUTCFullYear() + 2,
  };
  // Only the zones events use are evaluated: a feed may carry any number of others.
  for (const tzid of scan.usedTzids) {
    if (nodeIcalResolves(tzid)) continue;
    const tzLines = scan.timezones.get(tzid);
    const broken = scan.brokenTimezones.get(tzid);
    if (!tzLines) {
      unusable.set(tzid, 'is neither a known time zone nor defined by a VTIMEZONE');
    } else if (broken) {
      unusable.set(tzid, `has a malformed VTIMEZONE (${broken})`);
    } else {
      try {
        zones.set(tzid, buildZoneRules(tzLines, years));
        continue;
      } catch (error) {
        if (!(error instanceof MalformedZoneError)) throw error;
        unusable.set(tzid, `has a malformed VTIMEZONE (${error.message})`);
      }
    }
    // node-ical would use the host's zone; read it as UTC wherever we run, and say so.
    zones.set(tzid, UTC_RULES);
  }
  if (zones.size === 0) return wallZones;
  reportUnusableZones(scan, unusable, problems);

  for (const block of scan.events) {
    if (!block.isOverride && block.recurring && block.dtstartTzid !== null) {
      const rules = zones.get(block.dtstartTzid);
      if (rules) wallZones.set(block.uid, rules);
    }
  }
  for (const block of scan.events) {
    const wallZone = wallZones.get(block.uid) ?? null;
    if (!wallZone && ![...block.tzids].some((tzid) => zones.has(tzid))) continue;
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

function reportUnusableZones(scan: ZoneScan, unusable: Map<string, string>, problems: ProblemLog): void {
  if (unusable.size === 0) return;
  const reported = new Set<string>();
  for (const block of scan.events) {
    for (const tzid of block.tzids) {
      const reason = unusable.get(tzid);
      const key = `${block.uid}\u0000${tzid}`;
      if (reason === undefined || reported.has(key)) continue;
      reported.add(key);
      const name = JSON.stringify(tzid.length > 60 ? `${tzid.slice(0, 60)}…` : tzid);
      problems.add({
        uid: block.uid,
        kind: 'time-zone',
        message: `The time zone ${name} ${reason}: its times were read as UTC`,
      });
    }
  }
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

/**
 * Whether the runtime knows `name` as a time zone. Cached: constructing an Intl.DateTimeFormat costs
 * ~50 µs, and a CalDAV calendar asks once per resource (the owner's zone, for floating times) —
 * 100 ms of a 2,000-event backfill before this cache. Bounded like the cache below.
 */
export function isIanaZone(name: string): boolean {
  if (name.length > MAX_ZONE_NAME_LENGTH) return false;
  const cached = ianaCache.get(name);
  if (cached !== undefined) return cached;
  let known: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    known = true;
  } catch {
    known = false;
  }
  if (ianaCache.size >= MAX_CACHED_NAMES) ianaCache.clear();
  ianaCache.set(name, known);
  return known;
}

const ianaCache = new Map<string, boolean>();

const MICROSOFT_CUSTOM = /^(Customized Time Zone|tzone:\/\/Microsoft\/|\(no TZ description\))/;
const resolvableCache = new Map<string, boolean>();
/** The cache lives as long as the process and names come from providers: keep it small. */
const MAX_CACHED_NAMES = 10_000;
/** Longer than any zone name, Windows ones included: not worth asking node-ical about. */
const MAX_ZONE_NAME_LENGTH = 200;

/**
 * Whether node-ical maps this TZID to a zone by itself (IANA, Windows or offset label). Microsoft's
 * custom forms count as unresolved: node-ical guesses an IANA zone from two probe dates, which can
 * pick a zone with different DST dates; the VTIMEZONE is the authority for them.
 */
export function nodeIcalResolves(tzid: string): boolean {
  if (tzid.length > MAX_ZONE_NAME_LENGTH) return false;
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
  if (resolvableCache.size >= MAX_CACHED_NAMES) resolvableCache.clear();
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
