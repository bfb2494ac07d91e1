/**
 * zod pieces shared by several routes. Every string the API takes is storable text with a length
 * cap (platform/validation.ts); dates stay within years 0001-9999, which PostgreSQL, JavaScript and
 * RFC 3339 all represent the same way.
 */
import { z } from 'zod';
import { validationFailed } from '../domain/errors.ts';
import { storable, text } from '../platform/validation.ts';

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

export const uuidParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: storable(z.string().max(500)).optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Opaque cursors: base64url JSON, so clients cannot depend on their shape. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The cursor's content if it has `shape` (ids are UUIDs, dates parse), else null: clients can forge cursors. */
export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  if (!cursor) return null;
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {}
  return null;
}

/** The position a list cursor this API issued names, or a 400 naming the `cursor` parameter. */
export function cursorParam<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  const after = decodeCursor(cursor, shape);
  if (cursor && !after)
    throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API issued' }]);
  return after;
}
