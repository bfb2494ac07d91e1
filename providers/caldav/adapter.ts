/**
 * CalDAV and iCloud (iCloud is CalDAV at ICLOUD_CALDAV_URL with an app-specific password).
 *
 * - http.ts: Basic auth up front, timeouts, redirects, statuses that mean the same everywhere.
 * - discovery.ts: well-known → principal → home set (possibly on another host) → calendars.
 * - sync.ts: fetchChanges (calendar-query + multiget full listings, sync-collection or ctag).
 * - writes.ts: idempotent create, If-Match update/delete.
 */

import type {
  CalendarProvider,
  ChangePage,
  FetchChangesInput,
  ProviderCalendar,
  ProviderConnection,
  ProviderContext,
} from '../contract.ts';
import { CredentialsRejectedError, InvalidDataError } from '../errors.ts';
import { type Discovery, discover, listCalendars } from './discovery.ts';
import { DavClient } from './http.ts';
import { fetchCollectionChanges } from './sync.ts';
import { createEvent, deleteEvent, updateEvent } from './writes.ts';

export function createCalDavProvider(conn: ProviderConnection, ctx: ProviderContext): CalendarProvider {
  const kind = conn.provider === 'icloud' ? 'icloud' : 'caldav';
  let client: DavClient | null = null;
  let discovery: Promise<Discovery> | null = null;

  // Built on first use, so a broken stored connection surfaces as a typed error from a call.
  const getClient = (): DavClient => {
    if (client) return client;
    const { username, password } = conn.credentials;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new CredentialsRejectedError('The CalDAV connection has no username or password');
    }
    client = new DavClient({
      username,
      password,
      timeoutMs: ctx.requestTimeoutMs,
      userAgent: ctx.userAgent,
      serverUrl: conn.serverUrl,
      outbound: ctx.outbound,
    });
    return client;
  };
  // A calendar's URL came from the account's own listing (discovery.ts keeps only those on the home's
  // origin), so its origin gets the credentials, as it did when it was listed.
  const clientFor = (calendar: { externalId: string }): DavClient =>
    getClient().trustOrigin(calendar.externalId);

  const getDiscovery = (): Promise<Discovery> => {
    if (!conn.serverUrl)
      return Promise.reject(new InvalidDataError('The CalDAV connection has no server URL'));
    if (!discovery) {
      const started = discover(getClient(), conn.serverUrl);
      discovery = started;
      // Failures are not cached: the next call tries again.
      started.catch(() => {
        if (discovery === started) discovery = null;
      });
    }
    return discovery;
  };

  return {
    kind,

    async verifyAccess() {
      await getDiscovery();
      return { accountEmail: getClient().username };
    },

    async listCalendars(): Promise<ProviderCalendar[]> {
      return listCalendars(getClient(), await getDiscovery());
    },

    async *fetchChanges(input: FetchChangesInput): AsyncGenerator<ChangePage> {
      // Calendars are addressed by their absolute collection URL: no discovery needed to sync.
      yield* fetchCollectionChanges(clientFor(input.calendar), input);
    },

    createEvent: (calendar, event) => createEvent(clientFor(calendar), calendar, event),
    updateEvent: (calendar, ref, event) => updateEvent(clientFor(calendar), calendar, ref, event),
    deleteEvent: (calendar, ref) => deleteEvent(clientFor(calendar), calendar, ref),
  };
}
