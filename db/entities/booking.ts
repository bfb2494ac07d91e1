import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type {
  AppointmentOrigin,
  AppointmentStatus,
  BookingCalendarType,
  BookingService,
  InviteStatus,
  OneTimeLinkStatus,
  Person,
} from '../../domain/booking.ts';

/** What people book: a page with a duration, hosts and rules. */
export const BookingCalendar = defineEntity({
  name: 'BookingCalendar',
  tableName: 'booking_calendars',
  properties: {
    id: p.uuid().primary(),
    slug: p.string(),
    name: p.string(),
    type: p.string().$type<BookingCalendarType>(),
    durationMinutes: p.integer(),
    slotIntervalMinutes: p.integer().nullable(),
    bufferBeforeMinutes: p.integer().default(0),
    bufferAfterMinutes: p.integer().default(0),
    minNoticeMinutes: p.integer().default(0),
    maxDaysAhead: p.integer().default(60),
    seatsPerSlot: p.integer().nullable(),
    services: p.json<BookingService[]>(),
    createdBy: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export const BookingCalendarHost = defineEntity({
  name: 'BookingCalendarHost',
  tableName: 'booking_calendar_hosts',
  properties: {
    bookingCalendarId: p.uuid().primary(),
    userId: p.string().primary(),
    position: p.integer().default(0),
  },
});

/** A link good for exactly one booking; only the token's hash is stored. */
export const OneTimeLink = defineEntity({
  name: 'OneTimeLink',
  tableName: 'one_time_links',
  properties: {
    id: p.uuid().primary(),
    bookingCalendarId: p.uuid(),
    tokenHash: p.string(),
    status: p.string().$type<OneTimeLinkStatus>().default('active'),
    expiresAt: p.datetime().nullable(),
    usedAt: p.datetime().nullable(),
    createdBy: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

/** A booking, an appointment made in the app, or one brought in by inbound sync. */
export const Appointment = defineEntity({
  name: 'Appointment',
  tableName: 'appointments',
  properties: {
    id: p.uuid().primary(),
    origin: p.string().$type<AppointmentOrigin>(),
    bookingCalendarId: p.uuid().nullable(),
    oneTimeLinkId: p.uuid().nullable(),
    status: p.string().$type<AppointmentStatus>(),
    title: p.string(),
    startAt: p.datetime(),
    endAt: p.datetime(),
    timeZone: p.string().nullable(),
    attendee: p.json<Person>().nullable(),
    attendees: p.json<Person[]>(),
    notes: p.string().nullable(),
    serviceId: p.string().nullable(),
    manageTokenHash: p.string().nullable(),
    sequence: p.integer().default(0),
    cancelledAt: p.datetime().nullable(),
    cancelReason: p.string().nullable(),
    createdBy: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    version: p.integer().version(),
  },
});

/**
 * One host's hold on an appointment's time. The table's EXCLUDE constraint makes two blocking rows
 * of one host overlap-proof; `during` is generated from start/end.
 */
export const AppointmentHost = defineEntity({
  name: 'AppointmentHost',
  tableName: 'appointment_hosts',
  properties: {
    appointmentId: p.uuid().primary(),
    userId: p.string().primary(),
    startAt: p.datetime(),
    endAt: p.datetime(),
    blocking: p.boolean().default(true),
  },
});

/** Where one host's invite of an appointment lives on the provider, and how far it got. */
export const AppointmentInvite = defineEntity({
  name: 'AppointmentInvite',
  tableName: 'appointment_invites',
  properties: {
    appointmentId: p.uuid().primary(),
    userId: p.string().primary(),
    status: p.string().$type<InviteStatus>().default('pending'),
    calendarId: p.uuid().nullable(),
    externalId: p.string().nullable(),
    etag: p.string().nullable(),
    writtenSequence: p.integer().nullable(),
    error: p.string().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type BookingCalendarRow = InferEntity<typeof BookingCalendar>;
export type AppointmentRow = InferEntity<typeof Appointment>;
export type OneTimeLinkRow = InferEntity<typeof OneTimeLink>;
