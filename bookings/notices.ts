/**
 * The e-mails of a booking, composed for each recipient in their own time zone, with text and
 * HTML parts and, for the attendee, an iTIP invitation (RFC 5546: REQUEST, then CANCEL; same UID,
 * SEQUENCE raised on every change). One dedupe key per (booking, kind, recipient, sequence), so a
 * retried step never sends twice.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { DateTime } from 'luxon';
import { queueEmails } from '../db/outbox.ts';
import type { Person } from '../domain/booking.ts';
import type { EmailRequest, QueuedEmail } from '../domain/email.ts';
import { renderEvent } from '../ical/render.ts';
import type { Config } from '../platform/config.ts';
import { manageUrl } from './manage-tokens.ts';

export type BookingNoticeKind = 'confirmed' | 'rescheduled' | 'cancelled';

interface Recipient {
  name: string;
  email: string;
  timeZone: string;
}

/**
 * Composes the booking's e-mails of `kind` and queues them in the outbox (in `em`'s transaction
 * when it has one). Only their ids leave here, so no message text (with its manage link) enters a
 * workflow history.
 */
export async function queueBookingNotices(
  em: EntityManager,
  config: Config,
  bookingId: string,
  kind: BookingNoticeKind,
): Promise<QueuedEmail[]> {
  return queueEmails(em, await composeNotices(em, config, bookingId, kind));
}

/** The messages themselves, for booking runs started before the outbox path (see workflows/booking.ts). */
export async function composeBookingNotices(
  rootEm: EntityManager,
  config: Config,
  bookingId: string,
  kind: BookingNoticeKind,
): Promise<EmailRequest[]> {
  return composeNotices(rootEm.fork(), config, bookingId, kind);
}

async function composeNotices(
  em: EntityManager,
  config: Config,
  bookingId: string,
  kind: BookingNoticeKind,
): Promise<EmailRequest[]> {
  const appointment = await noticeFacts(em, bookingId);
  const { hosts } = appointment;
  const host = hosts[0];
  const attendeePerson = appointment.attendee!;
  const attendee: Recipient = {
    name: attendeePerson.name,
    email: attendeePerson.email,
    timeZone: attendeePerson.timeZone ?? host?.timeZone ?? 'UTC',
  };
  const what = appointment.calendarName ?? appointment.title;
  const link = manageUrl(config.PUBLIC_URL, config.encryptionKey, bookingId);
  const key = (role: string) => `booking:${bookingId}:${kind}:${role}:${appointment.sequence}`;
  const invitation = (method: 'REQUEST' | 'CANCEL') => ({
    method,
    content: renderEvent(
      {
        id: bookingId,
        title: host ? `${what} with ${host.name}` : what,
        description: `Reschedule or cancel: ${link}`,
        start: appointment.startAt,
        end: appointment.endAt,
        timeZone: attendee.timeZone,
        ...(host ? { organizer: { name: host.name, email: host.email } } : {}),
        attendees: [{ name: attendee.name, email: attendee.email }],
        sequence: appointment.sequence,
      },
      { method },
    ),
  });
  const when = (r: Recipient) => formatWhen(appointment.startAt, appointment.endAt, r.timeZone);
  const withHost = host ? ` with ${host.name}` : '';
  const messages: EmailRequest[] = [];

  if (kind === 'confirmed' || kind === 'rescheduled') {
    const verb = kind === 'confirmed' ? 'is booked' : 'has moved';
    messages.push(
      message(
        key('attendee'),
        attendee,
        `${what}${withHost} ${verb}: ${when(attendee)}`,
        [
          `Hello ${attendee.name},`,
          `Your ${what}${withHost} ${verb}.`,
          `When: ${when(attendee)} (${attendee.timeZone})`,
          `Reschedule or cancel: ${link}`,
        ],
        invitation('REQUEST'),
      ),
    );
    for (const h of hosts) {
      const recipient = { name: h.name, email: h.email, timeZone: h.timeZone };
      messages.push(
        message(
          key(`host:${h.id}`),
          recipient,
          kind === 'confirmed'
            ? `New booking: ${what} with ${attendee.name}, ${when(recipient)}`
            : `Booking moved: ${what} with ${attendee.name}, now ${when(recipient)}`,
          [
            `Hello ${h.name},`,
            kind === 'confirmed'
              ? `${attendee.name} <${attendee.email}> booked ${what}.`
              : `${attendee.name} <${attendee.email}> moved ${what}.`,
            `When: ${when(recipient)} (${recipient.timeZone})`,
            ...(appointment.notes ? [`Notes: ${appointment.notes}`] : []),
            `Reschedule or cancel: ${link}`,
          ],
        ),
      );
    }
  } else {
    const reason = appointment.cancelReason ? [`Reason: ${appointment.cancelReason}`] : [];
    messages.push(
      message(
        key('attendee'),
        attendee,
        `Cancelled: ${what}${withHost}, ${when(attendee)}`,
        [
          `Hello ${attendee.name},`,
          `Your ${what}${withHost} on ${when(attendee)} (${attendee.timeZone}) was cancelled.`,
          ...reason,
        ],
        invitation('CANCEL'),
      ),
    );
    for (const h of hosts) {
      const recipient = { name: h.name, email: h.email, timeZone: h.timeZone };
      messages.push(
        message(
          key(`host:${h.id}`),
          recipient,
          `Cancelled: ${what} with ${attendee.name}, ${when(recipient)}`,
          [
            `Hello ${h.name},`,
            `${what} with ${attendee.name} <${attendee.email}> on ${when(recipient)} (${recipient.timeZone}) was cancelled.`,
            ...reason,
          ],
          invitation('CANCEL'),
        ),
      );
    }
  }
  return messages;
}

interface NoticeFacts {
  startAt: Date;
  endAt: Date;
  title: string;
  attendee: Person;
  sequence: number;
  notes: string | null;
  cancelReason: string | null;
  calendarName: string | null;
  /** The booking's hosts, in their calendar's order. */
  hosts: { id: string; name: string; email: string; timeZone: string }[];
}

/** What the notices say about a booking, in one query. */
async function noticeFacts(em: EntityManager, bookingId: string): Promise<NoticeFacts> {
  const [row] = await em.execute<
    (Omit<NoticeFacts, 'startAt' | 'endAt'> & { startAt: Date | string; endAt: Date | string })[]
  >(
    `select a.start_at as "startAt", a.end_at as "endAt", a.title, a.attendee, a.sequence, a.notes,
            a.cancel_reason as "cancelReason", bc.name as "calendarName",
            coalesce((select json_agg(json_build_object('id', u.id, 'name', u.name, 'email', u.email,
                                                        'timeZone', u.time_zone)
                                      order by ch.position nulls last, u.id)
                        from appointment_hosts h
                        join users u on u.id = h.user_id
                        left join booking_calendar_hosts ch
                          on ch.booking_calendar_id = a.booking_calendar_id and ch.user_id = h.user_id
                       where h.appointment_id = a.id), '[]'::json) as hosts
       from appointments a
       left join booking_calendars bc on bc.id = a.booking_calendar_id
      where a.id = ?`,
    [bookingId],
  );
  if (!row) throw new Error(`booking ${bookingId} not found`);
  return { ...row, startAt: new Date(row.startAt), endAt: new Date(row.endAt) };
}

function message(
  dedupeKey: string,
  to: Recipient,
  subject: string,
  paragraphs: string[],
  ical?: { method: string; content: string },
): EmailRequest {
  return {
    dedupeKey,
    to: to.email,
    subject,
    text: `${paragraphs.join('\n\n')}\n`,
    html: `<!doctype html><html><body>${paragraphs.map((p) => `<p>${linkify(escapeHtml(p))}</p>`).join('')}</body></html>`,
    ...(ical ? { ical } : {}),
  };
}

/** "Tuesday 3 March 2026, 09:00–09:30" in the recipient's zone. */
export function formatWhen(start: Date, end: Date, timeZone: string): string {
  const s = DateTime.fromJSDate(start, { zone: timeZone });
  const e = DateTime.fromJSDate(end, { zone: timeZone });
  const day = s.setLocale('en-GB').toFormat('cccc d LLLL yyyy');
  const endText = s.hasSame(e, 'day')
    ? e.toFormat('HH:mm')
    : e.setLocale('en-GB').toFormat('cccc d LLLL yyyy, HH:mm');
  return `${day}, ${s.toFormat('HH:mm')}–${endText}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function linkify(html: string): string {
  return html.replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
}
