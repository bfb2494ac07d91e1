/**
 * OutboundEvent → iCalendar text, for CalDAV writes and for iTIP invitations by email (RFC 5546).
 *
 * ical-generator writes correct CRLF/folded iCalendar, but:
 *  - it never raises SEQUENCE: we write the caller's `event.sequence` (raised on every change);
 *  - with a TZID it formats plain `Date`s in the *host's* local time: we hand it luxon DateTimes,
 *    which it converts to the event's zone itself;
 *  - it emits no VTIMEZONE unless given a generator, and a TZID without its VTIMEZONE is invalid
 *    (RFC 5545 3.2.19): we build one from the zone's real transitions around the event.
 */
import ical, {
  type ICalAttendeeData,
  ICalAttendeeRole,
  ICalAttendeeStatus,
  ICalCalendarMethod,
  ICalEventStatus,
} from 'ical-generator';
import { DateTime, IANAZone } from 'luxon';
import type { OutboundEvent } from '../domain/calendar.ts';

export interface RenderOptions {
  /** iTIP method for email; leave unset for a stored calendar object (CalDAV forbids METHOD there). */
  method?: 'REQUEST' | 'CANCEL' | 'PUBLISH';
  /** Defaults to `calbridgeUid(event.id)`. */
  uid?: string;
  /**
   * RFC 6638 SCHEDULE-AGENT on attendees. 'CLIENT' tells a CalDAV server with implicit scheduling
   * (iCloud and others) not to e-mail the attendees itself, because we send the invitations.
   * Not for iTIP messages.
   */
  scheduleAgent?: 'CLIENT' | 'SERVER';
}

/** The deterministic iCalendar UID of one of our events (invariant 3). */
export function calbridgeUid(eventId: string): string {
  return `${eventId}@calbridge`;
}

/** Our no-echo marker (invariant 4). */
export const CALBRIDGE_ID_PROPERTY = 'X-CALBRIDGE-ID';

const UTC_ZONES = new Set(['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'Z', 'ZULU', 'UNIVERSAL', 'ETC/UNIVERSAL']);

export function renderEvent(event: OutboundEvent, opts: RenderOptions = {}): string {
  const zone = displayZone(event.timeZone);
  const calendar = ical({
    prodId: { company: 'Calbridge', product: 'Calbridge', language: 'EN' },
    // An unnamed calendar zone with a generator: VTIMEZONEs for the events' zones, no X-WR-TIMEZONE.
    timezone: { name: '', generator: (tz: string) => vtimezone(tz, event.start, event.end) },
  });
  if (opts.method) calendar.method(ICalCalendarMethod[opts.method]);

  const at = (date: Date) => DateTime.fromJSDate(date, { zone: zone ?? 'UTC' });
  const vevent = calendar.createEvent({
    id: opts.uid ?? calbridgeUid(event.id),
    sequence: event.sequence,
    stamp: new Date(),
    start: at(event.start),
    end: at(event.end),
    timezone: zone,
    summary: event.title,
    status: opts.method === 'CANCEL' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    x: [[CALBRIDGE_ID_PROPERTY, event.id]],
  });
  if (event.description !== undefined) vevent.description(event.description);
  if (event.location !== undefined) vevent.location(event.location);
  if (event.organizer) {
    // ical-generator always writes CN: without a name, the address is the best display name.
    vevent.organizer({ email: event.organizer.email, name: event.organizer.name || event.organizer.email });
  }
  for (const attendee of event.attendees ?? []) {
    vevent.createAttendee({
      email: attendee.email,
      ...(attendee.name ? { name: attendee.name } : {}),
      role: ICalAttendeeRole.REQ,
      status: ICalAttendeeStatus.NEEDSACTION,
      rsvp: true,
      // The library exports this enum as a type only; its values are these strings.
      ...(opts.scheduleAgent
        ? { scheduleAgent: opts.scheduleAgent as ICalAttendeeData['scheduleAgent'] }
        : {}),
    });
  }
  // RFC 5545 3.1: every content line ends with CRLF, the last one too; ical-generator omits it.
  const text = calendar.toString();
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}

/** The IANA zone to write DTSTART/DTEND in, or null for UTC (also for unknown zone names). */
function displayZone(timeZone: string): string | null {
  if (!timeZone || UTC_ZONES.has(timeZone.toUpperCase())) return null;
  return IANAZone.isValidZone(timeZone) ? timeZone : null;
}

// ---------------------------------------------------------------------------------------------
// VTIMEZONE from the zone's actual offsets (tz database via Intl), one observance per transition.
// One-off observances instead of RRULEs: exact for any zone, including those whose rules changed.

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function vtimezone(zone: string, start: Date, end: Date): string | null {
  if (!IANAZone.isValidZone(zone)) return null;
  const tz = IANAZone.create(zone);
  // A year either side covers the event and any recurrence-free edits around it.
  const from = Date.UTC(new Date(start).getUTCFullYear() - 1, 0, 1);
  const to = Date.UTC(new Date(end).getUTCFullYear() + 2, 0, 1);
  // Whole minutes: historic local-mean-time offsets have seconds, iCalendar offsets need not.
  const offsetAt = (ms: number) => Math.round(tz.offset(ms));

  const lines = ['BEGIN:VTIMEZONE', `TZID:${zone}`];
  const initial = offsetAt(from);
  lines.push(...observance(tz, from, initial, initial));
  let previous = initial;
  for (let day = from; day < to; day += DAY_MS) {
    const next = offsetAt(day + DAY_MS);
    if (next === previous) continue;
    // Binary search for the first minute with the new offset.
    let lo = day;
    let hi = day + DAY_MS;
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetAt(mid) === previous) lo = mid;
      else hi = mid;
    }
    lines.push(...observance(tz, hi, previous, next));
    previous = next;
  }
  lines.push('END:VTIMEZONE');
  return `${lines.join('\r\n')}\r\n`;
}

function observance(tz: IANAZone, at: number, fromOffset: number, toOffset: number): string[] {
  const local = DateTime.fromMillis(at, { zone: tz });
  const kind = local.isInDST ? 'DAYLIGHT' : 'STANDARD';
  // DTSTART is the onset in the wall-clock time that was in effect before it (RFC 5545 3.6.5).
  const onset = DateTime.fromMillis(at + fromOffset * MINUTE_MS, { zone: 'UTC' }).toFormat(
    "yyyyLLdd'T'HHmmss",
  );
  return [
    `BEGIN:${kind}`,
    `DTSTART:${onset}`,
    `TZOFFSETFROM:${formatOffset(fromOffset)}`,
    `TZOFFSETTO:${formatOffset(toOffset)}`,
    `TZNAME:${tz.offsetName(at, { format: 'short', locale: 'en-US' }) ?? formatOffset(toOffset)}`,
    `END:${kind}`,
  ];
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
