/**
 * A protocol-faithful stand-in for Microsoft 365: Entra ID's v2.0 endpoints (what MSAL calls) and
 * Microsoft Graph's calendar API, in process, on one https server with the local test CA
 * (test/standins/tls.ts; MSAL refuses an http authority). docs/PROVIDERS.md "Microsoft Graph" lists
 * the behaviour it reproduces; where they differ, the stand-in is wrong.
 *
 * - mailbox.ts: accounts, calendars, events, the change log.
 * - entra.ts: discovery, authorize (consents at once as `consentAs`), token (codes, refresh tokens).
 * - graph.ts: /v1.0 (me, calendars, calendarView delta, events, subscriptions).
 * - subscriptions.ts: validation handshake, change and lifecycle notifications.
 * - faults.ts: throttling, 5xx, short pages, replayed items.
 */

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { standinTls } from '../tls.ts';
import { type DeadGrantForm, Entra } from './entra.ts';
import { Faults } from './faults.ts';
import { Graph } from './graph.ts';
import { type GraphEventSeed, Mailboxes, type StoredGraphEvent } from './mailbox.ts';
import { type Delivery, type LifecycleEvent, Subscriptions } from './subscriptions.ts';

export type { DeadGrantForm } from './entra.ts';
export type { GraphEventSeed, StoredGraphEvent } from './mailbox.ts';

export interface MicrosoftStandin {
  /** MICROSOFT_AUTHORITY: https://127.0.0.1:PORT/common. */
  authority: string;
  /** MICROSOFT_GRAPH_URL (Graph lives under /v1.0 of it). */
  graphUrl: string;
  clientId: string;
  clientSecret: string;
  env: {
    MICROSOFT_AUTHORITY: string;
    MICROSOFT_GRAPH_URL: string;
    MICROSOFT_CLIENT_ID: string;
    MICROSOFT_CLIENT_SECRET: string;
  };
  /** Default: one default calendar "Calendar" that can be edited. */
  addAccount(input: {
    email: string;
    calendars?: { id?: string; name: string; canEdit?: boolean; isDefaultCalendar?: boolean }[];
  }): { oid: string; email: string; calendarIds: string[] };
  /** The authorize page acts as this account and approves at once. */
  consentAs(email: string): void;
  /** The next authorize visit answers error=access_denied. */
  denyConsent(): void;
  /** Creates or replaces an event (by `seed.id`); returns its id. Recorded for delta, notified. */
  putEvent(email: string, calendarId: string, seed: GraphEventSeed): string;
  deleteEvent(email: string, calendarId: string, eventId: string): void;
  listEvents(email: string, calendarId: string): StoredGraphEvent[];
  /** Every delta and next link issued so far answers 410 Gone. */
  expireDeltaTokens(): void;
  /** Refreshes fail as Entra's do for that form; the account's access tokens stop working. */
  revokeGrant(email: string, form?: DeadGrantForm): void;
  /** Every access token issued so far is expired (refreshing still works). */
  expireAccessTokens(): void;
  faults: {
    throttleRate(rate: number, retryAfterSeconds?: number): void;
    failRate(rate: number): void;
    maxPageSize(n: number | null): void;
    replayItems(on: boolean): void;
    clear(): void;
  };
  subscriptions(): {
    id: string;
    resource: string;
    notificationUrl: string;
    lifecycleNotificationUrl: string | null;
    clientState: string | null;
    expirationDateTime: string;
  }[];
  /** Validation requests, notifications and lifecycle events sent, with their outcome. */
  deliveries(): Delivery[];
  sendLifecycle(subscriptionId: string, event: LifecycleEvent): Promise<void>;
  /** Sends notifications and validation requests to this origin instead, keeping path and query. */
  deliverTo(origin: string | null): void;
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startMicrosoftStandin(options: { port?: number } = {}): Promise<MicrosoftStandin> {
  let origin = '';
  const mailboxes = new Mailboxes();
  const entra = new Entra(mailboxes, () => origin);
  const subscriptions = new Subscriptions(mailboxes.tenantId);
  const faults = new Faults();
  const graph = new Graph({ mailboxes, entra, subscriptions, faults, origin: () => origin });
  const requests: MicrosoftStandin['requests'] = [];

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const path = new URL(req.originalUrl, origin).pathname;
    res.on('finish', () => requests.push({ method: req.method, path, status: res.statusCode }));
    next();
  });
  app.use('/v1.0', graph.router());
  app.use(entra.router());

  const tls = standinTls();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const authority = `${origin}/common`;

  const account = (email: string) => mailboxes.mustByEmail(email);
  return {
    authority,
    graphUrl: origin,
    clientId: entra.clientId,
    clientSecret: entra.clientSecret,
    env: {
      MICROSOFT_AUTHORITY: authority,
      MICROSOFT_GRAPH_URL: origin,
      MICROSOFT_CLIENT_ID: entra.clientId,
      MICROSOFT_CLIENT_SECRET: entra.clientSecret,
    },
    addAccount(input) {
      const added = mailboxes.add(input);
      return { oid: added.oid, email: added.email, calendarIds: [...added.calendars.keys()] };
    },
    consentAs: (email) => entra.consentAs(account(email).oid),
    denyConsent: () => entra.denyConsent(),
    putEvent(email, calendarId, seed) {
      const owner = account(email);
      const calendar = mailboxes.calendar(owner, calendarId);
      const existed = seed.id !== undefined && calendar.events.has(seed.id);
      const event = mailboxes.fromSeed(calendar, seed);
      graph.changed(owner, calendar, event, existed ? 'updated' : 'created');
      return event.id;
    },
    deleteEvent(email, calendarId, eventId) {
      const owner = account(email);
      const calendar = mailboxes.calendar(owner, calendarId);
      const event = calendar.events.get(eventId);
      if (!event || !mailboxes.remove(calendar, eventId)) throw new Error(`No event ${eventId}`);
      graph.changed(owner, calendar, event, 'deleted');
    },
    listEvents: (email, calendarId) => [...mailboxes.calendar(account(email), calendarId).events.values()],
    expireDeltaTokens: () => graph.expireDeltaTokens(),
    revokeGrant: (email, form = 'revoked') => entra.revoke(account(email).oid, form),
    expireAccessTokens: () => entra.expireAccessTokens(),
    faults: {
      throttleRate: (rate, retryAfterSeconds) => faults.throttleRate(rate, retryAfterSeconds),
      failRate: (rate) => faults.failRate(rate),
      maxPageSize: (n) => {
        faults.pageCap = n;
      },
      replayItems: (on) => {
        faults.replay = on;
      },
      clear: () => faults.clear(),
    },
    subscriptions: () =>
      [...subscriptions.all.values()].map(({ oid: _oid, changeType: _changeType, ...visible }) => visible),
    deliveries: () => [...subscriptions.deliveries],
    sendLifecycle: (id, event) => subscriptions.sendLifecycle(id, event),
    deliverTo: (to) => subscriptions.deliverTo(to),
    requests,
    async close() {
      await subscriptions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
