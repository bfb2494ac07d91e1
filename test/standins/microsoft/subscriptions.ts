/**
 * The stand-in's change subscriptions: created only after the notification (and lifecycle) URL
 * answered Graph's validation request, notified on every change of a watched calendar's events,
 * and sent lifecycle events on demand. Deliveries run in the background (never blocking the request
 * that caused them) and are recorded with their outcome.
 *
 * `deliverTo(origin)` sends everything to another origin, keeping each URL's path and query: the
 * adapter subscribes with the public https address, tests receive on a local http server.
 */
import { randomUUID } from 'node:crypto';
import type { Account, Calendar, StoredGraphEvent } from './mailbox.ts';

const MAX_MINUTES = 10_080;
const VALIDATION_TIMEOUT_MS = 10_000;
const NOTIFICATION_TIMEOUT_MS = 3_000;
const CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);

export interface Subscription {
  id: string;
  oid: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: string;
}

export interface Delivery {
  subscriptionId: string;
  kind: 'validation' | 'change' | 'lifecycle';
  url: string;
  status: number | null;
  error: string | null;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** Graph's error body pieces for a refused subscription. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export class Subscriptions {
  readonly all = new Map<string, Subscription>();
  readonly deliveries: Delivery[] = [];
  readonly #pending = new Set<Promise<void>>();
  readonly #tenantId: string;
  #origin: string | null = null;

  constructor(tenantId: string) {
    this.#tenantId = tenantId;
  }

  deliverTo(origin: string | null): void {
    this.#origin = origin;
  }

  async create(account: Account, body: Record<string, unknown>): Promise<Subscription | Refusal> {
    const bad = (message: string): Refusal => ({ status: 400, code: 'InvalidRequest', message });
    const {
      changeType,
      notificationUrl,
      lifecycleNotificationUrl,
      resource,
      expirationDateTime,
      clientState,
    } = body;
    if (typeof changeType !== 'string' || !changeType.split(',').every((t) => CHANGE_TYPES.has(t.trim()))) {
      return bad('Invalid changeType.');
    }
    if (typeof resource !== 'string' || !watchedCalendar(account, resource)) {
      return { status: 404, code: 'ResourceNotFound', message: `Resource '${String(resource)}' not found.` };
    }
    const https = (url: unknown) => typeof url === 'string' && url.startsWith('https://');
    if (
      !https(notificationUrl) ||
      (lifecycleNotificationUrl !== undefined && !https(lifecycleNotificationUrl))
    ) {
      return bad('Subscription validation request failed. Notification endpoint must be https.');
    }
    const expiry = typeof expirationDateTime === 'string' ? Date.parse(expirationDateTime) : Number.NaN;
    if (Number.isNaN(expiry) || expiry <= Date.now() || expiry > Date.now() + MAX_MINUTES * 60_000) {
      return {
        status: 400,
        code: 'ExtensionError',
        message: `Subscription expiration can only be ${MAX_MINUTES} minutes in the future.`,
      };
    }
    if (clientState !== undefined && (typeof clientState !== 'string' || clientState.length > 128)) {
      return bad('clientState must be a string of at most 128 characters.');
    }
    const subscription: Subscription = {
      id: randomUUID(),
      oid: account.oid,
      resource,
      changeType,
      notificationUrl: notificationUrl as string,
      lifecycleNotificationUrl: (lifecycleNotificationUrl as string | undefined) ?? null,
      clientState: (clientState as string | undefined) ?? null,
      expirationDateTime: new Date(expiry).toISOString(),
    };
    const urls = [subscription.notificationUrl, subscription.lifecycleNotificationUrl].filter(
      (u): u is string => u !== null,
    );
    for (const url of urls) {
      if (!(await this.#validate(subscription.id, url))) {
        return {
          status: 400,
          code: 'ValidationError',
          message: `Subscription validation request failed. Response must exactly match validationToken query parameter.`,
        };
      }
    }
    this.all.set(subscription.id, subscription);
    return subscription;
  }

  /** Queues a change notification to every live subscription watching the event's calendar. */
  notify(
    account: Account,
    calendar: Calendar,
    event: Pick<StoredGraphEvent, 'id' | 'changeKey'>,
    changeType: string,
  ) {
    for (const subscription of this.all.values()) {
      if (subscription.oid !== account.oid || Date.parse(subscription.expirationDateTime) <= Date.now())
        continue;
      if (!subscription.changeType.split(',').includes(changeType)) continue;
      if (watchedCalendar(account, subscription.resource)?.id !== calendar.id) continue;
      const resource = `Users/${account.oid}/Events/${event.id}`;
      this.#background(subscription, 'change', subscription.notificationUrl, {
        value: [
          {
            subscriptionId: subscription.id,
            subscriptionExpirationDateTime: subscription.expirationDateTime,
            changeType,
            resource,
            resourceData: {
              '@odata.type': '#Microsoft.Graph.Event',
              '@odata.id': resource,
              '@odata.etag': `W/"${event.changeKey}"`,
              id: event.id,
            },
            clientState: subscription.clientState,
            tenantId: this.#tenantId,
          },
        ],
      });
    }
  }

  async sendLifecycle(subscriptionId: string, lifecycleEvent: LifecycleEvent): Promise<void> {
    const subscription = this.all.get(subscriptionId);
    if (!subscription) throw new Error(`No subscription ${subscriptionId}`);
    if (!subscription.lifecycleNotificationUrl) throw new Error('The subscription has no lifecycle URL');
    if (lifecycleEvent === 'subscriptionRemoved') this.all.delete(subscriptionId);
    await this.#post(subscription, 'lifecycle', subscription.lifecycleNotificationUrl, {
      value: [
        {
          subscriptionId,
          subscriptionExpirationDateTime: subscription.expirationDateTime,
          tenantId: this.#tenantId,
          clientState: subscription.clientState,
          lifecycleEvent,
        },
      ],
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async #validate(subscriptionId: string, url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = this.#target(url);
    target.searchParams.set('validationToken', token);
    const delivery: Delivery = { subscriptionId, kind: 'validation', url, status: null, error: null };
    this.deliveries.push(delivery);
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: '',
        signal: AbortSignal.timeout(VALIDATION_TIMEOUT_MS),
      });
      delivery.status = response.status;
      const text = await response.text();
      return (
        response.status === 200 &&
        (response.headers.get('content-type') ?? '').startsWith('text/plain') &&
        text === token
      );
    } catch (error) {
      delivery.error = (error as Error).message;
      return false;
    }
  }

  #background(subscription: Subscription, kind: Delivery['kind'], url: string, body: unknown): void {
    const sending = this.#post(subscription, kind, url, body).finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  }

  async #post(subscription: Subscription, kind: Delivery['kind'], url: string, body: unknown): Promise<void> {
    const delivery: Delivery = { subscriptionId: subscription.id, kind, url, status: null, error: null };
    this.deliveries.push(delivery);
    try {
      const response = await fetch(this.#target(url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(NOTIFICATION_TIMEOUT_MS),
      });
      delivery.status = response.status;
      await response.body?.cancel();
    } catch (error) {
      delivery.error = (error as Error).message;
    }
  }

  #target(url: string): URL {
    const parsed = new URL(url);
    return this.#origin ? new URL(parsed.pathname + parsed.search, this.#origin) : parsed;
  }
}

/** The calendar a subscription resource names (`/me/calendars/{id}/events`), or the default one for `/me/events`. */
export function watchedCalendar(account: Account, resource: string): Calendar | null {
  const path = resource.replace(/^\/+/, '');
  if (/^me\/events$/i.test(path))
    return [...account.calendars.values()].find((c) => c.isDefaultCalendar) ?? null;
  const match = /^me\/calendars\/([^/]+)\/events$/i.exec(path);
  if (!match) return null;
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
  return account.calendars.get(id) ?? null;
}
