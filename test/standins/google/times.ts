/**
 * Google's event times: `{ dateTime, timeZone? }` for timed events (RFC 3339 with the offset of the
 * event's zone, as Google writes it) and `{ date }` for all-day ones; and the expansion of a
 * recurring event into its instances, done by the project's own iCalendar code (ical/) so the
 * stand-in reads RRULE and EXDATE lines the way a real calendar does.
 */
import type { TimeWindow } from '../../../domain/calendar.ts';
import { expandICalendar } from '../../../ical/normalize.ts';

export type EventTime = { dateTime: string; timeZone?: string } | { date: string };

const DAY_MS = 86_400_000;

function wallParts(instant: Date, zone: string): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'longOffset',
  }).formatToParts(instant);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** `2025-03-01T10:00:00+01:00` in `zone`, or `...Z` without one. */
export function rfc3339(instant: Date, zone?: string): string {
  if (!zone || zone === 'UTC') return instant.toISOString().replace('.000Z', 'Z');
  const p = wallParts(instant, zone);
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : (p.timeZoneName ?? 'GMT+00:00').slice(3);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

/** The instant an event time starts at; all-day dates are UTC midnights (the project's convention). */
export function instantOf(time: EventTime): number {
  return 'date' in time ? Date.parse(`${time.date}T00:00:00Z`) : Date.parse(time.dateTime);
}

export function isAllDay(time: EventTime): time is { date: string } {
  return 'date' in time;
}

function icsValue(time: EventTime): string {
  if ('date' in time) return `;VALUE=DATE:${time.date.replaceAll('-', '')}`;
  const instant = new Date(time.dateTime);
  if (!time.timeZone || time.timeZone === 'UTC') return `:${basicUtc(instant)}`;
  const p = wallParts(instant, time.timeZone);
  return `;TZID=${time.timeZone}:${p.year}${p.month}${p.day}T${p.hour}${p.minute}${p.second}`;
}

/** `20250301T090000Z`: the suffix of an instance id, and an iCalendar UTC value. */
export function basicUtc(instant: Date): string {
  return instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export interface Instance {
  /** `{baseId}_{YYYYMMDDTHHMMSSZ}`, or `{baseId}_{YYYYMMDD}` for all-day series. */
  id: string;
  originalStartTime: EventTime;
  start: EventTime;
  end: EventTime;
}

/** The instances of a recurring event that overlap `range`. */
export function expandInstances(
  event: { id: string; start: EventTime; end: EventTime; recurrence: string[] },
  range: TimeWindow,
): Instance[] {
  const ics = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Calbridge//Google stand-in//EN',
    'BEGIN:VEVENT',
    `UID:${event.id}`,
    `DTSTAMP:${basicUtc(new Date(0))}`,
    `DTSTART${icsValue(event.start)}`,
    `DTEND${icsValue(event.end)}`,
    ...event.recurrence,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const occurrences = expandICalendar(ics, range).get(event.id) ?? [];
  const zone = 'dateTime' in event.start ? event.start.timeZone : undefined;
  return occurrences.map((o) => {
    const original = new Date(o.occurrenceKey || o.start.toISOString());
    if (isAllDay(event.start)) {
      const day = (instant: Date) => instant.toISOString().slice(0, 10);
      return {
        id: `${event.id}_${day(original).replaceAll('-', '')}`,
        originalStartTime: { date: day(original) },
        start: { date: day(o.start) },
        end: { date: day(new Date(Math.max(o.end.getTime(), o.start.getTime() + DAY_MS))) },
      };
    }
    const at = (instant: Date): EventTime => ({
      dateTime: rfc3339(instant, zone),
      ...(zone ? { timeZone: zone } : {}),
    });
    return {
      id: `${event.id}_${basicUtc(original)}`,
      originalStartTime: at(original),
      start: at(o.start),
      end: at(o.end),
    };
  });
}
