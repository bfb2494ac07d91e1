/** Response and request shapes shared by the booking routes (OpenAPI and validation). */
import { z } from 'zod';
import { bookingCalendarSlug, bookingService } from '../../bookings/booking-calendar-input.ts';
import { bookingRequestInput } from '../../bookings/booking-input.ts';
import {
  APPOINTMENT_ORIGINS,
  APPOINTMENT_STATUSES,
  BOOKING_CALENDAR_TYPES,
  INVITE_STATUSES,
} from '../../domain/booking.ts';
import { text } from '../../platform/validation.ts';
import type { Caller } from '../auth.ts';
import { instant, timeZone } from '../schemas.ts';

export const slugParam = z.object({ slug: bookingCalendarSlug });

export const service = bookingService;

export const bookingCalendarView = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  type: z.enum(BOOKING_CALENDAR_TYPES),
  hosts: z.array(z.string()),
  durationMinutes: z.number(),
  slotIntervalMinutes: z.number().nullable(),
  bufferBeforeMinutes: z.number(),
  bufferAfterMinutes: z.number(),
  minNoticeMinutes: z.number(),
  maxDaysAhead: z.number(),
  seatsPerSlot: z.number().nullable(),
  services: z.array(service),
  url: z.string(),
  createdAt: z.string(),
});

export const publicBookingCalendarView = z.object({
  slug: z.string(),
  name: z.string(),
  type: z.enum(BOOKING_CALENDAR_TYPES),
  durationMinutes: z.number(),
  services: z.array(service),
  url: z.string(),
});

export const slotsQuery = z.object({
  from: instant,
  to: instant,
  timeZone: timeZone.optional(),
  serviceId: text(64).optional(),
});

export const slotsView = z.object({
  timeZone: z.string(),
  slots: z.array(z.object({ start: z.string(), end: z.string() })),
  stale: z.boolean(),
});

const person = z.object({ name: z.string(), email: z.string(), timeZone: z.string().optional() });

export const bookingBody = bookingRequestInput;

export const bookingView = z.object({
  id: z.string(),
  bookingCalendar: z.string().nullable(),
  status: z.enum(APPOINTMENT_STATUSES),
  start: z.string(),
  end: z.string(),
  hosts: z.array(z.string()),
  attendee: person,
  notes: z.string().nullable(),
  manageUrl: z.string(),
  invite: z.object({ status: z.enum(INVITE_STATUSES), calendarId: z.string().optional() }),
  workflowId: z.string(),
});

export const appointmentView = z.object({
  id: z.string(),
  origin: z.enum(APPOINTMENT_ORIGINS),
  status: z.enum(APPOINTMENT_STATUSES),
  title: z.string(),
  start: z.string(),
  end: z.string(),
  attendees: z.array(person),
  bookingCalendar: z.string().nullable(),
  workflowId: z.string().nullable(),
});

export const oneTimeLinkView = z.object({
  id: z.string(),
  token: z.string().optional(),
  url: z.string().optional(),
  status: z.enum(['active', 'used', 'revoked']),
  expiresAt: z.string().nullable(),
  usedAt: z.string().nullable(),
  createdAt: z.string(),
});

/** The booking use cases' actor: a host acting for themself, or the admin. */
export function actorOf(caller: Caller): { kind: 'admin' } | { kind: 'user'; userId: string } {
  if (caller.kind === 'admin') return { kind: 'admin' };
  if (caller.kind === 'user') return { kind: 'user', userId: caller.userId };
  throw new Error('actorOf: anonymous callers never reach authenticated routes');
}
