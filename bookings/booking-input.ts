/**
 * What a customer sends to book, move or cancel a booking, and the shape of a one-time link's
 * token: the API's bodies and the public booking pages' forms are checked by these same schemas,
 * so both accept exactly the same input.
 */
import { z } from 'zod';
import { email, instant, text, timeZone } from '../platform/validation.ts';

export const attendeeInput = z
  .object({ name: text(200).trim().min(1), email, timeZone: timeZone.optional() })
  .strict();

export const bookingRequestInput = z.object({
  start: instant,
  attendee: attendeeInput,
  serviceId: text(64).optional(),
  notes: text(2000).optional(),
});

export const rescheduleInput = z.object({ start: instant }).strict();

export const cancelInput = z.object({ reason: text(1000).optional() }).strict();

export const oneTimeLinkToken = text(100).regex(/^otl_[A-Za-z0-9_-]{20,}$/, 'is not a one-time link token');
