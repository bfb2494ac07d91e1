/** The vocabulary of booking: what people book, links, and appointments (several hosts each). */

export const BOOKING_CALENDAR_TYPES = ['simple', 'round_robin', 'collective', 'class', 'service'] as const;
export type BookingCalendarType = (typeof BOOKING_CALENDAR_TYPES)[number];

export interface BookingService {
  id: string;
  name: string;
  durationMinutes: number;
}

export const ONE_TIME_LINK_STATUSES = ['active', 'used', 'revoked'] as const;
export type OneTimeLinkStatus = (typeof ONE_TIME_LINK_STATUSES)[number];

/** booking: made through a booking calendar; app: made in the app; provider: brought in by inbound sync. */
export const APPOINTMENT_ORIGINS = ['booking', 'app', 'provider'] as const;
export type AppointmentOrigin = (typeof APPOINTMENT_ORIGINS)[number];

export const APPOINTMENT_STATUSES = ['held', 'confirmed', 'cancelled'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export interface Person {
  name: string;
  email: string;
  timeZone?: string;
}

/** The invite in a host's primary calendar: waiting (or its calendar needs reconnecting), written, none (no primary calendar), or given up. */
export const INVITE_STATUSES = ['pending', 'written', 'skipped', 'failed'] as const;
export type InviteStatus = (typeof INVITE_STATUSES)[number];

/** The types this server books today; the team types (round robin, collective, class, service) come later. */
export const BOOKABLE_CALENDAR_TYPES = ['simple'] as const satisfies readonly BookingCalendarType[];
