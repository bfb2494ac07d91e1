/**
 * Graph's JSON ↔ our types, pure: calendars, delta items → SourceObjects, OutboundEvent → an event
 * body. Nothing here does I/O.
 *
 * Our marker: Graph's calendarView delta allows no $expand, so the singleValueExtendedProperties
 * entry we write cannot be read back from delta. The `transactionId` we create with (our event id
 * under a fixed prefix) is an ordinary event property that delta returns: it is what we read back.
 * The extended property stays on the event for Outlook-side tooling and $filter lookups.
 */
import type { Occurrence, OutboundEvent, TimeWindow } from '../../domain/calendar.ts';
import type { CalendarWarning } from '../../domain/connection.ts';
import type { ProviderCalendar, SourceObject } from '../contract.ts';
import { type GraphDateTime, readDate, readInstant, writeDateTime } from './time.ts';

/** Our named MAPI property: `String {GUID} Name calbridgeId`. */
export const MARKER_PROPERTY_ID = 'String {6f1b3c2e-8a4d-4e7b-9c5f-2d8e1a0b7c34} Name calbridgeId';
const TRANSACTION_PREFIX = 'calbridge-';

/** The transactionId that makes retried creates of one event return the first. */
export const transactionIdFor = (eventId: string) => `${TRANSACTION_PREFIX}${eventId}`;

export interface GraphCalendar {
  id: string;
  name?: string | null;
  color?: string | null;
  hexColor?: string | null;
  canEdit?: boolean;
  isDefaultCalendar?: boolean;
}

export interface GraphEvent {
  id: string;
  '@odata.etag'?: string;
  '@removed'?: { reason?: string };
  changeKey?: string;
  iCalUId?: string | null;
  subject?: string | null;
  start?: GraphDateTime | null;
  end?: GraphDateTime | null;
  isAllDay?: boolean;
  isCancelled?: boolean;
  showAs?: string | null;
  transactionId?: string | null;
}

/** Outlook's named calendar colours, as Outlook on the web paints them. */
const NAMED_COLORS: Record<string, string> = {
  lightBlue: '#a4c2f4',
  lightGreen: '#b6d7a8',
  lightOrange: '#f9cb9c',
  lightGray: '#cccccc',
  lightYellow: '#ffe599',
  lightTeal: '#a2e0dc',
  lightPink: '#f4b6c2',
  lightBrown: '#d5b59c',
  lightRed: '#ea9999',
};

export function toProviderCalendar(calendar: GraphCalendar): ProviderCalendar {
  const hex = calendar.hexColor && /^#[0-9a-f]{6}$/i.test(calendar.hexColor) ? calendar.hexColor : null;
  return {
    externalId: calendar.id,
    name: calendar.name?.trim() || 'Calendar',
    color: hex ?? NAMED_COLORS[calendar.color ?? ''] ?? null,
    readOnly: calendar.canEdit !== true,
    providerPrimary: calendar.isDefaultCalendar === true,
  };
}

/** The version tag of a delta item: its @odata.etag, else its changeKey. */
export const etagOf = (event: GraphEvent): string | null => event['@odata.etag'] ?? event.changeKey ?? null;

/**
 * One delta item as a SourceObject with one occurrence, or none when it is cancelled, outside the
 * window or unreadable (with a warning then). calendarView delta lists each occurrence and
 * exception of a series as an item of its own, so no expansion happens here.
 */
export function toSourceObject(event: GraphEvent, window: TimeWindow): SourceObject {
  const key = event.id;
  const etag = etagOf(event);
  const warnings: Omit<CalendarWarning, 'objectKey'>[] = [];
  const times = timesOf(event, warnings);
  const object = (occurrences: Occurrence[]): SourceObject =>
    warnings.length ? { key, etag, occurrences, warnings } : { key, etag, occurrences };
  if (!times || event.isCancelled === true) return object([]);
  const { start, end, allDay } = times;
  if (!(start.getTime() < window.end.getTime() && end.getTime() > window.start.getTime())) return object([]);
  const showAs = event.showAs ?? 'busy';
  return object([
    {
      occurrenceKey: '',
      uid: event.iCalUId || event.id,
      start,
      end,
      allDay,
      busy: showAs !== 'free',
      status: showAs === 'tentative' ? 'tentative' : 'confirmed',
      title: event.subject?.trim() ? event.subject : null,
      calbridgeId: calbridgeIdOf(event),
    },
  ]);
}

function calbridgeIdOf(event: GraphEvent): string | null {
  const id = event.transactionId;
  return id?.startsWith(TRANSACTION_PREFIX) && id.length > TRANSACTION_PREFIX.length
    ? id.slice(TRANSACTION_PREFIX.length)
    : null;
}

function timesOf(
  event: GraphEvent,
  warnings: Omit<CalendarWarning, 'objectKey'>[],
): { start: Date; end: Date; allDay: boolean } | null {
  if (event.isAllDay === true) {
    const start = readDate(event.start);
    const end = readDate(event.end);
    if (!start || !end) return unreadable(warnings);
    return { start, end: end > start ? end : new Date(start.getTime() + 86_400_000), allDay: true };
  }
  const start = readInstant(event.start);
  const end = readInstant(event.end);
  if (!start || !end) return unreadable(warnings);
  const unknown = start.unknownZone ?? end.unknownZone;
  if (unknown !== null) {
    warnings.push({
      kind: 'time-zone',
      message: `Unknown time zone "${unknown.slice(0, 100)}": read as UTC`,
    });
  }
  return {
    start: start.instant,
    end: new Date(Math.max(start.instant.getTime(), end.instant.getTime())),
    allDay: false,
  };
}

function unreadable(warnings: Omit<CalendarWarning, 'objectKey'>[]): null {
  warnings.push({ kind: 'unreadable', message: 'The event has no readable start or end' });
  return null;
}

/**
 * The event body we send. No attendees: Graph e-mails every attendee of an event it creates or
 * changes and has no switch to stop it, and our iTIP e-mails must stay the only invitations. The
 * people invited are named in the body instead.
 */
export function toGraphEvent(event: OutboundEvent): Record<string, unknown> {
  const people = (event.attendees ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email));
  const text = [event.description ?? '', people.length ? `Attendees: ${people.join(', ')}` : '']
    .filter(Boolean)
    .join('\n\n');
  return {
    subject: event.title,
    body: { contentType: 'text', content: text },
    start: writeDateTime(event.start, event.timeZone),
    end: writeDateTime(event.end, event.timeZone),
    ...(event.location ? { location: { displayName: event.location } } : {}),
    showAs: 'busy',
    singleValueExtendedProperties: [{ id: MARKER_PROPERTY_ID, value: event.id }],
  };
}
