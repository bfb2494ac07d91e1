/**
 * Graph's `dateTimeTimeZone` values: a wall-clock `dateTime` without offset ("2024-05-01T09:00:00.0000000")
 * and a `timeZone` that is an IANA name, "UTC", or, often, a Windows name ("W. Europe Standard Time").
 * We ask for UTC (Prefer: outlook.timezone="UTC") but read whatever comes.
 *
 * Windows names resolve through the CLDR windowsZones table (the `windows-iana` package), to the
 * zone CLDR lists first for the name (its "001" territory, e.g. Europe/Berlin). A name that is
 * neither IANA nor Windows is read as UTC, and the caller reports a 'time-zone' warning.
 */
import { DateTime, IANAZone } from 'luxon';
import { findIana } from 'windows-iana';

export interface GraphDateTime {
  dateTime: string;
  timeZone?: string | null;
}

/** An IANA zone for a Graph zone name, or null when the name is neither IANA nor Windows. */
export function ianaZone(name: string | null | undefined): string | null {
  const trimmed = name?.trim();
  if (!trimmed) return 'UTC';
  if (/^(utc|gmt|z|etc\/utc|etc\/gmt)$/i.test(trimmed)) return 'UTC';
  if (IANAZone.isValidZone(trimmed)) return trimmed;
  const windows = findIana(trimmed)[0];
  return windows && IANAZone.isValidZone(windows) ? windows : null;
}

export interface ReadInstant {
  instant: Date;
  /** The zone name when it could not be read and UTC was used instead. */
  unknownZone: string | null;
}

/** The instant a timed Graph value stands for. Null when `dateTime` is not a date-time. */
export function readInstant(value: GraphDateTime | null | undefined): ReadInstant | null {
  const wall = wallTime(value?.dateTime);
  if (!value || !wall) return null;
  const zone = ianaZone(value.timeZone);
  const parsed = DateTime.fromISO(wall, { zone: zone ?? 'UTC' });
  if (!parsed.isValid) return null;
  return { instant: parsed.toJSDate(), unknownZone: zone === null ? (value.timeZone ?? null) : null };
}

/**
 * An all-day value's calendar date as UTC midnight, as every adapter stores all-day occurrences
 * (see ical/occurrences.ts): the date Graph wrote, whatever zone it names.
 */
export function readDate(value: GraphDateTime | null | undefined): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value?.dateTime ?? '');
  if (!match) return null;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A value to send: the wall time of `instant` in `zone` (IANA), which Graph accepts by name. */
export function writeDateTime(instant: Date, zone: string): { dateTime: string; timeZone: string } {
  const name = IANAZone.isValidZone(zone) ? zone : 'UTC';
  return {
    dateTime: DateTime.fromJSDate(instant, { zone: name }).toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    timeZone: name,
  };
}

/** Graph writes seven fractional digits; luxon reads at most milliseconds. */
function wallTime(dateTime: string | undefined): string | null {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?$/.exec(dateTime?.trim() ?? '');
  if (!match) return null;
  return match[2] ? `${match[1]}.${match[2].slice(0, 3).padEnd(3, '0')}` : match[1]!;
}
