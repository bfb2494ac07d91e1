/**
 * Watch channels (`events/watch`, `channels/stop`) and their notifications: a `sync` message
 * (number 1) when the channel opens, then `exists` for every change to the watched calendar, each
 * an empty POST with the X-Goog-* headers. Deliveries run in the background, in order per channel,
 * never holding up the request that caused them; failures are recorded, never retried.
 */
import { randomBytes } from 'node:crypto';
import { HttpFailure } from './http.ts';

const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
const DELIVERY_TIMEOUT_MS = 5000;

export interface Channel {
  id: string;
  resourceId: string;
  address: string;
  token: string | null;
  /** Milliseconds since the epoch. */
  expiration: number;
  calendarId: string;
  email: string;
  messageNumber: number;
  /** Deliveries to this channel, chained so they arrive in order. */
  queue: Promise<void>;
}

export interface Delivery {
  channelId: string;
  state: 'sync' | 'exists';
  status: number | null;
  error: string | null;
}

export class PushHub {
  private readonly channels = new Map<string, Channel>();
  /** Where notifications go instead of each address's own origin (the address's path is kept). */
  deliverOrigin: string | null = null;
  readonly deliveries: Delivery[] = [];

  private readonly apiUrl: () => string;

  constructor(apiUrl: () => string) {
    this.apiUrl = apiUrl;
  }

  active(): Channel[] {
    const now = Date.now();
    return [...this.channels.values()].filter((c) => c.expiration > now);
  }

  watch(email: string, calendarId: string, body: Record<string, unknown>): Record<string, unknown> {
    const { id, type, address, token, params } = body as {
      id?: unknown;
      type?: unknown;
      address?: unknown;
      token?: unknown;
      params?: { ttl?: unknown };
    };
    if (typeof id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(id)) {
      throw new HttpFailure(400, 'Invalid channel id.', 'invalid');
    }
    if (type !== 'web_hook' && type !== 'webhook')
      throw new HttpFailure(400, 'Invalid channel type.', 'invalid');
    if (typeof address !== 'string' || !/^https?:\/\//.test(address)) {
      throw new HttpFailure(400, 'Invalid address.', 'push.webhookUrlNotHttps');
    }
    if ([...this.channels.values()].some((c) => c.id === id)) {
      throw new HttpFailure(400, `Channel id ${id} not unique`, 'channelIdNotUnique');
    }
    const ttlSeconds = Number(params?.ttl ?? DEFAULT_TTL_SECONDS);
    const channel: Channel = {
      id,
      resourceId: randomBytes(20).toString('base64url'),
      address,
      token: typeof token === 'string' ? token : null,
      expiration: Date.now() + Math.min(Math.max(ttlSeconds, 1), DEFAULT_TTL_SECONDS) * 1000,
      calendarId,
      email,
      messageNumber: 0,
      queue: Promise.resolve(),
    };
    this.channels.set(`${id} ${channel.resourceId}`, channel);
    this.deliver(channel, 'sync');
    return {
      kind: 'api#channel',
      id,
      resourceId: channel.resourceId,
      resourceUri: this.resourceUri(channel),
      ...(channel.token !== null ? { token: channel.token } : {}),
      expiration: String(channel.expiration),
    };
  }

  stop(body: Record<string, unknown>): void {
    const key = `${String(body.id)} ${String(body.resourceId)}`;
    if (!this.channels.delete(key))
      throw new HttpFailure(404, `Channel '${String(body.id)}' not found for project`, 'notFound');
  }

  changed(email: string, calendarId: string): void {
    for (const channel of this.active()) {
      if (channel.email === email && channel.calendarId === calendarId) this.deliver(channel, 'exists');
    }
  }

  private resourceUri(channel: Channel): string {
    return `${this.apiUrl()}/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`;
  }

  private deliver(channel: Channel, state: 'sync' | 'exists'): void {
    const number = ++channel.messageNumber;
    const target = new URL(channel.address);
    if (this.deliverOrigin) {
      const origin = new URL(this.deliverOrigin);
      target.protocol = origin.protocol;
      target.host = origin.host;
    }
    const headers: Record<string, string> = {
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-URI': this.resourceUri(channel),
      'X-Goog-Resource-State': state,
      'X-Goog-Message-Number': String(number),
    };
    if (channel.token !== null) headers['X-Goog-Channel-Token'] = channel.token;
    channel.queue = channel.queue.then(async () => {
      const delivery: Delivery = { channelId: channel.id, state, status: null, error: null };
      try {
        const response = await fetch(target, {
          method: 'POST',
          headers,
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        await response.body?.cancel();
        delivery.status = response.status;
      } catch (error) {
        delivery.error = (error as Error).message;
      }
      this.deliveries.push(delivery);
    });
  }
}
