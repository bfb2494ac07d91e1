/**
 * The one check every string from outside passes before it is used: PostgreSQL rejects NUL in text
 * (one in a request used to surface as a 503), and an unpaired UTF-16 surrogate is not text at all
 * (it would be stored silently replaced). The API's schemas and the providers' connect bodies
 * build their string fields from here, each with a length cap.
 */
import { z } from 'zod';

export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}

/** Adds the storable-text check to a string schema (a plain string, a URL, any string format). */
export function storable<T extends z.ZodString | z.ZodStringFormat>(schema: T): T {
  // Aborting spares the client a second complaint about the same bytes (e.g. from a pattern).
  return schema.refine(isStorableText, { message: STORABLE_TEXT_MESSAGE, abort: true }) as T;
}

/** A free-text field: storable, at most `max` characters (chain `.trim()`, `.min()` as needed). */
export function text(max: number): z.ZodString {
  return storable(z.string().max(max, { message: `must be at most ${max} characters` }));
}

// Intl also accepts offsets like "+01:00"; the API wants IANA names.
const TIME_ZONE_NAME = /^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*$/;
const TIME_ZONE_MESSAGE = 'must be an IANA time zone name such as "Europe/Berlin"';
const zonesByLowerCase = new Map(
  Intl.supportedValuesOf('timeZone').map((zone) => [zone.toLowerCase(), zone]),
);

/** "america/new_york" → "America/New_York": how tzdata writes most names. */
const usualCapitalisation = (zone: string) =>
  zone
    .toLowerCase()
    .replace(/(^|[/_-])([a-z])/g, (_, separator: string, letter: string) => separator + letter.toUpperCase());

/**
 * The canonical spelling of an IANA time zone name, or null when Intl does not know it. Names match
 * case-insensitively. Every alias of UTC (Etc/UTC, GMT, Zulu...) is "UTC"; a zone Intl lists keeps
 * Intl's spelling; another link (Asia/Kolkata, Europe/Kyiv) is kept when written the usual way,
 * else it becomes the zone ICU resolves it to (us/pacific → America/Los_Angeles).
 */
export function canonicalTimeZone(zone: string): string | null {
  if (!TIME_ZONE_NAME.test(zone)) return null;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  if (resolved === 'UTC') return 'UTC';
  return zonesByLowerCase.get(zone.toLowerCase()) ?? (zone === usualCapitalisation(zone) ? zone : resolved);
}

export const timeZone = text(64)
  .regex(TIME_ZONE_NAME, { message: TIME_ZONE_MESSAGE })
  .transform((zone, ctx) => {
    const canonical = canonicalTimeZone(zone);
    if (canonical) return canonical;
    ctx.issues.push({ code: 'custom', message: TIME_ZONE_MESSAGE, input: zone });
    return z.NEVER;
  })
  .meta({
    description:
      'An IANA time zone name such as "Europe/Berlin", matched case-insensitively and stored in its canonical spelling ("europe/berlin" → "Europe/Berlin", "Etc/UTC" → "UTC").',
    examples: ['Europe/Berlin'],
  });

export const email = text(254)
  .trim()
  .pipe(z.email({ message: 'must be a valid e-mail address' }))
  .meta({ format: 'email' });

const MIN_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const MAX_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const INSTANT_MESSAGE = 'must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z';
const YEAR_RANGE_MESSAGE = 'must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';

/** An RFC 3339 instant with any offset, kept as the string sent (e.g. inside a cursor). */
export const isoInstant = z.iso
  .datetime({ offset: true, message: INSTANT_MESSAGE })
  .max(64)
  .regex(/^(?!0000)/, { message: YEAR_RANGE_MESSAGE })
  .refine(
    (value) => {
      const time = Date.parse(value);
      return time >= MIN_INSTANT && time <= MAX_INSTANT;
    },
    { message: YEAR_RANGE_MESSAGE },
  )
  .meta({
    // zod drops the format once a second pattern joins the date-time one.
    format: 'date-time',
    description:
      'An RFC 3339 date-time with any offset, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.',
  });

/** An RFC 3339 instant with any offset, parsed to a Date. */
export const instant = isoInstant.transform((value) => new Date(value));

/** A calendar date such as 2026-12-24, years 0001-9999. */
export const calendarDate = z.iso
  .date({ message: 'must be a date such as 2026-12-24' })
  .regex(/^(?!0000)/, { message: 'must be a date from year 0001 to 9999' });
