/** zod pieces shared by several routes. */
import { z } from 'zod';

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    // Intl also accepts offsets like "+01:00"; the API wants IANA names.
    return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone);
  } catch {
    return false;
  }
}

export const timeZone = z
  .string()
  .min(1)
  .refine(isValidTimeZone, { message: 'must be an IANA time zone name such as "Europe/Berlin"' });

export const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be a valid e-mail address' }));

/** An RFC 3339 instant with any offset, parsed to a Date. */
export const instant = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z' })
  .transform((value) => new Date(value));

export const uuidParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Opaque cursors: base64url JSON, so clients cannot depend on their shape. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  if (!cursor) return null;
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {}
  return null;
}
