/**
 * Google Calendar (API v3, through googleapis) behind the CalendarProvider interface.
 *
 * - client.ts: bearer token from the grant, our retry policy, Google's errors as ProviderErrors.
 * - sync.ts: fetchChanges (full listing of the window, then sync tokens).
 * - wire.ts: Google event JSON ↔ SourceObject / OutboundEvent, our deterministic event ids.
 * - push.ts: watch channels.
 * - oauth.ts: consent, code exchange, refresh, revocation (the OAuthModule).
 */
import type { calendar_v3 } from 'googleapis';
import type {
  CalendarProvider,
  EventRef,
  ProviderCalendar,
  ProviderConnection,
  ProviderContext,
} from '../contract.ts';
import { InvalidDataError } from '../errors.ts';
import { DEFAULT_RETRY_POLICY, GoogleApi, type RetryPolicy } from './client.ts';
import { googlePush } from './push.ts';
import { fetchCalendarChanges } from './sync.ts';
import { eventBody, googleEventId } from './wire.ts';

/** Roles that may write events; `reader` may only read, `freeBusyReader` not even list them. */
const WRITER_ROLES = new Set(['owner', 'writer']);

export function createGoogleProvider(
  connection: ProviderConnection,
  context: ProviderContext,
  options: { retry?: RetryPolicy } = {},
): CalendarProvider {
  const api = new GoogleApi(connection.grant, context, options.retry ?? DEFAULT_RETRY_POLICY);

  const ref = (event: calendar_v3.Schema$Event): EventRef => {
    if (!event.id) throw new InvalidDataError('Google answered a write without the event id');
    return { externalId: event.id, etag: event.etag ?? null };
  };

  return {
    kind: 'google',

    async verifyAccess() {
      const primary = await api.call((o) => api.calendar.calendarList.get({ calendarId: 'primary' }, o));
      // The primary calendar's id is the account's e-mail address.
      return { accountEmail: primary.id ?? null };
    },

    async listCalendars(): Promise<ProviderCalendar[]> {
      const calendars: ProviderCalendar[] = [];
      let pageToken: string | undefined;
      do {
        const page = await api.call((o) =>
          api.calendar.calendarList.list({ maxResults: 250, ...(pageToken ? { pageToken } : {}) }, o),
        );
        for (const entry of page.items ?? []) {
          // A freeBusyReader share cannot list events: there is nothing to import from it.
          if (!entry.id || entry.accessRole === 'freeBusyReader') continue;
          calendars.push({
            externalId: entry.id,
            name: entry.summaryOverride ?? entry.summary ?? entry.id,
            color: entry.backgroundColor ?? null,
            readOnly: !WRITER_ROLES.has(entry.accessRole ?? ''),
            providerPrimary: entry.primary === true,
          });
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return calendars;
    },

    fetchChanges: (input) => fetchCalendarChanges(api, input),

    async createEvent(calendar, event) {
      const eventId = googleEventId(event.id);
      const inserted = await api.callAccepting(
        (o) =>
          api.calendar.events.insert(
            {
              calendarId: calendar.externalId,
              // Our own e-mails are the only invitations guests get.
              sendUpdates: 'none',
              requestBody: { id: eventId, ...eventBody(event) },
            },
            o,
          ),
        [409],
      );
      if (inserted.ok) return ref(inserted.data);
      // 409 duplicate: an earlier attempt of this create got through.
      return ref(
        await api.call((o) => api.calendar.events.get({ calendarId: calendar.externalId, eventId }, o)),
      );
    },

    async updateEvent(calendar, existing, event) {
      const patched = await api.call((o) =>
        api.calendar.events.patch(
          {
            calendarId: calendar.externalId,
            eventId: existing.externalId,
            sendUpdates: 'none',
            requestBody: eventBody(event),
          },
          o,
        ),
      );
      return ref(patched);
    },

    async deleteEvent(calendar, existing) {
      // 404 / 410 deleted: gone already, which is what we wanted.
      await api.callAccepting(
        (o) =>
          api.calendar.events.delete(
            { calendarId: calendar.externalId, eventId: existing.externalId, sendUpdates: 'none' },
            o,
          ),
        [404, 410],
      );
    },

    push: googlePush(api),
  };
}
