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
