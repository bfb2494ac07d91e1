/**
 * Floating times: a DATE-TIME with neither TZID nor "Z" (RFC 5545 3.3.5, form #1). node-ical reads
 * them in the host process's zone, so the same feed would give 09:00Z on a UTC server and 17:00Z on
 * one in Los Angeles. We give each such value an explicit TZID before node-ical parses the text: the
 * feed's X-WR-TIMEZONE when node-ical knows that name (IANA or Windows), else the zone the caller
 * passes (the calendar owner's), else UTC. node-ical then expands recurring floating series in that
 * zone, keeping their local time across DST, and converts a floating UNTIL with them.
 */
import { nonEmpty, parseContentLine, quoteParam } from './content-lines.ts';
import type { VEventBlock } from './scan.ts';
import { isIanaZone, nodeIcalResolves } from './vtimezone.ts';

/** The zone floating values are read in; see the file comment. */
export function floatingTimeZone(wrTimezone: string | null, callerZone: string | undefined): string {
  if (wrTimezone !== null && nodeIcalResolves(wrTimezone)) return wrTimezone;
  if (callerZone !== undefined && callerZone !== '' && isIanaZone(callerZone)) return callerZone;
  return 'UTC';
}

const FLOATING_DATE_TIME = /^\d{8}T\d{6}$/;

/** Rewrites, in place, the floating values of the blocks' date lines into `zone`. */
export function rewriteFloatingTimes(lines: string[], blocks: VEventBlock[], zone: string): void {
  for (const block of blocks) {
    for (const i of block.dateLines) {
      const rewritten = zonedLine(lines[i] ?? '', zone);
      if (rewritten !== null) lines[i] = rewritten;
    }
  }
}

/** The line with its floating values in `zone`, or null when it has none. */
function zonedLine(line: string, zone: string): string | null {
  const property = parseContentLine(line);
  if (!property || nonEmpty(property.params.get('TZID')) !== null) return null;
  const valueType = property.params.get('VALUE')?.toUpperCase();
  if (valueType === 'DATE') return null;
  const values = property.value.split(',').map((v) => v.trim());
  // A PERIOD (RDATE) is floating when its start is; its end or duration follows the same TZID.
  const isFloating = (v: string) =>
    FLOATING_DATE_TIME.test(valueType === 'PERIOD' ? (v.split('/')[0] ?? '') : v);
  const floating = values.filter(isFloating);
  if (floating.length === 0) return null;
  const params = [...property.params]
    .filter(([name]) => name !== 'TZID')
    .map(([n, v]) => `;${n}=${quoteParam(v)}`)
    .join('');
  const zoned = `${property.name}${params};TZID=${quoteParam(zone)}:${floating.join(',')}`;
  // A list mixing floating and other values (EXDATE, RDATE) becomes two properties of the same name.
  const others = values.filter((v) => !isFloating(v));
  return others.length === 0 ? zoned : `${property.name}${params}:${others.join(',')}\n${zoned}`;
}
