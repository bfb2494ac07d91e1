/**
 * The pre-scan of a calendar's unfolded lines, before node-ical parses them: calendar properties,
 * VTIMEZONEs, and where each top-level VEVENT's zoned values are. Besides reading, it repairs the
 * text for node-ical in place:
 *  - a line over MAX_CONTENT_LINE_LENGTH is never handed on: the VEVENT holding it is skipped
 *    (every component with its UID), a VTIMEZONE holding it is marked broken, a calendar
 *    property is dropped — each reported;
 *  - a VEVENT without UID gets a stable one derived from its text (node-ical would key it by a
 *    random UUID, a new key on every fetch);
 *  - a duplicate DTSTART/DTEND is dropped (node-ical throws for the whole feed; we keep the first,
 *    as it means to).
 */
import { createHash } from 'node:crypto';
import { nonEmpty, parseContentLine, unescapeText, unquote } from './content-lines.ts';
import { MAX_CONTENT_LINE_LENGTH } from './limits.ts';
import type { ProblemLog } from './problems.ts';

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
  /** TZIDs its date lines name. */
  tzids: Set<string>;
}

export interface Scan {
  /** X-WR-CALNAME, else RFC 7986 NAME. */
  name: string | null;
  /** X-APPLE-CALENDAR-COLOR, else RFC 7986 COLOR. */
  color: string | null;
  /** X-WR-TIMEZONE as written, if any. */
  wrTimezone: string | null;
  /** TZID → the VTIMEZONE's lines. */
  timezones: Map<string, string[]>;
  /** TZID → why its VTIMEZONE cannot be used (a line over the cap). */
  brokenTimezones: Map<string, string>;
  /** TZIDs that VEVENT date properties refer to. */
  usedTzids: Set<string>;
  /** The VEVENTs handed on to node-ical; line numbers index the unfolded lines. */
  events: VEventBlock[];
  /** UIDs whose components were all removed from the text (reported as unreadable). */
  skippedUids: Set<string>;
  sourceByUid: Map<string, string[]>;
}

const DATE_PROPERTIES = new Set(['DTSTART', 'DTEND', 'RECURRENCE-ID', 'EXDATE', 'RDATE']);
const SINGLETON_PROPERTIES = new Set(['DTSTART', 'DTEND', 'DUE', 'DURATION']);

interface OpenEvent {
  start: number;
  block: VEventBlock;
  uidLine: number;
  seen: Set<string>;
  /** Length of the longest line over the cap, 0 if none. */
  overlong: number;
}

interface ClosedEvent {
  start: number;
  end: number;
  block: VEventBlock;
  /** The component's text as the provider wrote it (unfolded), for hashing. */
  source: string;
}

export function scanLines(lines: string[], problems: ProblemLog): Scan {
  const scan: Scan = {
    name: null,
    color: null,
    wrTimezone: null,
    timezones: new Map(),
    brokenTimezones: new Map(),
    usedTzids: new Set(),
    events: [],
    skippedUids: new Set(),
    sourceByUid: new Map(),
  };
  let calName: string | null = null;
  let rfcName: string | null = null;
  let appleColor: string | null = null;
  let rfcColor: string | null = null;
  const stack: string[] = [];
  let timezone: { lines: string[]; overlong: number } | null = null;
  let event: OpenEvent | null = null;
  const closed: ClosedEvent[] = [];
  const overlongUids = new Map<string, number>();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.length > MAX_CONTENT_LINE_LENGTH) {
      lines[i] = '';
      if (timezone) timezone.overlong = Math.max(timezone.overlong, line.length);
      else if (event) event.overlong = Math.max(event.overlong, line.length);
      else if (stack.length <= 1) {
        problems.add({
          uid: null,
          kind: 'unreadable',
          message: `A calendar property line ${tooLong(line.length)}: it was ignored`,
        });
      }
      continue;
    }
    const head = line.slice(0, 6).toUpperCase();
    if (head === 'BEGIN:') {
      const component = line.slice(6).trim().toUpperCase();
      stack.push(component);
      if (component === 'VTIMEZONE') timezone = { lines: [], overlong: 0 };
      timezone?.lines.push(line);
      if (component === 'VEVENT' && stack.length === 2) event = openEvent(i);
      continue;
    }
    if (head.startsWith('END:')) {
      const component = line.slice(4).trim().toUpperCase();
      timezone?.lines.push(line);
      if (component === 'VTIMEZONE' && timezone) {
        const tzid = timezone.lines.map(parseContentLine).find((p) => p?.name === 'TZID')?.value;
        if (tzid) {
          scan.timezones.set(unquote(tzid), timezone.lines);
          if (timezone.overlong > 0)
            scan.brokenTimezones.set(unquote(tzid), `a line ${tooLong(timezone.overlong)}`);
        }
        timezone = null;
      }
      if (component === 'VEVENT' && stack.length === 2 && event) {
        closed.push({ start: event.start, end: i, block: event.block, source: assignUid(lines, event, i) });
        if (event.overlong > 0) {
          const longest = Math.max(event.overlong, overlongUids.get(event.block.uid) ?? 0);
          overlongUids.set(event.block.uid, longest);
        }
        event = null;
      }
      stack.pop();
      continue;
    }
    if (timezone) {
      timezone.lines.push(line);
      continue;
    }

    const depth = stack.length;
    if (depth === 1 && stack[0] === 'VCALENDAR') {
      const property = parseContentLine(line);
      if (property?.name === 'X-WR-CALNAME') calName = unescapeText(property.value).trim() || null;
      if (property?.name === 'NAME') rfcName = unescapeText(property.value).trim() || null;
      if (property?.name === 'X-APPLE-CALENDAR-COLOR') appleColor = property.value.trim() || null;
      if (property?.name === 'COLOR') rfcColor = property.value.trim() || null;
      if (property?.name === 'X-WR-TIMEZONE') scan.wrTimezone = unescapeText(property.value).trim() || null;
    } else if (event && depth === 2) {
      readEventProperty(lines, i, event);
    }
  }

  for (const { start, end, block, source } of closed) {
    const longest = overlongUids.get(block.uid);
    if (longest !== undefined) {
      // Every component with this UID goes: an override imported without its series (or the
      // reverse) would be a different calendar than the provider's.
      lines.fill('', start, end + 1);
      continue;
    }
    scan.events.push(block);
    for (const tzid of block.tzids) scan.usedTzids.add(tzid);
    const sources = scan.sourceByUid.get(block.uid);
    if (sources) sources.push(source);
    else scan.sourceByUid.set(block.uid, [source]);
  }
  for (const [uid, longest] of overlongUids) {
    scan.skippedUids.add(uid);
    problems.add({
      uid,
      kind: 'unreadable',
      message: `The event has a line ${tooLong(longest)}: it was skipped`,
    });
  }
  scan.name = calName ?? rfcName;
  scan.color = appleColor ?? rfcColor;
  return scan;
}

function tooLong(length: number): string {
  return `of ${length.toLocaleString('en-US')} characters, longer than the ${MAX_CONTENT_LINE_LENGTH.toLocaleString('en-US')} allowed`;
}

function openEvent(start: number): OpenEvent {
  return {
    start,
    uidLine: -1,
    seen: new Set(),
    overlong: 0,
    block: {
      uid: '',
      isOverride: false,
      recurring: false,
      dtstartTzid: null,
      dateLines: [],
      rruleLines: [],
      tzids: new Set(),
    },
  };
}

function readEventProperty(lines: string[], i: number, event: OpenEvent): void {
  const property = parseContentLine(lines[i] ?? '');
  if (!property) return;
  const { block } = event;
  if (SINGLETON_PROPERTIES.has(property.name)) {
    // node-ical throws on a second DTSTART/DTEND, failing the whole feed: keep the first.
    if (event.seen.has(property.name)) {
      lines[i] = '';
      return;
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
    if (tzid !== null) block.tzids.add(tzid);
  }
}

/** Gives a VEVENT without UID one that is stable across fetches; returns the component's text. */
function assignUid(lines: string[], event: OpenEvent, end: number): string {
  const source = lines.slice(event.start, end + 1).join('\n');
  const { block, uidLine, start } = event;
  if (uidLine < 0 || block.uid === '') {
    block.uid = `calbridge-no-uid-${createHash('sha256').update(source).digest('hex').slice(0, 24)}`;
    if (uidLine >= 0) lines[uidLine] = '';
    lines[start] = `${lines[start]}\nUID:${block.uid}`;
  }
  return source;
}
