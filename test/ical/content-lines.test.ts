/** The lexing layer on its own: the cases where a naive split on ':' / ';' or on newlines goes wrong. */
import { describe, expect, it } from 'vitest';
import {
  assertICalendar,
  parseContentLine,
  quoteParam,
  splitLines,
  unescapeText,
} from '../../ical/content-lines.ts';
import { ICalendarError } from '../../ical/errors.ts';

describe('parseContentLine', () => {
  it('keeps ":" and ";" inside a quoted parameter value and splits the value at the first bare ":"', () => {
    const line = parseContentLine(
      'dtstart;tzid="Customized Time Zone; (UTC+01:00) Amsterdam";value=DATE-TIME:20250310T090000',
    );
    expect(line).toEqual({
      name: 'DTSTART',
      params: new Map([
        ['TZID', 'Customized Time Zone; (UTC+01:00) Amsterdam'],
        ['VALUE', 'DATE-TIME'],
      ]),
      value: '20250310T090000',
    });
  });

  it('leaves ":" in the value alone', () => {
    expect(parseContentLine('URL:https://example.com:8443/a;b')?.value).toBe('https://example.com:8443/a;b');
  });

  it('returns null for a line that is not a content line', () => {
    expect(parseContentLine('')).toBeNull();
    expect(parseContentLine('no colon here')).toBeNull();
    expect(parseContentLine('DTSTART;TZID:20250310T090000')).toBeNull();
  });

  it('reads back a parameter value written with quoteParam', () => {
    const tzid = 'tzone://Microsoft/Custom;A:B,C';
    expect(quoteParam('Europe/Berlin')).toBe('Europe/Berlin');
    expect(parseContentLine(`DTSTART;TZID=${quoteParam(tzid)}:20250310T090000`)?.params.get('TZID')).toBe(
      tzid,
    );
  });
});

describe('splitLines', () => {
  it('unfolds continuation lines (one leading space or tab dropped) under any line ending', () => {
    const text = 'BEGIN:VEVENT\r\nSUMMARY:Quarterly\r\n  review\n\tmeeting\rUID:a\nEND:VEVENT';
    expect(splitLines(text)).toEqual([
      'BEGIN:VEVENT',
      'SUMMARY:Quarterly reviewmeeting',
      'UID:a',
      'END:VEVENT',
    ]);
  });
});

describe('unescapeText', () => {
  it('undoes RFC 5545 TEXT escapes', () => {
    expect(unescapeText('a\\, b\\; c\\nd\\Ne\\\\f')).toBe('a, b; c\nd\ne\\f');
  });
});

describe('assertICalendar', () => {
  it('strips a byte-order mark and accepts leading blank lines', () => {
    expect(assertICalendar('\uFEFF\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n')).toBe(
      '\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
    );
  });

  it('refuses HTML and a body cut off before END:VCALENDAR', () => {
    expect(() => assertICalendar('<!doctype html><html></html>')).toThrow(
      new ICalendarError('Not iCalendar data: the body looks like HTML or XML'),
    );
    expect(() => assertICalendar('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n')).toThrow(ICalendarError);
  });

  it('never quotes the body back in its message (errors are no window into a server)', () => {
    expect(() => assertICalendar('internal-admin-password=hunter2\n')).toThrow(
      new ICalendarError('Not iCalendar data: it does not start with BEGIN:VCALENDAR'),
    );
  });
});
