/**
 * What a booking calendar accepts when it is created or changed: the one set of rules shared by the
 * API (POST and PATCH /v1/booking-calendars) and the provider's pages.
 */
import { z } from 'zod';
import { BOOKING_CALENDAR_TYPES } from '../domain/booking.ts';
import { text } from '../platform/validation.ts';

export const bookingCalendarSlug = text(63).regex(
  /^[a-z0-9][a-z0-9-]{0,62}$/,
  'must be lower-case letters, digits and dashes',
);

/** Slugs the provider's pages use as words of their own (/console/booking-calendars/new). */
const RESERVED_SLUGS = new Set(['new']);

export const bookingService = z.object({
  id: text(64).min(1),
  name: text(200).min(1),
  durationMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60),
});

const minutes = (max: number) => z.number().int().min(0).max(max);

/** The booking rules, each bounded so slot computation stays cheap. */
export const bookingRules = {
  durationMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60),
  slotIntervalMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .nullable(),
  bufferBeforeMinutes: minutes(24 * 60),
  bufferAfterMinutes: minutes(24 * 60),
  minNoticeMinutes: minutes(366 * 24 * 60),
  maxDaysAhead: z.number().int().min(1).max(730),
};

const calendarName = text(200).trim().min(1);
const seatsPerSlot = z.number().int().min(1).max(10_000).nullable();

/** What a host may change on a calendar: each field optional (duration required only at creation). */
const calendarSettings = z
  .object({
    name: calendarName,
    ...bookingRules,
    seatsPerSlot,
    services: z.array(bookingService).max(50),
  })
  .partial();

export const bookingCalendarChangeInput = calendarSettings.strict();

export const newBookingCalendarInput = calendarSettings
  .extend({
    slug: bookingCalendarSlug.refine((slug) => !RESERVED_SLUGS.has(slug), 'is reserved: choose another'),
    name: calendarName,
    type: z.enum(BOOKING_CALENDAR_TYPES),
    hosts: z.array(text(254).min(1)).min(1).max(50),
    durationMinutes: bookingRules.durationMinutes,
  })
  .strict();
