/** renderEvent: what we write to CalDAV and mail as iTIP, parsed back with node-ical and our own parser. */
import type { VEvent } from 'node-ical';
import ical from 'node-ical';
import { describe, expect, it } from 'vitest';
import type { OutboundEvent } from '../../domain/calendar.ts';
import { expandICalendar } from '../../ical/normalize.ts';
import { calbridgeUid, renderEvent } from '../../ical/render.ts';

const event: OutboundEvent = {
  id: '6f1c2a9e-1b1e-4c47-a0c4-5f2d7a1e9b33',
  title: 'Intro call, with Ann; agenda',
  description: 'Line one\nLine two, with a comma',
  // 10:00–11:30 in Berlin on the day summer time starts (08:00Z, CEST).
  start: new Date('2026-03-29T08:00:00Z'),
  end: new Date('2026-03-29T09:30:00Z'),
  timeZone: 'Europe/Berlin',
  location: 'Room 4',
  organizer: { name: 'Host Person', email: 'host@example.com' },
  attendees: [{ name: 'Ann Guest', email: 'ann@example.com' }, { email: 'bob@example.com' }],
  sequence: 4,
};

function parse(text: string): { vevent: VEvent; method: unknown } {
  const parsed = ical.sync.parseICS(text);
  const vevent = Object.values(parsed).find((c) => c?.type === 'VEVENT') as VEvent | undefined;
  if (!vevent) throw new Error('no VEVENT');
  return { vevent, method: (parsed.vcalendar as { method?: unknown } | undefined)?.method };
}

const unfold = (text: string) => text.replace(/\r\n[ \t]/g, '');
const mailto = (value: unknown) => String((value as { val?: unknown }).val ?? value).replace(/^mailto:/i, '');
const params = (value: unknown) => (value as { params?: Record<string, unknown> }).params ?? {};

describe('renderEvent', () => {
  it('writes CRLF iCalendar with every field, the zone as TZID and a matching VTIMEZONE', () => {
    const before = Date.now();
    const text = renderEvent(event, { method: 'REQUEST' });
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(text.split('\n').every((line, i, all) => i === all.length - 1 || line.endsWith('\r'))).toBe(true);
    expect(text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);

    const { vevent, method } = parse(text);
    expect(method).toBe('REQUEST');
    expect(vevent.uid).toBe(`${event.id}@calbridge`);
    expect(vevent.uid).toBe(calbridgeUid(event.id));
    expect(Number(vevent.sequence)).toBe(4);
    expect(vevent.start.toISOString()).toBe('2026-03-29T08:00:00.000Z');
    expect(vevent.end?.toISOString()).toBe('2026-03-29T09:30:00.000Z');
    expect(vevent.start.tz).toBe('Europe/Berlin');
    expect(vevent.dtstamp.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(vevent.summary).toBe(event.title);
    expect(vevent.description).toBe(event.description);
    expect(vevent.location).toBe('Room 4');
    expect(vevent.status).toBe('CONFIRMED');
    expect(mailto(vevent.organizer)).toBe('host@example.com');
    expect(params(vevent.organizer).CN).toBe('Host Person');
    const attendees = [vevent.attendee].flat();
    expect(attendees.map(mailto)).toEqual(['ann@example.com', 'bob@example.com']);
    expect(attendees.map((a) => params(a).PARTSTAT)).toEqual(['NEEDS-ACTION', 'NEEDS-ACTION']);
    expect(attendees.map((a) => params(a).RSVP)).toEqual([true, true]);
    expect((vevent as unknown as Record<string, unknown>)['CALBRIDGE-ID']).toBe(event.id);

    const raw = unfold(text);
    expect(raw).toContain('DTSTART;TZID=Europe/Berlin:20260329T100000\r\n');
    expect(raw).toContain('DTEND;TZID=Europe/Berlin:20260329T113000\r\n');
    expect(raw).toMatch(/BEGIN:VTIMEZONE\r\nTZID:Europe\/Berlin\r\n/);
    // The DST change of that very morning is in the VTIMEZONE (02:00 CET → 03:00 CEST).
    expect(raw).toContain(
      'BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n',
    );
    expect(raw).not.toContain('SCHEDULE-AGENT');
  });

  it('reads back exactly through our own parser, marker included', () => {
    const window = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-04-01T00:00:00Z') };
    const occurrences = expandICalendar(renderEvent(event), window).get(calbridgeUid(event.id));
    expect(occurrences).toEqual([
      {
        occurrenceKey: '',
        uid: calbridgeUid(event.id),
        start: event.start,
        end: event.end,
        allDay: false,
        busy: true,
        status: 'confirmed',
        title: event.title,
        calbridgeId: event.id,
      },
    ]);
  });

  it('writes the caller sequence unchanged (ical-generator never raises it) and CANCEL as cancelled', () => {
    const cancel = parse(renderEvent({ ...event, sequence: 5 }, { method: 'CANCEL' }));
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.vevent.uid).toBe(calbridgeUid(event.id));
    expect(Number(cancel.vevent.sequence)).toBe(5);
    expect(cancel.vevent.status).toBe('CANCELLED');
  });

  it('has no METHOD for a stored object, takes a UID override and a SCHEDULE-AGENT', () => {
    const text = renderEvent(event, { uid: 'custom-uid@example.com', scheduleAgent: 'CLIENT' });
    expect(text).not.toContain('METHOD:');
    const { vevent } = parse(text);
    expect(vevent.uid).toBe('custom-uid@example.com');
    expect([vevent.attendee].flat().map((a) => params(a)['SCHEDULE-AGENT'])).toEqual(['CLIENT', 'CLIENT']);
  });

  it('writes UTC for UTC and for unknown zones, with no VTIMEZONE', () => {
    for (const timeZone of ['UTC', 'Not/AZone']) {
      const text = renderEvent({ ...event, timeZone, organizer: undefined, attendees: undefined });
      const raw = unfold(text);
      expect(raw).toContain('DTSTART:20260329T080000Z\r\n');
      expect(raw).toContain('DTEND:20260329T093000Z\r\n');
      expect(raw).not.toContain('VTIMEZONE');
      expect(raw).not.toContain('ORGANIZER');
      expect(parse(text).vevent.start.toISOString()).toBe('2026-03-29T08:00:00.000Z');
    }
  });

  it('gets instants right in zones west of UTC and across the year boundary', () => {
    const ny = {
      ...event,
      timeZone: 'America/New_York',
      start: new Date('2026-12-31T23:30:00Z'),
      end: new Date('2027-01-01T01:00:00Z'),
    };
    const text = renderEvent(ny);
    const raw = unfold(text);
    expect(raw).toContain('DTSTART;TZID=America/New_York:20261231T183000\r\n');
    expect(raw).toContain('DTEND;TZID=America/New_York:20261231T200000\r\n');
    const { vevent } = parse(text);
    expect(vevent.start.toISOString()).toBe(ny.start.toISOString());
    expect(vevent.end?.toISOString()).toBe(ny.end.toISOString());
  });
});
