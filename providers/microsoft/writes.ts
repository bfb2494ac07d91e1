/**
 * Writes of our own events: create with a transactionId derived from our event id (Graph answers a
 * retried create with the first event), update with If-Match on the etag we hold, delete (gone
 * already is success).
 *
 * A stale etag on update (412) is re-read and the update retried once: the event is ours and the
 * booking is its source of truth, so our newer version wins over whatever touched it; a second 412
 * means someone is writing it right now → Transient.
 */
import type { OutboundEvent } from '../../domain/calendar.ts';
import type { EventRef } from '../contract.ts';
import {
  InvalidDataError,
  NotFoundError,
  type ProviderError,
  ReadOnlyError,
  TransientProviderError,
} from '../errors.ts';
import type { GraphClient, GraphResponse } from './graph-client.ts';
import { etagOf, type GraphEvent, toGraphEvent, transactionIdFor } from './wire.ts';

const eventPath = (id: string) => `/me/events/${encodeURIComponent(id)}`;

export async function createEvent(
  client: GraphClient,
  calendar: { externalId: string },
  event: OutboundEvent,
): Promise<EventRef> {
  const response = await client.request({
    method: 'POST',
    target: `/me/calendars/${encodeURIComponent(calendar.externalId)}/events`,
    body: { ...toGraphEvent(event), transactionId: transactionIdFor(event.id) },
  });
  if (response.status !== 201 && response.status !== 200) throw writeError(response, 'create');
  return refOf(response);
}

export async function updateEvent(
  client: GraphClient,
  ref: EventRef,
  event: OutboundEvent,
): Promise<EventRef> {
  const patch = (etag: string | null) =>
    client.request({
      method: 'PATCH',
      target: eventPath(ref.externalId),
      body: toGraphEvent(event),
      ...(etag ? { headers: { 'If-Match': etag } } : {}),
    });
  let response = await patch(ref.etag);
  if (response.status === 412) {
    const current = await client.request({ method: 'GET', target: eventPath(ref.externalId) });
    if (current.status !== 200) throw writeError(current, 'update');
    response = await patch(refOf(current).etag);
    if (response.status === 412) {
      throw new TransientProviderError('The Microsoft event is being changed concurrently (412 twice)');
    }
  }
  if (response.status !== 200) throw writeError(response, 'update');
  return refOf(response);
}

export async function deleteEvent(client: GraphClient, ref: EventRef): Promise<void> {
  const response = await client.request({ method: 'DELETE', target: eventPath(ref.externalId) });
  if (response.status === 204 || response.status === 200 || response.status === 404) return;
  throw writeError(response, 'delete');
}

function refOf(response: GraphResponse): EventRef {
  const event = response.body as GraphEvent | null;
  if (!event || typeof event.id !== 'string' || event.id === '') {
    throw new InvalidDataError('Microsoft Graph answered a write without the event');
  }
  return { externalId: event.id, etag: etagOf(event) };
}

function writeError(response: GraphResponse, what: string): ProviderError {
  const message = `Microsoft Graph refused to ${what} the event (${response.status}${response.errorCode ? ` ${response.errorCode}` : ''})`;
  if (response.status === 403) return new ReadOnlyError(`${message}: the calendar does not accept writes`);
  if (response.status === 404) return new NotFoundError(`${message}: it or its calendar no longer exists`);
  return new InvalidDataError(message);
}
