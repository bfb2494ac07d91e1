/**
 * The commit point of a booking: in one transaction, consume the one-time link (if any), re-check
 * the host's imported busy time and rules, and hold the time under the exclusion constraint on
 * `appointment_hosts` (invariant 1: two blocking holds of one host never overlap, whatever races).
 * The held span includes the calendar's buffers, so availability and the constraint agree exactly.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Appointment, BookingCalendar, OneTimeLink } from '../db/entities/index.ts';
import type { AppointmentStatus, Person } from '../domain/booking.ts';
import { AppError } from '../domain/errors.ts';
import { hostsOf } from './booking-calendars.ts';
import { assertUsable, ownerName } from './links.ts';
import { assertBookable, slotUnavailable } from './slots.ts';

export interface HoldRequest {
  bookingId: string;
  bookingCalendarId: string;
  oneTimeLinkId: string | null;
  start: string;
  attendee: Person;
  notes: string | null;
  manageTokenHash: string;
}

export type HoldOutcome =
  | {
      held: true;
      start: string;
      end: string;
      hosts: string[];
      /** `held` for a new hold; a retried hold answers the booking as it is now (absent in old histories). */
      status?: AppointmentStatus;
    }
  | { held: false; code: 'slot_unavailable' | 'link_used' | 'link_revoked' | 'not_found'; message: string };

/**
 * Holds the slot, or explains (as an outcome, not a throw) why it cannot be held. Idempotent per
 * booking id: a retry after a hold that committed (its answer lost with a worker) runs into that
 * hold — as taken time, a used link or a duplicate key — and answers it.
 */
export async function holdSlot(
  rootEm: EntityManager,
  request: HoldRequest,
  now: Date,
  options: { whileLocked?: () => Promise<void> } = {},
): Promise<HoldOutcome> {
  try {
    return await rootEm.fork().transactional(async (em) => {
      await beginBoundedHold(em, request.bookingId);
      // The booking's run starts here (bookings/commands.ts): its first step, settleHold, waits for
      // this transaction to end, so it reads the hold's outcome as committed, or nothing.
      await options.whileLocked?.();
      const calendar = await em.findOne(BookingCalendar, { id: request.bookingCalendarId });
      if (!calendar) throw new AppError(404, 'not_found', 'Booking calendar not found.');
      if (request.oneTimeLinkId) await consumeLink(em, request.oneTimeLinkId, calendar.id);

      const hosts = await hostsOf(em, calendar.id);
      const { start, end, held } = await assertBookable(em, calendar, hosts, new Date(request.start), now);
      // One statement for the appointment, its hosts' holds and their invites: the exclusion
      // constraint on appointment_hosts refuses an overlapping hold right here (23P01).
      await em.execute(
        `with appointment as (
           insert into appointments (id, origin, booking_calendar_id, one_time_link_id, status, title, start_at,
                                     end_at, time_zone, attendee, attendees, notes, manage_token_hash, sequence)
           values (?, 'booking', ?, ?, 'held', ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, 0)
           returning id
         ), holds as (
           insert into appointment_hosts (appointment_id, user_id, start_at, end_at, blocking)
           select (select id from appointment), host, ?, ?, true from jsonb_array_elements_text(?::jsonb) as host
         )
         insert into appointment_invites (appointment_id, user_id, status)
         select (select id from appointment), host, 'pending' from jsonb_array_elements_text(?::jsonb) as host`,
        [
          request.bookingId,
          calendar.id,
          request.oneTimeLinkId,
          calendar.name,
          start,
          end,
          request.attendee.timeZone ?? null,
          JSON.stringify(request.attendee),
          JSON.stringify([request.attendee]),
          request.notes,
          request.manageTokenHash,
          held.start,
          held.end,
          JSON.stringify(hosts),
          JSON.stringify(hosts),
        ],
      );
      return {
        held: true,
        start: start.toISOString(),
        end: end.toISOString(),
        hosts,
        status: 'held' as const,
      };
    });
  } catch (error) {
    const refusal = isExclusionViolation(error)
      ? slotUnavailable()
      : error instanceof AppError && REFUSALS.includes(error.code)
        ? error
        : null;
    if (refusal || isUniqueViolation(error)) {
      const earlier = await heldOutcomeOf(rootEm.fork(), request.bookingId);
      if (earlier) return earlier;
    }
    if (refusal) return refused(refusal);
    throw error;
  }
}

const REFUSALS = ['slot_unavailable', 'link_used', 'link_revoked', 'not_found'];

/**
 * A hold's transaction is short and bounded: it takes the booking's lock first, and no statement
 * or pause inside it (the run's start among them) may last long, so the run's settleHold, which
 * waits for that lock, never waits long either.
 */
async function beginBoundedHold(em: EntityManager, bookingId: string): Promise<void> {
  await em.execute(`set local statement_timeout = '${HOLD_STATEMENT_TIMEOUT_MS}ms'`);
  await em.execute(`set local idle_in_transaction_session_timeout = '${HOLD_STATEMENT_TIMEOUT_MS}ms'`);
  await lockBooking(em, bookingId);
}

/** The booking's lock, held to the end of the transaction: a hold and settleHold never overlap. */
const lockBooking = (em: EntityManager, bookingId: string) =>
  em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`booking-hold:${bookingId}`]);

const HOLD_STATEMENT_TIMEOUT_MS = 5_000;

/**
 * What became of a booking's hold, as its run reads it. The API starts the run inside the hold's
 * transaction, under the booking's lock (holdSlot's `whileLocked`): waiting for that lock means
 * waiting for the hold to commit or roll back, so what is read here is final: the appointment is
 * there (held), or it is not and never will be. (Runs started by earlier APIs, which held after
 * the start and then signalled, ask only once no such hold could still begin.)
 */
export async function settleHold(rootEm: EntityManager, bookingId: string): Promise<HoldOutcome> {
  return rootEm.fork().transactional(async (em) => {
    await lockBooking(em, bookingId);
    return (
      (await heldOutcomeOf(em, bookingId)) ?? {
        held: false,
        code: 'not_found',
        message: 'The booking was never held.',
      }
    );
  });
}

/** The booking's hold as it stands (committed earlier), or null when there is none. */
async function heldOutcomeOf(em: EntityManager, bookingId: string): Promise<HoldOutcome | null> {
  const existing = await em.findOne(Appointment, { id: bookingId });
  if (!existing) return null;
  const hosts = await em.execute<{ user_id: string }[]>(
    'select user_id from appointment_hosts where appointment_id = ? order by user_id',
    [bookingId],
  );
  return {
    held: true,
    start: existing.startAt.toISOString(),
    end: existing.endAt.toISOString(),
    hosts: hosts.map((h) => h.user_id),
    status: existing.status,
  };
}

function refused(error: AppError): HoldOutcome {
  return { held: false, code: error.code as 'slot_unavailable', message: error.message };
}

/** Marks the link used, in the hold's transaction: of any number of racing bookings, one gets it. */
async function consumeLink(em: EntityManager, linkId: string, bookingCalendarId: string): Promise<void> {
  const consumed = await em.execute<{ id: string }[]>(
    `update one_time_links set status = 'used', used_at = now()
      where id = ? and booking_calendar_id = ? and status = 'active' and (expires_at is null or expires_at > now())
      returning id`,
    [linkId, bookingCalendarId],
  );
  if (consumed.length) return;
  const link = await em.findOne(OneTimeLink, { id: linkId });
  if (!link) throw new AppError(404, 'not_found', 'One-time link not found.');
  assertUsable(link, await ownerName(em, bookingCalendarId));
  throw new AppError(410, 'link_used', 'This link has already been used.');
}

/** PostgreSQL's exclusion_violation (23P01): another blocking hold of the host overlaps. */
export const isExclusionViolation = (error: unknown) => hasPgCode(error, '23P01');
/** PostgreSQL's unique_violation (23505). */
const isUniqueViolation = (error: unknown) => hasPgCode(error, '23505');

function hasPgCode(error: unknown, code: string): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if ((e as { code?: string }).code === code) return true;
  }
  return false;
}
