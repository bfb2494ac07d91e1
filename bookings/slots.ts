/**
 * Slots a visitor can book on a booking calendar: the hosts' working hours minus their busy time,
 * under the calendar's rules. One host today; the team policies (everyone free, anyone free, seats)
 * come with the team calendars and combine the same per-host inputs.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BookingCalendarRow } from '../db/entities/booking.ts';
import { AppError, validationFailed } from '../domain/errors.ts';
import { computeSlots, isBookableStart } from '../scheduling/slots.ts';
import { rulesOf } from './booking-calendars.ts';
import { type HostAvailability, loadHostAvailability } from './busy-time.ts';

/** The longest range one request may ask for. */
export const MAX_SLOT_RANGE_DAYS = 62;

export interface SlotsView {
  timeZone: string;
  slots: { start: string; end: string }[];
  stale: boolean;
}

export async function bookableSlots(
  em: EntityManager,
  calendar: BookingCalendarRow,
  query: { from: Date; to: Date; timeZone?: string | undefined; now: Date },
): Promise<SlotsView> {
  const { from, to, now } = query;
  if (to <= from) throw validationFailed([{ path: 'to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > MAX_SLOT_RANGE_DAYS * 86_400_000)
    throw validationFailed([
      { path: 'to', message: `must be at most ${MAX_SLOT_RANGE_DAYS} days after from` },
    ]);
  const availability = await loadHostAvailability(em, { bookingCalendarId: calendar.id }, { from, to });
  const slots = slotsOf(calendar, availability, { from, to, now });
  return {
    timeZone: query.timeZone ?? 'UTC',
    slots: slots.map((s) => ({ start: s.start.toISOString(), end: s.end.toISOString() })),
    stale: availability.some((h) => h.stale),
  };
}

function slotsOf(
  calendar: BookingCalendarRow,
  availability: HostAvailability[],
  range: { from: Date; to: Date; now: Date },
) {
  const [host] = availability;
  if (!host || availability.length !== 1) return [];
  return computeSlots({ hours: host.hours, busy: host.busy, rules: rulesOf(calendar), ...range });
}

/**
 * Whether every host can take `start` on this calendar now: the same rules as the offered slots,
 * read inside the caller's transaction (the hold and a reschedule re-check with it). Answers the
 * appointment's time and the span its hosts hold: the time widened by the buffers, which the
 * exclusion constraint then guards, so availability and the constraint agree.
 */
export async function assertBookable(
  em: EntityManager,
  calendar: BookingCalendarRow,
  hosts: readonly string[],
  start: Date,
  now: Date,
): Promise<{ start: Date; end: Date; held: { start: Date; end: Date } }> {
  const rules = rulesOf(calendar);
  const end = new Date(start.getTime() + rules.durationMinutes * MINUTE);
  const availability = await loadHostAvailability(em, hosts, { from: start, to: end });
  const bookable =
    availability.length === hosts.length &&
    availability.every((host) => isBookableStart({ hours: host.hours, busy: host.busy, rules, now, start }));
  if (!bookable) throw slotUnavailable();
  const held = {
    start: new Date(start.getTime() - rules.bufferBeforeMinutes * MINUTE),
    end: new Date(end.getTime() + rules.bufferAfterMinutes * MINUTE),
  };
  return { start, end, held };
}

const MINUTE = 60_000;

export const slotUnavailable = () =>
  new AppError(409, 'slot_unavailable', 'This time is no longer available. Please pick another one.');
