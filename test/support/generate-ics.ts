/**
 * Synthetic iCalendar for tests and benchmarks: whole feeds (`generateIcsFeed`) and single calendar
 * objects (`generateIcsEvent`, e.g. for a CalDAV PUT). Output is RFC 5545 text: CRLF line endings,
 * folded lines, escaped text. Deterministic for a given input and seed.
 */
import { DateTime } from 'luxon';

export interface IcsEventSpec {
  uid: string;
  summary?: string;
  description?: string;
  location?: string;
  start: Date;
  /** Omitted → no DTEND (RFC 5545: one day for all-day, zero length for timed). */
  end?: Date;
  /** DATE values: the UTC calendar dates of `start` / `end` (end exclusive). */
  allDay?: boolean;
  /** Write DTSTART/DTEND/EXDATE/RECURRENCE-ID as local time in this IANA zone (else UTC). */
  timeZone?: string;
  /** e.g. `FREQ=WEEKLY;COUNT=10`. */
  rrule?: string;
  exdates?: Date[];
  rdates?: Date[];
  /** Makes this component an override of the instance that started at this instant. */
  recurrenceId?: Date;
  transparent?: boolean;
  status?: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';
  /** Written as X-CALBRIDGE-ID (our marker for events we created). */
  calbridgeId?: string;
  sequence?: number;
  /** Default: 2025-01-01T00:00:00Z, so output does not depend on the clock. */
  dtstamp?: Date;
}

/** VTIMEZONE definitions (current rules) for the zones the generators use. */
export const VTIMEZONES: Record<string, string> = {
  'Europe/Berlin': [
    'BEGIN:VTIMEZONE',
    'TZID:Europe/Berlin',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:+0100',
    'TZOFFSETTO:+0200',
    'TZNAME:CEST',
    'DTSTART:19700329T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
    'END:DAYLIGHT',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+0200',
    'TZOFFSETTO:+0100',
    'TZNAME:CET',
    'DTSTART:19701025T030000',
    'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
    'END:STANDARD',
    'END:VTIMEZONE',
  ].join('\r\n'),
  'America/New_York': [
    'BEGIN:VTIMEZONE',
    'TZID:America/New_York',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:-0500',
    'TZOFFSETTO:-0400',
    'TZNAME:EDT',
    'DTSTART:20070311T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU',
    'END:DAYLIGHT',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:-0400',
    'TZOFFSETTO:-0500',
    'TZNAME:EST',
    'DTSTART:20071104T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU',
    'END:STANDARD',
    'END:VTIMEZONE',
  ].join('\r\n'),
};

/** One VEVENT component (CRLF, no trailing line break). */
export function renderVevent(spec: IcsEventSpec): string {
  const lines = [
    'BEGIN:VEVENT',
    `UID:${escapeText(spec.uid)}`,
    `DTSTAMP:${utcStamp(spec.dtstamp ?? DEFAULT_DTSTAMP)}`,
  ];
  if (spec.recurrenceId) lines.push(dateProperty('RECURRENCE-ID', spec.recurrenceId, spec));
  lines.push(dateProperty('DTSTART', spec.start, spec));
  if (spec.end) lines.push(dateProperty('DTEND', spec.end, spec));
  if (spec.rrule) lines.push(`RRULE:${spec.rrule}`);
  if (spec.rdates?.length) lines.push(dateProperty('RDATE', spec.rdates, spec));
  if (spec.exdates?.length) lines.push(dateProperty('EXDATE', spec.exdates, spec));
  if (spec.summary !== undefined) lines.push(`SUMMARY:${escapeText(spec.summary)}`);
  if (spec.description !== undefined) lines.push(`DESCRIPTION:${escapeText(spec.description)}`);
  if (spec.location !== undefined) lines.push(`LOCATION:${escapeText(spec.location)}`);
  if (spec.transparent) lines.push('TRANSP:TRANSPARENT');
  if (spec.status) lines.push(`STATUS:${spec.status}`);
  if (spec.sequence !== undefined) lines.push(`SEQUENCE:${spec.sequence}`);
  if (spec.calbridgeId !== undefined) lines.push(`X-CALBRIDGE-ID:${escapeText(spec.calbridgeId)}`);
  lines.push('END:VEVENT');
  return lines.map(foldLine).join('\r\n');
}

/**
 * A complete calendar object holding one event (plus, optionally, overrides of the same UID), with
 * the VTIMEZONE of `timeZone` when we have one: what a CalDAV client PUTs.
 */
export function generateIcsEvent(spec: IcsEventSpec, overrides: IcsEventSpec[] = []): string {
  const zones = new Set([spec, ...overrides].flatMap((s) => (s.timeZone ? [s.timeZone] : [])));
  return wrapCalendar(
    [...zones].flatMap((zone) => (VTIMEZONES[zone] ? [VTIMEZONES[zone]] : [])),
    [spec, ...overrides].map(renderVevent),
  );
}

/** A feed holding these components (several may share a UID: a series and its overrides). */
export function generateIcsCalendar(specs: IcsEventSpec[], opts: { name?: string } = {}): string {
  const zones = new Set(specs.flatMap((s) => (s.timeZone ? [s.timeZone] : [])));
  return wrapCalendar(
    [...zones].flatMap((zone) => (VTIMEZONES[zone] ? [VTIMEZONES[zone]] : [])),
    specs.map(renderVevent),
    opts.name,
  );
}

export interface GenerateFeedOptions {
  /** Events fall on the 120 days from this date's UTC midnight. */
  start: Date;
  /** Default 1. */
  seed?: number;
  /** X-WR-CALNAME. */
  name?: string;
}

const TITLES = [
  'Standup',
  'Design review',
  'Customer call',
  '1:1',
  'Lunch',
  'Planning',
  'Interview',
  'Focus',
];
const DEFAULT_DTSTAMP = new Date(Date.UTC(2025, 0, 1));
const ZONE = 'Europe/Berlin';

/**
 * A realistic feed of `n` events (UIDs `gen-<seed>-<i>@calbridge.test`): about 60% single timed
 * events (half UTC, half Europe/Berlin), 10% weekly series with COUNT (some with an EXDATE), 15%
 * all-day, plus transparent, tentative and cancelled ones; one VTIMEZONE.
 */
export function generateIcsFeed(n: number, opts: GenerateFeedOptions): string {
  const random = mulberry32(opts.seed ?? 1);
  const day0 = Date.UTC(opts.start.getUTCFullYear(), opts.start.getUTCMonth(), opts.start.getUTCDate());
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const events: string[] = [];
  for (let i = 0; i < n; i++) {
    const uid = `gen-${opts.seed ?? 1}-${i}@calbridge.test`;
    const day = day0 + Math.floor(random() * 120) * 86_400_000;
    const summary = `${pick(TITLES)} #${i}`;
    const kind = random();
    if (kind < 0.15) {
      const days = 1 + Math.floor(random() * 3);
      events.push(
        renderVevent({
          uid,
          summary,
          allDay: true,
          start: new Date(day),
          end: new Date(day + days * 86_400_000),
        }),
      );
      continue;
    }
    const local = DateTime.fromMillis(day, { zone: ZONE }).set({
      hour: 8 + Math.floor(random() * 10),
      minute: pick([0, 15, 30, 45]),
    });
    const start = local.toJSDate();
    const end = local.plus({ minutes: pick([15, 30, 45, 60, 90, 120]) }).toJSDate();
    if (kind < 0.25) {
      const count = 4 + Math.floor(random() * 17);
      const exdates =
        random() < 0.3 ? [local.plus({ weeks: 1 + Math.floor(random() * (count - 1)) }).toJSDate()] : [];
      events.push(
        renderVevent({
          uid,
          summary,
          start,
          end,
          timeZone: ZONE,
          rrule: `FREQ=WEEKLY;COUNT=${count}`,
          exdates,
        }),
      );
      continue;
    }
    const spec: IcsEventSpec = { uid, summary, start, end, timeZone: random() < 0.5 ? ZONE : undefined };
    if (kind < 0.3) spec.transparent = true;
    else if (kind < 0.34) spec.status = 'TENTATIVE';
    else if (kind < 0.37) spec.status = 'CANCELLED';
    else if (kind < 0.45) spec.location = 'Room 4.01, Building B';
    events.push(renderVevent(spec));
  }
  const timezones = VTIMEZONES[ZONE] ? [VTIMEZONES[ZONE]] : [];
  return wrapCalendar(timezones, events, opts.name ?? `Generated feed (${n} events)`);
}

function wrapCalendar(timezones: string[], components: string[], name?: string): string {
  const head = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Calbridge//Test generator//EN',
    'CALSCALE:GREGORIAN',
  ];
  if (name !== undefined) head.push(foldLine(`X-WR-CALNAME:${escapeText(name)}`));
  return `${[...head, ...timezones, ...components, 'END:VCALENDAR'].join('\r\n')}\r\n`;
}

function dateProperty(name: string, value: Date | Date[], spec: IcsEventSpec): string {
  const values = Array.isArray(value) ? value : [value];
  if (spec.allDay) return `${name};VALUE=DATE:${values.map(dateStamp).join(',')}`;
  if (spec.timeZone) {
    const local = values.map((d) =>
      DateTime.fromJSDate(d, { zone: spec.timeZone }).toFormat("yyyyLLdd'T'HHmmss"),
    );
    return `${name};TZID=${spec.timeZone}:${local.join(',')}`;
  }
  return `${name}:${values.map(utcStamp).join(',')}`;
}

function utcStamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

function dateStamp(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** Folds at 75 octets without splitting a UTF-8 sequence (RFC 5545 3.1). */
export function foldLine(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const parts: string[] = [];
  let current = '';
  let size = 0;
  for (const char of line) {
    const bytes = Buffer.byteLength(char);
    const limit = parts.length === 0 ? 75 : 74;
    if (size + bytes > limit) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += char;
    size += bytes;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
