/**
 * Google's event JSON ↔ our vocabulary, pure: an event (or one instance of a series, as
 * `singleEvents=true` lists them) → one SourceObject; an OutboundEvent → the body we insert or
 * patch; our event id → the Google event id we write it under.
 */
import type { calendar_v3 } from 'googleapis';
import type { Occurrence, OutboundEvent, TimeWindow } from '../../domain/calendar.ts';
import type { SourceObject } from '../contract.ts';

/** Where our id rides on events we write (Google's private extended properties). */
export const MARKER_PROPERTY = 'calbridgeId';

/** Event ids we choose start with this (Google ids are base32hex: [a-v0-9]{5,1024}). */
const ID_PREFIX = 'cb';
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/**
 * The Google event id for our event id: deterministic, so a retried create hits 409 duplicate
 * instead of writing a second event. Our id's UTF-8 bytes in lower-case base32hex, behind a prefix.
 */
export function googleEventId(ourId: string): string {
  let bits = 0;
  let value = 0;
  let out = ID_PREFIX;
  for (const byte of Buffer.from(ourId, 'utf8')) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

/** UTC midnight of an all-day date: how ical/ represents all-day occurrences too. */
function dateMidnight(date: string): number | null {
  if (!/^\d{4}-\d\d-\d\d$/.test(date)) return null;
  const at = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(at) ? null : at;
}

function instantOf(
  time: calendar_v3.Schema$EventDateTime | undefined,
): { at: number; allDay: boolean } | null {
  if (time?.dateTime) {
    const at = Date.parse(time.dateTime);
    return Number.isNaN(at) ? null : { at, allDay: false };
  }
  if (time?.date) {
    const at = dateMidnight(time.date);
    return at === null ? null : { at, allDay: true };
  }
  return null;
}

/** A listed, not cancelled event or instance → its SourceObject (no occurrence when outside the window). */
export function sourceObject(event: calendar_v3.Schema$Event, window: TimeWindow): SourceObject {
  const key = event.id ?? '';
  const etag = event.etag ?? null;
  const start = instantOf(event.start);
  const end = instantOf(event.end);
  if (!start || !end) {
    return {
      key,
      etag,
      occurrences: [],
      warnings: [{ kind: 'unreadable', message: 'The Google event has no readable start or end' }],
    };
  }
  const endAt = Math.max(start.at, end.at);
  const windowStart = window.start.getTime();
  const windowEnd = window.end.getTime();
  // Half-open overlap, as for iCalendar events; a zero-length event counts where it starts.
  const overlaps =
    start.at < windowEnd && (endAt > windowStart || (endAt === start.at && start.at >= windowStart));
  if (!overlaps) return { key, etag, occurrences: [] };
  const original = event.recurringEventId ? instantOf(event.originalStartTime ?? undefined) : null;
  const occurrence: Occurrence = {
    // Each instance is its own object; its original start still names the occurrence in the series.
    occurrenceKey: original ? new Date(original.at).toISOString() : '',
    uid: event.iCalUID ?? key,
    start: new Date(start.at),
    end: new Date(endAt),
    allDay: start.allDay,
    busy: event.transparency !== 'transparent',
    status: event.status === 'tentative' ? 'tentative' : 'confirmed',
    title: event.summary ?? null,
    calbridgeId: event.extendedProperties?.private?.[MARKER_PROPERTY] ?? null,
  };
  return { key, etag, occurrences: [occurrence] };
}

/** The insert/patch body for our event. Times are UTC instants; `timeZone` is for display. */
export function eventBody(event: OutboundEvent): calendar_v3.Schema$Event {
  return {
    summary: event.title,
    description: event.description ?? null,
    location: event.location ?? null,
    start: { dateTime: event.start.toISOString(), timeZone: event.timeZone },
    end: { dateTime: event.end.toISOString(), timeZone: event.timeZone },
    attendees: (event.attendees ?? []).map((a) => ({
      email: a.email,
      ...(a.name ? { displayName: a.name } : {}),
    })),
    extendedProperties: { private: { [MARKER_PROPERTY]: event.id } },
    sequence: event.sequence,
    transparency: 'opaque',
  };
}
