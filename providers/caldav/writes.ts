/**
 * Writes of our own events (invariants 3 and 4): the resource name and the UID derive from our event
 * id, creation is `If-None-Match: *` (a retried create finds its first attempt: 412 → return it),
 * updates and deletes are `If-Match` on the ETag we hold, and every event carries X-CALBRIDGE-ID.
 *
 * A stale ETag on update (412) is re-read and the update retried once: the event is ours (our name,
 * our UID, our marker) and the booking is its source of truth, so the newer version we are writing
 * wins over whatever touched it; a second 412 means someone is writing it right now → Transient.
 */
import { createHash } from 'node:crypto';
import type { OutboundEvent } from '../../domain/calendar.ts';
import { calbridgeUid, renderEvent } from '../../ical/render.ts';
import type { EventRef } from '../contract.ts';
import { InvalidDataError, NotFoundError, ReadOnlyError, TransientProviderError } from '../errors.ts';
import { propfind } from './discovery.ts';
import { asCollectionUrl, CALDAV_NS, type DavClient, type Exchange, textOf } from './http.ts';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;

/** `<event.id>.ics` when the id is URL-safe (ours are UUIDs), else a hash of it: deterministic either way. */
export function resourceName(eventId: string): string {
  if (SAFE_NAME.test(eventId)) return `${eventId}.ics`;
  return `calbridge-${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}.ics`;
}

function render(event: OutboundEvent): string {
  // We send the invitations ourselves (by e-mail, with manage links): a server that schedules
  // implicitly (iCloud) must not mail the attendees a second time.
  return renderEvent(event, { scheduleAgent: 'CLIENT' });
}

export async function createEvent(
  client: DavClient,
  calendar: { externalId: string },
  event: OutboundEvent,
): Promise<EventRef> {
  const collection = collectionOf(calendar);
  const url = new URL(resourceName(event.id), collection).href;
  const body = render(event);
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await put(client, url, body, { 'If-None-Match': '*' });
    if (isSuccess(response.status)) return refOf(client, url, response);
    if (response.status === 412) {
      // Already there: an earlier attempt of this very create got through.
      const etag = await currentEtag(client, url);
      if (etag !== undefined) return { externalId: new URL(url).pathname, etag };
      continue; // deleted in between: create again
    }
    if (isUidConflict(response)) {
      // Our UID already lives under another name (an earlier write by a client that renamed it, or
      // a restore): that resource is our event.
      const href = uidConflictHref(response) ?? (await findByUid(client, collection, calbridgeUid(event.id)));
      if (href) {
        const existing = new URL(href, url).href;
        return {
          externalId: new URL(existing).pathname,
          etag: (await currentEtag(client, existing)) ?? null,
        };
      }
    }
    throw writeError(response, 'create', url);
  }
  throw new TransientProviderError(`Creating ${where(url)} kept racing with its deletion`);
}

export async function updateEvent(
  client: DavClient,
  calendar: { externalId: string },
  ref: EventRef,
  event: OutboundEvent,
): Promise<EventRef> {
  const url = new URL(ref.externalId, collectionOf(calendar)).href;
  const body = render(event);
  // If-Match: * when we hold no ETag: update, but never resurrect a deleted event.
  const first = await put(client, url, body, { 'If-Match': ref.etag ?? '*' });
  if (isSuccess(first.status)) return refOf(client, url, first);
  if (first.status !== 412) throw writeError(first, 'update', url);
  const etag = await currentEtag(client, url);
  if (etag === undefined) throw new NotFoundError(`The event ${where(url)} no longer exists on the server`);
  const second = await put(client, url, body, { 'If-Match': etag ?? '*' });
  if (isSuccess(second.status)) return refOf(client, url, second);
  if (second.status === 412) {
    throw new TransientProviderError(`The event ${where(url)} is being changed concurrently (412 twice)`);
  }
  throw writeError(second, 'update', url);
}

export async function deleteEvent(
  client: DavClient,
  calendar: { externalId: string },
  ref: EventRef,
): Promise<void> {
  const url = new URL(ref.externalId, collectionOf(calendar)).href;
  let etag: string | null = ref.etag;
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await client.exchange(url, {
      method: 'DELETE',
      headers: etag ? { 'If-Match': etag } : {},
    });
    if (isSuccess(response.status) || response.status === 404 || response.status === 410) return;
    if (response.status !== 412) throw writeError(response, 'delete', url);
    // Changed since we wrote it (a client touched it): it is still ours to delete.
    const current = await currentEtag(client, url);
    if (current === undefined) return;
    etag = current;
  }
  throw new TransientProviderError(`The event ${where(url)} is being changed concurrently (412 twice)`);
}

function collectionOf(calendar: { externalId: string }): string {
  try {
    return asCollectionUrl(calendar.externalId);
  } catch {
    throw new NotFoundError(`Not a CalDAV collection URL: ${calendar.externalId}`);
  }
}

function put(
  client: DavClient,
  url: string,
  body: string,
  conditions: Record<string, string>,
): Promise<Exchange> {
  return client.exchange(url, {
    method: 'PUT',
    headers: { 'Content-Type': 'text/calendar; charset=utf-8', ...conditions },
    body,
  });
}

const isSuccess = (status: number) => status >= 200 && status < 300;

async function refOf(client: DavClient, url: string, response: Exchange): Promise<EventRef> {
  // RFC 4791 5.3.4: no (strong) ETag in the answer when the server changed what we sent.
  const header = response.headers.get('etag');
  const etag = header && !header.startsWith('W/') ? header : ((await currentEtag(client, url)) ?? null);
  return { externalId: new URL(url).pathname, etag };
}

/** The resource's ETag; null if it exists without one; undefined if it does not exist. */
async function currentEtag(client: DavClient, url: string): Promise<string | null | undefined> {
  const result = await client.dav(url, {
    method: 'PROPFIND',
    depth: '0',
    body: propfind({ 'd:getetag': {} }),
  });
  if (result.status === 404 || result.status === 410) return undefined;
  if (result.status !== 207) {
    throw new InvalidDataError(`Reading the ETag of ${where(url)} answered ${result.status}`);
  }
  const response = result.responses[0];
  if (response && response.status === 404) return undefined;
  return textOf(response?.props?.getetag);
}

function isUidConflict(response: Exchange): boolean {
  return (response.status === 403 || response.status === 409) && /no-uid-conflict/i.test(response.body);
}

/** RFC 4791 5.3.2.1: CALDAV:no-uid-conflict SHOULD name the resource that has the UID (Radicale's does not). */
function uidConflictHref(response: Exchange): string | null {
  // The server's bytes: these patterns backtrack, so they see a short excerpt, anchored at the element
  // (a whole 64 KiB error body of "</" took seconds). A real element is far shorter; else findByUid.
  const at = response.body.search(/no-uid-conflict/i);
  const excerpt = at < 0 ? '' : response.body.slice(at, at + 2048);
  const inside = /^no-uid-conflict[^>]*>([\s\S]*?)<\/[^>]*no-uid-conflict>/i.exec(excerpt)?.[1] ?? '';
  const href = /<(?:[A-Za-z0-9_-]+:)?href[^>]*>([^<]+)</i.exec(inside)?.[1]?.trim();
  return href ? decodeXmlText(href) : null;
}

/** The href of the collection's object with this UID, by calendar-query on UID. */
async function findByUid(client: DavClient, collection: string, uid: string): Promise<string | null> {
  const result = await client.dav(collection, {
    method: 'REPORT',
    depth: '1',
    namespace: 'c',
    body: {
      'calendar-query': {
        _attributes: CALDAV_NS,
        'd:prop': { 'd:getetag': {} },
        filter: {
          'comp-filter': {
            _attributes: { name: 'VCALENDAR' },
            'comp-filter': {
              _attributes: { name: 'VEVENT' },
              'prop-filter': {
                _attributes: { name: 'UID' },
                'text-match': { _attributes: { collation: 'i;octet' }, _text: uid },
              },
            },
          },
        },
      },
    },
  });
  if (result.status !== 207) return null;
  const collectionPath = new URL(collection).pathname;
  const match = result.responses.find(
    (r) => r.ok && new URL(r.href ?? '', result.url).pathname !== collectionPath,
  );
  return match?.href ? new URL(match.href, result.url).href : null;
}

function decodeXmlText(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

function writeError(response: Exchange, what: string, url: string): Error {
  const status = response.status;
  const message = `CalDAV ${what} of ${where(url)} answered ${status}`;
  if (status === 403 || status === 405)
    return new ReadOnlyError(`${message}: the calendar does not accept writes`);
  if (status === 404 || status === 409 || status === 410) {
    return new NotFoundError(`${message}: the calendar does not exist (any more)`);
  }
  if (status === 412) return new TransientProviderError(`${message}: precondition failed`);
  return new InvalidDataError(`${message}: the server refused the event`);
}

function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}
