/**
 * Microsoft 365 calendars through Microsoft Graph, with the OAuth grant of the connection
 * (oauth.ts: MSAL; connections/grants.ts refreshes it).
 *
 * - graph-client.ts: bearer token, retries, throttling, byte caps, links kept on the Graph origin.
 * - sync.ts: fetchChanges over calendarView delta.
 * - writes.ts: idempotent create (transactionId), If-Match update, delete.
 * - push.ts: change subscriptions.
 * - wire.ts and time.ts: Graph JSON ↔ our types, Windows zone names.
 */
import type {
  CalendarProvider,
  ChangePage,
  FetchChangesInput,
  ProviderCalendar,
  ProviderConnection,
  ProviderContext,
} from '../contract.ts';
import { InvalidDataError } from '../errors.ts';
import { GraphClient, type GraphRetryPolicy } from './graph-client.ts';
import * as push from './push.ts';
import { fetchCalendarChanges } from './sync.ts';
import { type GraphCalendar, toProviderCalendar } from './wire.ts';
import * as writes from './writes.ts';

const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
/** Calendars listed at most: a mailbox with more is not one we can show anyway. */
const MAX_CALENDARS = 1000;

/** Knobs for tests (short backoffs); production uses the defaults. */
export interface MicrosoftAdapterTuning {
  retry?: GraphRetryPolicy;
}

export function createMicrosoftProvider(
  connection: ProviderConnection,
  context: ProviderContext,
  tuning: MicrosoftAdapterTuning = {},
): CalendarProvider {
  const client = new GraphClient({
    graphUrl: context.apiUrls?.microsoftGraph ?? DEFAULT_GRAPH_URL,
    grant: connection.grant,
    timeoutMs: context.requestTimeoutMs,
    userAgent: context.userAgent,
    ...(tuning.retry ? { retry: tuning.retry } : {}),
  });

  return {
    kind: 'microsoft',

    async verifyAccess() {
      const response = await client.request({ method: 'GET', target: '/me' });
      const me = response.body as { mail?: unknown; userPrincipalName?: unknown } | null;
      if (response.status !== 200 || !me) {
        throw new InvalidDataError(`Microsoft Graph answered ${response.status} for the signed-in user`);
      }
      const email = [me.mail, me.userPrincipalName].find((v) => typeof v === 'string' && v !== '');
      return { accountEmail: (email as string | undefined) ?? null };
    },

    async listCalendars(): Promise<ProviderCalendar[]> {
      const calendars: ProviderCalendar[] = [];
      let link: string | null = '/me/calendars';
      while (link && calendars.length < MAX_CALENDARS) {
        const response = await client.request({ method: 'GET', target: link });
        const body = response.body as { value?: unknown; '@odata.nextLink'?: unknown } | null;
        if (response.status !== 200 || !Array.isArray(body?.value)) {
          throw new InvalidDataError(`Microsoft Graph answered ${response.status} for the calendar list`);
        }
        for (const calendar of body.value as GraphCalendar[]) {
          if (typeof calendar?.id === 'string' && calendar.id !== '')
            calendars.push(toProviderCalendar(calendar));
        }
        link = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
      }
      return calendars;
    },

    fetchChanges(input: FetchChangesInput): AsyncIterable<ChangePage> {
      return fetchCalendarChanges(client, input);
    },

    createEvent: (calendar, event) => writes.createEvent(client, calendar, event),
    updateEvent: (_calendar, ref, event) => writes.updateEvent(client, ref, event),
    deleteEvent: (_calendar, ref) => writes.deleteEvent(client, ref),

    push: {
      subscribe: (calendar, channel) => push.subscribe(client, calendar, channel),
      renew: (calendar, channel, subscription) => push.renew(client, calendar, channel, subscription),
      stop: (channel) => push.stop(client, channel),
    },
  };
}
