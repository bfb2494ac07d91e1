/**
 * What people book: a booking calendar with its hosts and rules. Create, list, read (public and
 * host views), change and delete; a deleted calendar's bookings stay.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BookingCalendarRow } from '../db/entities/booking.ts';
import { BookingCalendar, BookingCalendarHost, User } from '../db/entities/index.ts';
import { BOOKABLE_CALENDAR_TYPES, type BookingCalendarType, type BookingService } from '../domain/booking.ts';
import { AppError, notFound, validationFailed } from '../domain/errors.ts';
import type { SlotRules } from '../scheduling/slots.ts';

/** A calendar's booking rules are exactly what slot computation takes. */
export type BookingRules = SlotRules;

export interface NewBookingCalendar extends Partial<BookingRules> {
  slug: string;
  name: string;
  type: BookingCalendarType;
  hosts: string[];
  durationMinutes: number;
  seatsPerSlot?: number | null | undefined;
  services?: BookingService[] | undefined;
}

export type BookingCalendarChange = Partial<
  BookingRules & { name: string; seatsPerSlot: number | null; services: BookingService[] }
>;

/** Who acts: a host (their own calendars) or the admin (any). */
export type Actor = { kind: 'admin' } | { kind: 'user'; userId: string };

export interface BookingCalendarView extends BookingRules {
  id: string;
  slug: string;
  name: string;
  type: BookingCalendarType;
  hosts: string[];
  seatsPerSlot: number | null;
  services: BookingService[];
  url: string;
  createdAt: string;
}

/** What anyone may see: nothing of the hosts' private data. */
export interface PublicBookingCalendarView {
  slug: string;
  name: string;
  type: BookingCalendarType;
  durationMinutes: number;
  services: BookingService[];
  url: string;
}

export async function createBookingCalendar(
  em: EntityManager,
  actor: Actor,
  input: NewBookingCalendar,
  publicUrl: string,
): Promise<BookingCalendarView> {
  if (!(BOOKABLE_CALENDAR_TYPES as readonly string[]).includes(input.type))
    throw validationFailed(
      [{ path: 'type', message: `${input.type} booking calendars are not available on this server yet` }],
      `${input.type} booking calendars are not available on this server yet.`,
    );
  const hosts = [...new Set(input.hosts.map((h) => h.toLowerCase()))];
  if (input.type === 'simple' && hosts.length !== 1)
    throw validationFailed([{ path: 'hosts', message: 'a simple booking calendar has exactly one host' }]);
  if (actor.kind === 'user' && !hosts.includes(actor.userId))
    throw validationFailed([{ path: 'hosts', message: 'must include the caller' }]);
  const known = await em.find(User, { id: { $in: hosts } });
  const missing = hosts.filter((h) => !known.some((u) => u.id === h));
  if (missing.length)
    throw validationFailed(
      missing.map((h) => ({ path: 'hosts', message: `${h} is not a user of this server` })),
    );

  const row = await em
    .transactional(async (tx) => {
      const calendar = tx.create(BookingCalendar, {
        id: randomUUID(),
        slug: input.slug,
        name: input.name,
        type: input.type,
        durationMinutes: input.durationMinutes,
        slotIntervalMinutes: input.slotIntervalMinutes ?? null,
        bufferBeforeMinutes: input.bufferBeforeMinutes ?? 0,
        bufferAfterMinutes: input.bufferAfterMinutes ?? 0,
        minNoticeMinutes: input.minNoticeMinutes ?? 0,
        maxDaysAhead: input.maxDaysAhead ?? 60,
        seatsPerSlot: input.seatsPerSlot ?? null,
        services: input.services ?? [],
        createdBy: actor.kind === 'user' ? actor.userId : null,
      });
      for (const [position, userId] of hosts.entries())
        tx.create(BookingCalendarHost, { bookingCalendarId: calendar.id, userId, position });
      return calendar;
    })
    .catch((error) => {
      if (error instanceof UniqueConstraintViolationException)
        throw new AppError(409, 'already_exists', `The slug "${input.slug}" is taken.`);
      throw error;
    });
  return hostView(row, hosts, publicUrl);
}

/** A booking calendar by slug, or 404. */
export async function findBookingCalendar(em: EntityManager, slug: string): Promise<BookingCalendarRow> {
  const calendar = await em.findOne(BookingCalendar, { slug });
  if (!calendar) throw notFound('Booking calendar');
  return calendar;
}

export async function hostsOf(em: EntityManager, bookingCalendarId: string): Promise<string[]> {
  const rows = await em.find(BookingCalendarHost, { bookingCalendarId }, { orderBy: { position: 'asc' } });
  return rows.map((r) => r.userId);
}

/** The calendar for one of its hosts (or the admin); 404 for anyone else, so slugs reveal nothing. */
export async function findHostedCalendar(em: EntityManager, actor: Actor, slug: string) {
  const calendar = await findBookingCalendar(em, slug);
  const hosts = await hostsOf(em, calendar.id);
  if (actor.kind === 'user' && !hosts.includes(actor.userId)) throw notFound('Booking calendar');
  return { calendar, hosts };
}

export async function listHostedCalendars(
  em: EntityManager,
  userId: string,
  page: { limit: number; after: { createdAt: string; id: string } | null },
  publicUrl: string,
): Promise<{ items: BookingCalendarView[]; next: { createdAt: string; id: string } | null }> {
  const { limit, after } = page;
  const rows = await em.execute<{ id: string }[]>(
    `select bc.id from booking_calendars bc join booking_calendar_hosts h on h.booking_calendar_id = bc.id
      where h.user_id = ? and (?::timestamptz is null or (bc.created_at, bc.id) < (?::timestamptz, ?::uuid))
      order by bc.created_at desc, bc.id desc limit ?`,
    [userId, after?.createdAt ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
  );
  const ids = rows.slice(0, limit).map((r) => r.id);
  const calendars = await em.find(
    BookingCalendar,
    { id: { $in: ids } },
    { orderBy: { createdAt: 'desc', id: 'desc' } },
  );
  const hosts = await em.find(
    BookingCalendarHost,
    { bookingCalendarId: { $in: ids } },
    { orderBy: { position: 'asc' } },
  );
  const items = calendars.map((c) =>
    hostView(
      c,
      hosts.filter((h) => h.bookingCalendarId === c.id).map((h) => h.userId),
      publicUrl,
    ),
  );
  const last = rows.length > limit ? items[items.length - 1] : undefined;
  return { items, next: last ? { createdAt: last.createdAt, id: last.id } : null };
}

export async function updateBookingCalendar(
  em: EntityManager,
  actor: Actor,
  slug: string,
  change: BookingCalendarChange,
  publicUrl: string,
): Promise<BookingCalendarView> {
  const { calendar, hosts } = await findHostedCalendar(em, actor, slug);
  for (const [key, value] of Object.entries(change)) {
    if (value !== undefined) (calendar as Record<string, unknown>)[key] = value;
  }
  await em.flush();
  return hostView(calendar, hosts, publicUrl);
}

/** Deletes the calendar and its links; its bookings stay, as appointments. */
export async function deleteBookingCalendar(em: EntityManager, actor: Actor, slug: string): Promise<void> {
  const { calendar } = await findHostedCalendar(em, actor, slug);
  await em.nativeDelete(BookingCalendar, { id: calendar.id });
}

export function rulesOf(calendar: BookingCalendarRow): BookingRules {
  return {
    durationMinutes: calendar.durationMinutes,
    slotIntervalMinutes: calendar.slotIntervalMinutes ?? null,
    bufferBeforeMinutes: calendar.bufferBeforeMinutes,
    bufferAfterMinutes: calendar.bufferAfterMinutes,
    minNoticeMinutes: calendar.minNoticeMinutes,
    maxDaysAhead: calendar.maxDaysAhead,
  };
}

export const bookingPageUrl = (publicUrl: string, slug: string) => `${publicUrl}/book/${slug}`;

export function hostView(
  calendar: BookingCalendarRow,
  hosts: string[],
  publicUrl: string,
): BookingCalendarView {
  return {
    id: calendar.id,
    slug: calendar.slug,
    name: calendar.name,
    type: calendar.type,
    hosts,
    ...rulesOf(calendar),
    seatsPerSlot: calendar.seatsPerSlot ?? null,
    services: calendar.services ?? [],
    url: bookingPageUrl(publicUrl, calendar.slug),
    createdAt: calendar.createdAt.toISOString(),
  };
}

export function publicView(calendar: BookingCalendarRow, publicUrl: string): PublicBookingCalendarView {
  return {
    slug: calendar.slug,
    name: calendar.name,
    type: calendar.type,
    durationMinutes: calendar.durationMinutes,
    services: calendar.services ?? [],
    url: bookingPageUrl(publicUrl, calendar.slug),
  };
}
