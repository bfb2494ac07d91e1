/**
 * Each host's invite in their primary calendar, kept in line with the appointment: written once
 * under a deterministic identity (invariant 3: a retried write never makes a second event), updated
 * when the appointment's SEQUENCE moves past the written one, deleted when it is cancelled.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { openStoredProvider } from '../connections/credentials.ts';
import type { AppointmentRow } from '../db/entities/booking.ts';
import { Appointment, AppointmentInvite, BookingCalendar, User } from '../db/entities/index.ts';
import type { InviteStatus } from '../domain/booking.ts';
import type { OutboundEvent } from '../domain/calendar.ts';
import type { Config } from '../platform/config.ts';
import { CredentialsRejectedError, NotFoundError } from '../providers/errors.ts';
import { manageUrl } from './manage-tokens.ts';

interface PrimaryCalendar {
  id: string;
  external_id: string;
  connection_id: string;
  connection_status: string;
}

/** Brings every host's invite in line; returns the booking's overall invite status. */
export async function syncInvites(
  rootEm: EntityManager,
  config: Config,
  bookingId: string,
): Promise<InviteStatus> {
  const em = rootEm.fork();
  const appointment = await em.findOneOrFail(Appointment, { id: bookingId });
  const invites = await em.find(AppointmentInvite, { appointmentId: bookingId });
  for (const invite of invites) {
    const outcome = await syncOne(em, config, appointment, invite);
    await em.nativeUpdate(
      AppointmentInvite,
      { appointmentId: bookingId, userId: invite.userId },
      { ...outcome, updatedAt: new Date() },
    );
    Object.assign(invite, outcome);
  }
  return overallInviteStatus(invites.map((i) => i.status));
}

type InviteRow = Awaited<ReturnType<typeof loadInvite>>;
const loadInvite = (em: EntityManager, appointmentId: string, userId: string) =>
  em.findOneOrFail(AppointmentInvite, { appointmentId, userId });

async function syncOne(
  em: EntityManager,
  config: Config,
  appointment: AppointmentRow,
  invite: InviteRow,
): Promise<Partial<InviteRow>> {
  const cancelled = appointment.status === 'cancelled';
  // Where it was written, or else the host's primary calendar now.
  const calendar = invite.calendarId
    ? await calendarById(em, invite.calendarId)
    : cancelled
      ? null
      : await primaryCalendarOf(em, invite.userId);
  if (!calendar)
    return invite.externalId ? { externalId: null } : { status: cancelled ? invite.status : 'skipped' };
  if (calendar.connection_status === 'needs_reauth')
    return { status: 'pending', calendarId: calendar.id, error: 'The calendar needs reconnecting.' };
  if (['removing', 'removed'].includes(calendar.connection_status))
    return { status: cancelled ? invite.status : 'skipped', externalId: null };

  const { provider } = await openStoredProvider(em, config, calendar.connection_id);
  const target = { externalId: calendar.external_id };
  try {
    if (cancelled) {
      if (invite.externalId)
        await provider.deleteEvent(target, { externalId: invite.externalId, etag: null });
      return { externalId: null, etag: null, writtenSequence: appointment.sequence, error: null };
    }
    const event = await outboundEvent(em, config, appointment, invite.userId);
    if (!invite.externalId) {
      const ref = await provider.createEvent(target, event);
      return {
        status: 'written',
        calendarId: calendar.id,
        externalId: ref.externalId,
        etag: ref.etag,
        writtenSequence: event.sequence,
        error: null,
      };
    }
    if ((invite.writtenSequence ?? -1) < appointment.sequence) {
      const ref = await provider.updateEvent(target, { externalId: invite.externalId, etag: null }, event);
      return {
        status: 'written',
        externalId: ref.externalId,
        etag: ref.etag,
        writtenSequence: event.sequence,
        error: null,
      };
    }
    return {};
  } catch (error) {
    if (error instanceof CredentialsRejectedError)
      return { status: 'pending', calendarId: calendar.id, error: 'The calendar needs reconnecting.' };
    // The host deleted our event in their calendar: it is theirs to remove; nothing to update.
    if (error instanceof NotFoundError) return { externalId: null, writtenSequence: appointment.sequence };
    throw error;
  }
}

/** The invite as the host's calendar shows it: the host organises, the customer attends. */
async function outboundEvent(
  em: EntityManager,
  config: Config,
  appointment: AppointmentRow,
  hostId: string,
): Promise<OutboundEvent> {
  const host = await em.findOneOrFail(User, { id: hostId });
  const calendar = appointment.bookingCalendarId
    ? await em.findOne(BookingCalendar, { id: appointment.bookingCalendarId })
    : null;
  const attendee = appointment.attendee!;
  const link = manageUrl(config.PUBLIC_URL, config.encryptionKey, appointment.id);
  return {
    id: appointment.id,
    title: `${calendar?.name ?? appointment.title} with ${attendee.name}`,
    description: [
      `Booked by ${attendee.name} <${attendee.email}>.`,
      appointment.notes ? `Notes: ${appointment.notes}` : null,
      '',
      `Reschedule or cancel: ${link}`,
      'Booked with Calbridge.',
    ]
      .filter((line) => line !== null)
      .join('\n'),
    start: appointment.startAt,
    end: appointment.endAt,
    timeZone: host.timeZone,
    organizer: { name: host.name, email: host.email },
    attendees: [{ name: attendee.name, email: attendee.email }],
    sequence: appointment.sequence,
  };
}

async function primaryCalendarOf(em: EntityManager, userId: string): Promise<PrimaryCalendar | null> {
  const [row] = await em.execute<PrimaryCalendar[]>(
    `select pc.id, pc.external_id, pc.connection_id, c.status as connection_status
       from provider_calendars pc join calendar_connections c on c.id = pc.connection_id
      where pc.user_id = ? and pc.is_primary and pc.removed_at is null and not pc.read_only`,
    [userId],
  );
  return row ?? null;
}

async function calendarById(em: EntityManager, calendarId: string): Promise<PrimaryCalendar | null> {
  const [row] = await em.execute<PrimaryCalendar[]>(
    `select pc.id, pc.external_id, pc.connection_id, c.status as connection_status
       from provider_calendars pc join calendar_connections c on c.id = pc.connection_id
      where pc.id = ? and pc.removed_at is null`,
    [calendarId],
  );
  return row ?? null;
}

/** One status for the booking: the least advanced of its hosts' invites. */
export function overallInviteStatus(statuses: InviteStatus[]): InviteStatus {
  for (const status of ['failed', 'pending', 'written'] as const)
    if (statuses.includes(status)) return status;
  return 'skipped';
}

export async function markInvitesFailed(
  em: EntityManager,
  bookingId: string,
  message: string,
): Promise<void> {
  await em.execute(
    `update appointment_invites set status = 'failed', error = ?, updated_at = now()
      where appointment_id = ? and status = 'pending'`,
    [message.slice(0, 500), bookingId],
  );
}
