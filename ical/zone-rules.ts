/**
 * A VTIMEZONE's observances turned into a UTC offset function, with every rule part validated first.
 * The text is the provider's: a rule part out of range, a part we do not evaluate, or more
 * observances or transitions than the limits make the whole VTIMEZONE malformed, reported by the
 * caller against the events that use it. Work is bounded by MAX_ZONE_RULE_STEPS whatever the text.
 */
import { parseContentLine } from './content-lines.ts';
import { MAX_OBSERVANCES_PER_ZONE, MAX_ZONE_RULE_STEPS } from './limits.ts';

const DAY_MS = 86_400_000;

/** A UTC offset function built from one VTIMEZONE's observances. "Wall" values are local times encoded as if UTC. */
export interface ZoneRules {
  wallToUtc(wall: number): number;
  utcToWall(utc: number): number;
}

export const UTC_RULES: ZoneRules = { wallToUtc: (wall) => wall, utcToWall: (utc) => utc };

/** Why a VTIMEZONE cannot be used; the message names the offending part. */
export class MalformedZoneError extends Error {
  override readonly name = 'MalformedZoneError';
}

/** The years whose transitions matter: those of the window, with a year of margin each side. */
export interface ZoneYears {
  first: number;
  last: number;
}

interface Transition {
  utc: number;
  offsetFrom: number;
  offsetTo: number;
}

interface Observance {
  start: number | null;
  from: number | null;
  to: number | null;
  rule: YearlyRule | null;
  rdates: number[];
}

/** Throws MalformedZoneError. */
export function buildZoneRules(tzLines: string[], years: ZoneYears): ZoneRules {
  const budget = { steps: MAX_ZONE_RULE_STEPS };
  const transitions: Transition[] = [];
  let observances = 0;
  let observance: Observance | null = null;
  for (const line of tzLines) {
    const property = parseContentLine(line);
    if (!property) continue;
    const value = property.value.trim();
    const upper = value.toUpperCase();
    if (property.name === 'BEGIN' && (upper === 'STANDARD' || upper === 'DAYLIGHT')) {
      if (++observances > MAX_OBSERVANCES_PER_ZONE) {
        throw new MalformedZoneError(`it has more than ${MAX_OBSERVANCES_PER_ZONE} observances`);
      }
      observance = { start: null, from: null, to: null, rule: null, rdates: [] };
    } else if (property.name === 'END' && observance) {
      const { start, from, to } = observance;
      if (start === null || from === null || to === null) {
        throw new MalformedZoneError(`an observance lacks a valid DTSTART, TZOFFSETFROM or TZOFFSETTO`);
      }
      for (const onset of observanceOnsets(start, observance.rule, observance.rdates, from, years, budget)) {
        transitions.push({ utc: onset - from, offsetFrom: from, offsetTo: to });
      }
      observance = null;
    } else if (observance) {
      if (property.name === 'DTSTART') observance.start = requireDateTime(value, 'DTSTART');
      if (property.name === 'TZOFFSETFROM') observance.from = requireOffset(value, 'TZOFFSETFROM');
      if (property.name === 'TZOFFSETTO') observance.to = requireOffset(value, 'TZOFFSETTO');
      if (property.name === 'RRULE') {
        if (observance.rule) throw new MalformedZoneError('an observance has two RRULEs');
        observance.rule = parseYearlyRule(value);
      }
      if (property.name === 'RDATE') {
        for (const v of value.split(',')) {
          spend(budget, 1);
          const parsed = parseDateTime(v);
          if (parsed) observance.rdates.push(parsed.ms);
        }
      }
    }
  }
  if (transitions.length === 0) throw new MalformedZoneError('it has no STANDARD or DAYLIGHT observance');
  return rulesFrom(transitions);
}

function rulesFrom(transitions: Transition[]): ZoneRules {
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

function spend(budget: { steps: number }, steps: number): void {
  budget.steps -= steps;
  if (budget.steps < 0) {
    throw new MalformedZoneError(`its rules need more than ${MAX_ZONE_RULE_STEPS} steps to evaluate`);
  }
}

const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/;

/** Basic-format DATE-TIME; out-of-range fields (month 13, hour 25) are not a date. */
export function parseDateTime(value: string): { ms: number; utc: boolean } | null {
  const m = DATE_TIME.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  // Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(ms);
  date.setUTCFullYear(y);
  if (date.getUTCDate() !== d) return null;
  return { ms: date.getTime(), utc: m[7] === 'Z' };
}

function requireDateTime(value: string, name: string): number {
  const parsed = parseDateTime(value);
  if (!parsed) throw new MalformedZoneError(`${name} ${excerpt(value)} is not a date-time`);
  return parsed.ms;
}

/** ±hhmm[ss], |offset| under a day (RFC 5545 3.3.14). */
function requireOffset(value: string, name: string): number {
  const m = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(value);
  const hours = Number(m?.[2]);
  const minutes = Number(m?.[3]);
  const seconds = Number(m?.[4] ?? 0);
  if (!m || hours > 23 || minutes > 59 || seconds > 59) {
    throw new MalformedZoneError(`${name} ${excerpt(value)} is not a UTC offset`);
  }
  const ms = (hours * 3600 + minutes * 60 + seconds) * 1000;
  return m[1] === '-' ? -ms : ms;
}

function excerpt(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

// ---------------------------------------------------------------------------------------------
// Yearly rules: what time-zone rules in the wild use (BYMONTH with BYDAY like 2SU / -1SU, sometimes
// BYMONTHDAY). Lists are de-duplicated, so a value repeated thousands of times costs nothing.

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
/** Parts that would change the onsets and that we do not evaluate: better refused than misread. */
const UNSUPPORTED_PARTS = new Set(['BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYYEARDAY', 'BYWEEKNO', 'BYSETPOS']);
/** A yearly time-zone rule repeating less often than this is not one. */
const MAX_INTERVAL = 100;

interface YearlyRule {
  interval: number;
  count: number | null;
  until: { ms: number; utc: boolean; dateOnly: boolean } | null;
  months: number[] | null;
  byDay: { ordinal: number; weekday: number }[] | null;
  byMonthDay: number[] | null;
}

function parseYearlyRule(text: string): YearlyRule {
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toUpperCase();
    if (name === '') continue;
    if (parts.has(name)) throw new MalformedZoneError(`its RRULE repeats ${name}`);
    parts.set(
      name,
      eq < 0
        ? ''
        : part
            .slice(eq + 1)
            .trim()
            .toUpperCase(),
    );
  }
  const freq = parts.get('FREQ');
  if (freq !== 'YEARLY')
    throw new MalformedZoneError(`its RRULE has FREQ=${excerpt(freq ?? '')}, not YEARLY`);
  for (const name of parts.keys()) {
    if (UNSUPPORTED_PARTS.has(name))
      throw new MalformedZoneError(`its RRULE uses ${name}, which we do not evaluate`);
  }
  const interval = parts.has('INTERVAL') ? integerIn(parts.get('INTERVAL'), 1, MAX_INTERVAL, 'INTERVAL') : 1;
  const count = parts.has('COUNT')
    ? integerIn(parts.get('COUNT'), 1, Number.MAX_SAFE_INTEGER, 'COUNT')
    : null;
  let until: YearlyRule['until'] = null;
  const untilText = parts.get('UNTIL');
  if (untilText !== undefined) {
    const dateTime = parseDateTime(untilText);
    const date = /^\d{8}$/.test(untilText) ? parseDateTime(`${untilText}T235959`) : null;
    if (!dateTime && !date) throw new MalformedZoneError(`its RRULE has UNTIL=${excerpt(untilText)}`);
    until = dateTime ? { ...dateTime, dateOnly: false } : { ms: date?.ms ?? 0, utc: true, dateOnly: true };
  }
  const months = listOf(parts.get('BYMONTH'), 'BYMONTH', (v) => integerIn(v, 1, 12, 'BYMONTH'));
  const byMonthDay = listOf(parts.get('BYMONTHDAY'), 'BYMONTHDAY', (v) => {
    const day = integerIn(v, -31, 31, 'BYMONTHDAY');
    if (day === 0) throw new MalformedZoneError('its RRULE has BYMONTHDAY=0');
    return day;
  });
  const byDay = byDayList(parts.get('BYDAY'));
  return { interval, count, until, months, byDay, byMonthDay };
}

function byDayList(value: string | undefined): YearlyRule['byDay'] {
  if (value === undefined) return null;
  const distinct = new Map<string, { ordinal: number; weekday: number }>();
  for (const raw of value.split(',')) {
    const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(raw.trim());
    const ordinal = m?.[1] === undefined ? 0 : Number(m[1]);
    // Month-scoped: at most five of a weekday in a month.
    if (!m || Math.abs(ordinal) > 5 || (m[1] !== undefined && ordinal === 0)) {
      throw new MalformedZoneError(`its RRULE has BYDAY value ${excerpt(raw)}`);
    }
    distinct.set(`${ordinal}${m[2]}`, { ordinal, weekday: WEEKDAYS.indexOf(m[2] ?? '') });
  }
  return [...distinct.values()];
}

function integerIn(value: string | undefined, min: number, max: number, name: string): number {
  const n = /^[+-]?\d{1,16}$/.test(value ?? '') ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MalformedZoneError(`its RRULE has ${name}=${excerpt(value ?? '')}`);
  }
  return n;
}

/** The distinct values of a comma-separated list, sorted; null when the part is absent. */
function listOf(value: string | undefined, name: string, read: (v: string) => number): number[] | null {
  if (value === undefined) return null;
  if (value === '') throw new MalformedZoneError(`its RRULE has an empty ${name}`);
  return [...new Set(value.split(',').map((v) => read(v.trim())))].sort((a, b) => a - b);
}

/**
 * Onsets (wall time) of one observance: its DTSTART, its RDATEs and, for a rule, the onsets in the
 * years that matter. Without COUNT the rule is entered at the last period starting before those
 * years (the onset in force when they begin); with COUNT it must be walked from DTSTART.
 */
function observanceOnsets(
  start: number,
  rule: YearlyRule | null,
  rdates: number[],
  offsetFrom: number,
  years: ZoneYears,
  budget: { steps: number },
): number[] {
  const onsets = [start, ...rdates];
  if (!rule) return onsets;
  const first = new Date(start);
  const firstYear = first.getUTCFullYear();
  const { interval, count } = rule;
  const until = rule.until === null ? Number.POSITIVE_INFINITY : untilInstant(rule.until, offsetFrom);
  const months = rule.months ?? [first.getUTCMonth() + 1];
  const timeOfDay = start - Date.UTC(firstYear, first.getUTCMonth(), first.getUTCDate());
  let year = firstYear;
  if (count === null && years.first - 1 > firstYear) {
    year += Math.floor((years.first - 1 - firstYear) / interval) * interval;
  }
  let generated = 0;
  for (; year <= years.last; year += interval) {
    for (const month of months) {
      spend(budget, 1);
      for (const day of daysInRule(year, month, rule, first.getUTCDate())) {
        const onset = Date.UTC(year, month - 1, day) + timeOfDay;
        if (onset < start) continue;
        if (onset - offsetFrom > until || (count !== null && generated >= count)) return onsets;
        spend(budget, 1);
        onsets.push(onset);
        generated += 1;
      }
    }
  }
  return onsets;
}

function untilInstant(until: NonNullable<YearlyRule['until']>, offsetFrom: number): number {
  return until.utc || until.dateOnly ? until.ms : until.ms - offsetFrom;
}

function daysInRule(year: number, month: number, rule: YearlyRule, dtDay: number): number[] {
  const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const monthDays =
    rule.byMonthDay?.map((d) => (d < 0 ? length + d + 1 : d)).filter((d) => d >= 1 && d <= length) ?? null;
  if (!rule.byDay) return monthDays ?? (dtDay <= length ? [dtDay] : []);
  const days = new Set<number>();
  const firstWeekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  for (const { ordinal, weekday } of rule.byDay) {
    const matching: number[] = [];
    for (let d = 1 + ((weekday - firstWeekday + 7) % 7); d <= length; d += 7) matching.push(d);
    const picked =
      ordinal === 0 ? matching : [matching[ordinal > 0 ? ordinal - 1 : matching.length + ordinal]];
    for (const d of picked) if (d !== undefined && (!monthDays || monthDays.includes(d))) days.add(d);
  }
  return [...days].sort((a, b) => a - b);
}
