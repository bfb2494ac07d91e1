/**
 * zod pieces shared by several routes. Every string the API takes is storable text with a length
 * cap (platform/validation.ts); dates stay within years 0001-9999, which PostgreSQL, JavaScript and
 * RFC 3339 all represent the same way.
 */
import { z } from 'zod';
import { validationFailed } from '../domain/errors.ts';
import { storable } from '../platform/validation.ts';

// The field formats shared with the web pages live in platform/validation.ts.
export {
  calendarDate,
  canonicalTimeZone,
  email,
  instant,
  isoInstant,
  timeZone,
} from '../platform/validation.ts';

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
