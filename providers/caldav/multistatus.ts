/**
 * A reader for the multistatus answers of the two REPORTs that carry objects: calendar-query and
 * calendar-multiget. They are the large answers of a sync (a megabyte per 2,000 objects), and
 * tsdav's generic reader (xml-js: a full object tree, every name camelCased, every text run through
 * a number check) spends ~45 ms on each; this one takes what the sync reads — each response's href,
 * status and the text properties of its successful propstats — in one linear pass with `indexOf`.
 *
 * It reads as tsdav does: element names by local name (the prefix dropped), a response is `ok` when
 * its own status (else the HTTP status, 207) is 2xx, properties come only from propstats whose status
 * is 2xx or absent, texts are trimmed and an empty one is absent. Unlike tsdav, XML it cannot read
 * (an unclosed tag, comment or CDATA section, mismatched tags, another root) is an InvalidDataError, not an empty
 * listing: an empty listing would let a full sync sweep the calendar's busy time away.
 *
 * Bounded: the body is already capped (MAX_MULTISTATUS_BYTES, providers/outbound/); every scan moves
 * forward; no DTD and no entity other than XML's five and character references is expanded.
 */
import { InvalidDataError } from '../errors.ts';

export interface MultistatusResponse {
  /** The first `<href>`, trimmed. */
  href: string;
  /** The response's own status code, else the HTTP status (207). */
  status: number;
  ok: boolean;
  /** Text properties by local name (`getetag`, `calendar-data`), from 2xx (or status-less) propstats. */
  props: Map<string, string>;
}

interface OpenResponse {
  href: string | null;
  status: number | null;
  props: Map<string, string>;
}

interface OpenPropstat {
  status: number | null;
  props: Map<string, string>;
}

/** The `<response>` elements of a multistatus body; throws InvalidDataError when it is not one. */
export function parseMultistatus(xml: string, httpStatus = 207): MultistatusResponse[] {
  const responses: MultistatusResponse[] = [];
  // Local names of the open elements, outermost first.
  const stack: string[] = [];
  let response: OpenResponse | null = null;
  let propstat: OpenPropstat | null = null;
  // The element whose text is being collected (at stack depth `textDepth`), and its text so far.
  let textDepth = -1;
  let text: string[] = [];
  let sawRoot = false;

  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) {
      if (textDepth >= 0) text.push(decodeEntities(xml.slice(i)));
      break;
    }
    if (textDepth >= 0 && lt > i) text.push(decodeEntities(xml.slice(i, lt)));
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end === -1) throw malformed('an unclosed CDATA section');
        if (textDepth >= 0) text.push(xml.slice(lt + 9, end));
        i = end + 3;
      } else if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end === -1) throw malformed('an unclosed comment');
        i = end + 3;
      } else {
        // A DOCTYPE: skipped whole (an internal subset up to "]>"), never interpreted.
        const close = xml.indexOf('>', lt);
        if (close === -1) throw malformed('an unclosed declaration');
        let bracket = -1;
        for (let j = lt; j < close && bracket === -1; j++)
          if (xml.charCodeAt(j) === 0x5b /* [ */) bracket = j;
        const end = bracket === -1 ? close - 1 : xml.indexOf(']>', bracket);
        if (end === -1) throw malformed('an unclosed declaration');
        i = end + 2;
      }
      continue;
    }
    if (next === 0x3f /* ? */) {
      const end = xml.indexOf('?>', lt + 2);
      if (end === -1) throw malformed('an unclosed processing instruction');
      i = end + 2;
      continue;
    }
    const gt = tagEnd(xml, lt + 1);
    if (gt === -1) throw malformed('an unclosed tag');
    i = gt + 1;

    if (next === 0x2f /* / */) {
      const name = localName(xml, lt + 2, gt);
      if (stack.at(-1) !== name) throw malformed(`a stray </${name}>`);
      const depth = stack.length - 1;
      if (depth === textDepth) {
        const value = text.join('').trim();
        const parent = stack[depth - 1];
        if (name === 'href' && parent === 'response' && response && response.href === null)
          response.href = value;
        else if (name === 'status' && parent === 'response' && response) response.status = statusCode(value);
        else if (name === 'status' && parent === 'propstat' && propstat) propstat.status = statusCode(value);
        else if (parent === 'prop' && propstat && value !== '' && !propstat.props.has(name))
          propstat.props.set(name, value);
        textDepth = -1;
        text = [];
      }
      if (name === 'propstat' && depth === 2 && response && propstat) {
        if (propstat.status === null || (propstat.status >= 200 && propstat.status < 300)) {
          for (const [key, value] of propstat.props)
            if (!response.props.has(key)) response.props.set(key, value);
        }
        propstat = null;
      } else if (name === 'response' && depth === 1 && response) {
        const status = response.status ?? httpStatus;
        if (response.href)
          responses.push({
            href: response.href,
            status,
            ok: status >= 200 && status < 300,
            props: response.props,
          });
        response = null;
      }
      stack.pop();
      // What follows the root element is not read (tsdav's reader ignores it too).
      if (stack.length === 0) break;
      continue;
    }

    const name = localName(xml, lt + 1, gt);
    const selfClosing = xml.charCodeAt(gt - 1) === 0x2f; /* / */
    const depth = stack.length;
    if (depth === 0) {
      sawRoot = true;
      if (name !== 'multistatus') throw malformed(`a <${name}> root`);
      if (selfClosing) break;
    }
    if (selfClosing) continue;
    stack.push(name);
    const parent = stack[depth - 1];
    if (depth === 1 && name === 'response') response = { href: null, status: null, props: new Map() };
    else if (depth === 2 && name === 'propstat' && response) propstat = { status: null, props: new Map() };
    else if (
      textDepth === -1 &&
      ((parent === 'response' && (name === 'href' || name === 'status')) ||
        (parent === 'propstat' && name === 'status') ||
        (parent === 'prop' && depth === 4 && propstat))
    ) {
      textDepth = depth;
      text = [];
    }
  }
  if (stack.length > 0) throw malformed(`an unclosed <${stack.at(-1)}>`);
  if (!sawRoot) throw malformed('no root element');
  return responses;
}

/** Index of the `>` closing the tag whose name starts at `from`, quoted attribute values skipped. */
function tagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x3e /* > */) return i;
    else if (c === 0x22 || c === 0x27) quote = c;
  }
  return -1;
}

/** The element name's part after its prefix, as tsdav reads names. */
function localName(xml: string, from: number, to: number): string {
  let end = from;
  while (end < to) {
    const c = xml.charCodeAt(end);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f || c === 0x3e) break;
    end += 1;
  }
  const name = xml.slice(from, end);
  return name.slice(name.indexOf(':') + 1);
}

function statusCode(line: string): number | null {
  const match = /^\S+\s+(\d{3})\b/.exec(line);
  return match ? Number(match[1]) : null;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref.charCodeAt(0) !== 0x23 /* # */) return NAMED[ref] ?? whole;
    const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function malformed(what: string): InvalidDataError {
  return new InvalidDataError(`The CalDAV server answered a multistatus with ${what}`);
}
