/**
 * Reading the public booking pages' URL parameters and form fields: anything a visitor sends can be
 * missing, repeated or forged, and none of it may reach the database unchecked (a malformed
 * booking id would fail in PostgreSQL rather than be "not found").
 */
import { z } from 'zod';
import { notFound } from '../../../domain/errors.ts';

/** A single text value, or '' (absent, or sent as several values). */
export const textOf = (value: unknown) => (typeof value === 'string' ? value : '');

const uuid = z.uuid();

export function bookingIdOf(value: unknown): string {
  const parsed = uuid.safeParse(value);
  if (!parsed.success) throw notFound('Booking');
  return parsed.data;
}

/** The manage token from the e-mail's link; its check is the use case's (bookings/manage-tokens.ts). */
export function manageTokenOf(value: unknown): string {
  const token = textOf(value);
  if (!token || token.length > 100) throw notFound('Booking');
  return token;
}
