/**
 * One set of calendar events, relative to today, used by every end-to-end connection test (ICS and
 * CalDAV): a weekly series in New York time with one deleted and one moved occurrence, an all-day
 * event, a transparent one, a cancelled one and one in Berlin time — with the exact UTC instants
 * the import must produce.
 */
import { DateTime } from 'luxon';
import { generateIcsEvent, type IcsEventSpec } from './generate-ics.ts';

export interface ExpectedEvent {
  start: string;
  end: string;
  allDay: boolean;
  busy: boolean;
  title: string;
}

const local = (base: DateTime, days: number, hour: number, minute: number, zone: string) =>
  base.setZone(zone).plus({ days }).set({ hour, minute, second: 0, millisecond: 0 }).toUTC().toJSDate();

export function calendarScenario(now = new Date()) {
  // The Monday at least a week ahead, as a calendar date (zone-independent).
  let day = DateTime.fromJSDate(now, { zone: 'UTC' }).startOf('day').plus({ days: 7 });
  while (day.weekday !== 1) day = day.plus({ days: 1 });
  const at = (days: number, hour: number, minute: number, zone: string) =>
    local(
      DateTime.fromObject({ year: day.year, month: day.month, day: day.day }, { zone }),
      days,
      hour,
      minute,
      zone,
    );

  const ny = 'America/New_York';
  const series: IcsEventSpec = {
    uid: 'weekly-standup@calbridge.test',
    summary: 'Weekly standup',
    start: at(0, 9, 0, ny),
    end: at(0, 9, 30, ny),
    timeZone: ny,
    rrule: 'FREQ=WEEKLY;COUNT=4',
    exdates: [at(7, 9, 0, ny)],
  };
  const moved: IcsEventSpec = {
    uid: series.uid,
    summary: 'Weekly standup (moved)',
    recurrenceId: at(14, 9, 0, ny),
    start: at(15, 11, 0, ny),
    end: at(15, 11, 30, ny),
    timeZone: ny,
  };
  const allDay: IcsEventSpec = {
    uid: 'offsite@calbridge.test',
    summary: 'Offsite',
    allDay: true,
    start: at(2, 0, 0, 'UTC'),
    end: at(4, 0, 0, 'UTC'),
  };
  const transparent: IcsEventSpec = {
    uid: 'focus@calbridge.test',
    summary: 'Focus time',
    start: at(3, 13, 0, 'UTC'),
    end: at(3, 15, 0, 'UTC'),
    transparent: true,
  };
  const cancelled: IcsEventSpec = {
    uid: 'cancelled@calbridge.test',
    summary: 'Cancelled review',
    start: at(1, 10, 0, 'UTC'),
    end: at(1, 11, 0, 'UTC'),
    status: 'CANCELLED',
  };
  const berlin: IcsEventSpec = {
    uid: 'berlin@calbridge.test',
    summary: 'Berlin workshop',
    start: at(4, 10, 0, 'Europe/Berlin'),
    end: at(4, 11, 30, 'Europe/Berlin'),
    timeZone: 'Europe/Berlin',
  };

  const iso = (d: Date) => d.toISOString();
  const expected: ExpectedEvent[] = [
    { start: iso(series.start), end: iso(series.end!), allDay: false, busy: true, title: 'Weekly standup' },
    {
      start: iso(moved.start),
      end: iso(moved.end!),
      allDay: false,
      busy: true,
      title: 'Weekly standup (moved)',
    },
    {
      start: iso(at(21, 9, 0, ny)),
      end: iso(at(21, 9, 30, ny)),
      allDay: false,
      busy: true,
      title: 'Weekly standup',
    },
    { start: iso(allDay.start), end: iso(allDay.end!), allDay: true, busy: true, title: 'Offsite' },
    {
      start: iso(transparent.start),
      end: iso(transparent.end!),
      allDay: false,
      busy: false,
      title: 'Focus time',
    },
    { start: iso(berlin.start), end: iso(berlin.end!), allDay: false, busy: true, title: 'Berlin workshop' },
  ].sort((a, b) => a.start.localeCompare(b.start));

  /** One calendar object per UID (what a CalDAV server stores). */
  const objects: { name: string; uid: string; ics: string }[] = [
    { name: 'weekly-standup', uid: series.uid, ics: generateIcsEvent(series, [moved]) },
    { name: 'offsite', uid: allDay.uid, ics: generateIcsEvent(allDay) },
    { name: 'focus', uid: transparent.uid, ics: generateIcsEvent(transparent) },
    { name: 'cancelled', uid: cancelled.uid, ics: generateIcsEvent(cancelled) },
    { name: 'berlin', uid: berlin.uid, ics: generateIcsEvent(berlin) },
  ];
  /**
   * The provider-side changes every test applies after the first import — one event added, one
   * moved, one deleted — and the events expected once they are synced.
   */
  const added = {
    uid: 'added@calbridge.test',
    summary: 'Added',
    start: at(5, 8, 0, 'UTC'),
    end: at(5, 9, 0, 'UTC'),
  };
  const movedBerlin = { ...berlin, start: at(6, 14, 0, 'Europe/Berlin'), end: at(6, 15, 0, 'Europe/Berlin') };
  const changes = {
    added: { name: 'added', uid: added.uid, ics: generateIcsEvent(added) },
    moved: { name: 'berlin', uid: berlin.uid, ics: generateIcsEvent(movedBerlin) },
    deleted: { name: 'focus', uid: transparent.uid },
    expected: [
      ...expected.filter((e) => e.title !== 'Focus time' && e.title !== 'Berlin workshop'),
      { start: iso(added.start), end: iso(added.end), allDay: false, busy: true, title: 'Added' },
      {
        start: iso(movedBerlin.start),
        end: iso(movedBerlin.end),
        allDay: false,
        busy: true,
        title: 'Berlin workshop',
      },
    ].sort((a, b) => a.start.localeCompare(b.start)),
  };
  return {
    base: day.toJSDate(),
    at,
    specs: { series, moved, allDay, transparent, cancelled, berlin },
    expected,
    objects,
    changes,
  };
}

/** Joins single-object calendars into one feed (one VCALENDAR; VTIMEZONEs de-duplicated). */
export function asFeed(objects: { ics: string }[], name = 'Scenario feed'): string {
  const zones = new Map<string, string>();
  const events: string[] = [];
  for (const { ics } of objects) {
    for (const m of ics.matchAll(/BEGIN:VTIMEZONE\r\n[\s\S]*?END:VTIMEZONE\r\n/g)) {
      const tzid = /TZID:([^\r\n]+)/.exec(m[0])?.[1] ?? m[0];
      zones.set(tzid, m[0]);
    }
    for (const m of ics.matchAll(/BEGIN:VEVENT\r\n[\s\S]*?END:VEVENT\r\n/g)) events.push(m[0]);
  }
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Calbridge//Tests//EN\r\nX-WR-CALNAME:${name}\r\n${[...zones.values()].join('')}${events.join('')}END:VCALENDAR\r\n`;
}
