/**
 * The lexing layer of iCalendar text: validation, unfolding and content-line parsing. We read the
 * raw lines ourselves, beside node-ical, because some values must be repaired in the text before
 * node-ical parses it (see normalize.ts); this is what the scan and the VTIMEZONE evaluation share.
 */
import { ICalendarError } from './errors.ts';

export function assertICalendar(text: string): string {
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
  // The body's own bytes are never quoted back: an error message must not echo what a server said.
  return 'it does not start with BEGIN:VCALENDAR';
}

/** Unfolded content lines (RFC 5545 3.1), whatever the line endings. */
export function splitLines(text: string): string[] {
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

/**
 * `name *(";" param-name "=" param-value *("," param-value)) ":" value` (RFC 5545 3.1), read by a
 * single left-to-right scan: provider bytes must never meet a backtracking pattern (an ambiguous
 * regex here once took hours on a 170-byte line). A quoted value may only begin a parameter value
 * and must close before the next "," ";" or ":"; anything else makes the line unreadable (null).
 */
export function parseContentLine(line: string): ContentLine | null {
  const nameEnd = tokenEnd(line, 0);
  if (nameEnd === 0) return null;
  const params = new Map<string, string>();
  let i = nameEnd;
  while (line.charCodeAt(i) === SEMICOLON) {
    const paramStart = i + 1;
    const paramNameEnd = tokenEnd(line, paramStart);
    if (paramNameEnd === paramStart || line.charCodeAt(paramNameEnd) !== EQUALS) return null;
    const valueStart = paramNameEnd + 1;
    const valueEnd = paramValuesEnd(line, valueStart);
    if (valueEnd < 0) return null;
    params.set(
      line.slice(paramStart, paramNameEnd).toUpperCase(),
      unquoteParam(line.slice(valueStart, valueEnd)),
    );
    i = valueEnd;
  }
  if (line.charCodeAt(i) !== COLON) return null;
  return { name: line.slice(0, nameEnd).toUpperCase(), params, value: line.slice(i + 1) };
}

const SEMICOLON = 0x3b;
const COLON = 0x3a;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;

/** End of the run of name characters (ALPHA / DIGIT / "-") starting at `from`. */
function tokenEnd(line: string, from: number): number {
  let i = from;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const nameChar =
      (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
    if (!nameChar) break;
  }
  return i;
}

/** Index of the ";" or ":" that ends a parameter's value list, or -1 if the list is malformed. */
function paramValuesEnd(line: string, from: number): number {
  let atValueStart = true;
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === DQUOTE) {
      if (!atValueStart) return -1;
      const close = line.indexOf('"', i + 1);
      if (close < 0) return -1;
      const next = line.charCodeAt(close + 1);
      if (next !== COMMA && next !== SEMICOLON && next !== COLON) return -1;
      i = close;
      atValueStart = false;
    } else if (c === SEMICOLON || c === COLON) {
      return i;
    } else {
      atValueStart = c === COMMA;
    }
  }
  return -1;
}

/** A value list written as one quoted string loses its quotes; a list keeps them as written. */
function unquoteParam(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** RFC 5545 TEXT unescaping, as node-ical applies it (so our UID keys equal its keys). */
export function unescapeText(value: string): string {
  return value
    .replaceAll('\\,', ',')
    .replaceAll('\\;', ';')
    .replaceAll(/\\n/gi, '\n')
    .replaceAll('\\\\', '\\')
    .replace(/^"(.*)"$/s, '$1');
}

export function unquote(value: string): string {
  return value.trim().replace(/^"(.*)"$/s, '$1');
}

export function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/** ';', ':' and ',' in an unquoted parameter value would end it. */
export function quoteParam(value: string): string {
  return /[;:,]/.test(value) ? `"${value}"` : value;
}
