/**
 * Graph change subscriptions on a calendar's events. Graph validates the notification and lifecycle
 * URLs before it answers (it POSTs `?validationToken=` to them: connections/webhooks.ts echoes it),
 * so `subscribe` succeeds only when our webhook route is reachable from Microsoft.
 *
 * A renewal that finds the subscription gone (Graph removes subscriptions it could not deliver to)
 * subscribes anew at the same address.
 */
import type { PushChannel } from '../contract.ts';
import { InvalidDataError, NotFoundError } from '../errors.ts';
import type { GraphClient, GraphResponse } from './graph-client.ts';

/** Graph allows up to 10,080 minutes for event subscriptions; we renew well before three days pass. */
const LIFETIME_MS = 3 * 24 * 3_600_000;

interface GraphSubscription {
  id?: unknown;
  expirationDateTime?: unknown;
}

export async function subscribe(
  client: GraphClient,
  calendar: { externalId: string },
  channel: { address: string; token: string },
  now = Date.now(),
): Promise<PushChannel> {
  const response = await client.request({
    method: 'POST',
    target: '/subscriptions',
    body: {
      changeType: 'created,updated,deleted',
      notificationUrl: channel.address,
      lifecycleNotificationUrl: channel.address,
      resource: `/me/calendars/${encodeURIComponent(calendar.externalId)}/events`,
      expirationDateTime: new Date(now + LIFETIME_MS).toISOString(),
      clientState: channel.token,
    },
  });
  if (response.status !== 201) throw subscriptionError(response, 'create');
  return channelOf(response);
}

export async function renew(
  client: GraphClient,
  calendar: { externalId: string },
  channel: PushChannel,
  subscription: { address: string; token: string },
  now = Date.now(),
): Promise<PushChannel> {
  const response = await client.request({
    method: 'PATCH',
    target: `/subscriptions/${encodeURIComponent(channel.channelId)}`,
    body: { expirationDateTime: new Date(now + LIFETIME_MS).toISOString() },
  });
  if (response.status === 404) return subscribe(client, calendar, subscription, now);
  if (response.status !== 200) throw subscriptionError(response, 'renew');
  return channelOf(response);
}

export async function stop(client: GraphClient, channel: PushChannel): Promise<void> {
  const response = await client.request({
    method: 'DELETE',
    target: `/subscriptions/${encodeURIComponent(channel.channelId)}`,
  });
  if (response.status === 204 || response.status === 200 || response.status === 404) return;
  throw subscriptionError(response, 'delete');
}

function channelOf(response: GraphResponse): PushChannel {
  const body = response.body as GraphSubscription | null;
  const expiresAt = typeof body?.expirationDateTime === 'string' ? new Date(body.expirationDateTime) : null;
  if (typeof body?.id !== 'string' || body.id === '' || !expiresAt || Number.isNaN(expiresAt.getTime())) {
    throw new InvalidDataError('Microsoft Graph answered a subscription request without the subscription');
  }
  return { channelId: body.id, resourceId: null, expiresAt };
}

function subscriptionError(response: GraphResponse, what: string) {
  const message = `Microsoft Graph refused to ${what} the subscription (${response.status}${response.errorCode ? ` ${response.errorCode}` : ''})`;
  return response.status === 404 ? new NotFoundError(message) : new InvalidDataError(message);
}
