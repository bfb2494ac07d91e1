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
  return `it does not start with BEGIN:VCALENDAR (starts with ${JSON.stringify(head.slice(0, 40))})`;
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

const CONTENT_LINE =
  /^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:]*)(?:,(?:"[^"]*"|[^";:]*))*)*):(.*)$/s;
const PARAMETER = /;([A-Za-z0-9-]+)=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)/g;

export function parseContentLine(line: string): ContentLine | null {
  const match = CONTENT_LINE.exec(line);
  if (!match) return null;
  const params = new Map<string, string>();
  for (const param of (match[2] ?? '').matchAll(PARAMETER)) {
    params.set((param[1] ?? '').toUpperCase(), (param[2] ?? '').replace(/^"(.*)"$/s, '$1'));
  }
  return { name: (match[1] ?? '').toUpperCase(), params, value: match[3] ?? '' };
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
