/**
 * The multistatus reader of the object listings (providers/caldav/multistatus.ts): the spellings
 * servers use (default namespace or prefixes, entities, CDATA, statuses per response and per
 * propstat), XML it must refuse rather than read as an empty listing, and hostile bodies in linear time.
 */
import { describe, expect, it } from 'vitest';
import { parseMultistatus } from '../../providers/caldav/multistatus.ts';
import { InvalidDataError } from '../../providers/errors.ts';

const read = (xml: string) =>
  parseMultistatus(xml).map((r) => ({
    href: r.href,
    status: r.status,
    ok: r.ok,
    props: Object.fromEntries(r.props),
  }));

describe('parseMultistatus', () => {
  it('reads Radicale-shaped answers: default namespace, prefixed CalDAV, character references', () => {
    const xml =
      '<?xml version="1.0" encoding="utf-8"?>\n' +
      '<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/u/cal/a%40b.ics</href>' +
      '<propstat><prop><getetag>"e1"</getetag><C:calendar-data>BEGIN:VCALENDAR&#13;\nSUMMARY:a &lt;b&gt; &amp; c&#x21;&#13;\nEND:VCALENDAR&#13;\n</C:calendar-data></prop>' +
      '<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>';
    expect(read(xml)).toEqual([
      {
        href: '/u/cal/a%40b.ics',
        status: 207,
        ok: true,
        props: {
          getetag: '"e1"',
          'calendar-data': 'BEGIN:VCALENDAR\r\nSUMMARY:a <b> & c!\r\nEND:VCALENDAR',
        },
      },
    ]);
  });

  it('takes properties from successful propstats only, and a response status over the HTTP one', () => {
    const xml =
      '<d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav"><!-- a comment <response> -->' +
      '<d:response><d:href> /c/1.ics </d:href>' +
      '<d:propstat><d:prop><cal:calendar-data>stale</cal:calendar-data></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>' +
      '<d:propstat><d:prop><d:getetag>"2"</d:getetag><cal:calendar-data><![CDATA[BEGIN:VCALENDAR\n<x> & ]]></cal:calendar-data></d:prop>' +
      '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>' +
      '<d:response><d:href>/c/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>' +
      '<d:response><d:href>/c/empty.ics</d:href><d:propstat><d:prop><d:getetag/><cal:calendar-data>  </cal:calendar-data></d:prop>' +
      '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>' +
      '<d:response><d:propstat><d:prop><d:getetag>"no-href"</d:getetag></d:prop></d:propstat></d:response>' +
      '</d:multistatus>';
    expect(read(xml)).toEqual([
      {
        href: '/c/1.ics',
        status: 207,
        ok: true,
        props: { getetag: '"2"', 'calendar-data': 'BEGIN:VCALENDAR\n<x> &' },
      },
      { href: '/c/gone.ics', status: 404, ok: false, props: {} },
      { href: '/c/empty.ics', status: 207, ok: true, props: {} },
    ]);
  });

  it('skips quoted attribute values holding ">" and a DOCTYPE, and reads nothing after the root', () => {
    const xml =
      '<!DOCTYPE multistatus [ <!ENTITY x "y"> ]><multistatus xmlns="DAV:" note="a > b"><response><href>/c/1.ics</href>' +
      '<propstat><prop><getetag>"1"</getetag></prop></propstat></response></multistatus>' +
      '<response><href>/c/extra.ics</href></response>';
    expect(read(xml).map((r) => [r.href, r.props.getetag])).toEqual([['/c/1.ics', '"1"']]);
    expect(parseMultistatus('<multistatus xmlns="DAV:"/>')).toEqual([]);
  });

  it('refuses what is not a readable multistatus instead of reading it as an empty listing', () => {
    for (const xml of [
      '',
      '<html><body>Welcome</body></html>',
      '<multistatus><response><href>/a</href></multistatus>',
      '<multistatus><response><href>/a</href><propstat><prop><getetag>1</getetag></prop></propstat></response>',
      '<multistatus><response><href><![CDATA[/a</href></response></multistatus>',
      '<multistatus><!-- never closed',
      '<multistatus><response',
    ]) {
      expect(() => parseMultistatus(xml), xml).toThrow(InvalidDataError);
    }
  });

  it('reads hostile bodies in linear time', () => {
    const size = 4 * 1024 * 1024;
    for (const filler of ['<!x>', '<a b="', "<a b='c'>", '&#x1;&lt;', '<![CDATA[', '<x:y/>', '<?p?>']) {
      const body = `<multistatus><response><href>${filler.repeat(size / filler.length)}`;
      const started = performance.now();
      try {
        parseMultistatus(body);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidDataError);
      }
      expect(performance.now() - started, filler).toBeLessThan(2_000);
    }
  });
});
