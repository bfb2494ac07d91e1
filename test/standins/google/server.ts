/**
 * A Google stand-in: OAuth (oauth.ts) and the Calendar API v3 (calendar-api.ts) at one root URL,
 * so GOOGLE_OAUTH_URL = GOOGLE_API_URL = `url`, driven by the real googleapis client. Tests seed and
 * inspect it through the control methods below; faults.ts and push.ts hold throttling and watch
 * channels. In-process, on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CalendarApi } from './calendar-api.ts';
import { type FaultKind, Faults } from './faults.ts';
import { bearerToken, HttpFailure, readRequest, sendApiError, sendJson } from './http.ts';
import { OAuthServer } from './oauth.ts';
import { type Delivery, PushHub } from './push.ts';
import { type AccessRole, CalendarStore, newEventId, type StoredGoogleEvent } from './state.ts';
import { type EventTime, rfc3339 } from './times.ts';

export type { StoredGoogleEvent } from './state.ts';

/** An event as tests seed it: instants (or all-day dates), optionally a series. */
export interface GoogleEventSeed {
  id?: string;
  /** The iCalendar UID (events imported into Google keep theirs); default `{id}@google.com`. */
  iCalUID?: string;
  summary?: string;
  start: Date | { date: string };
  end: Date | { date: string };
  /** IANA zone of the event's times (and of its recurrence). */
  timeZone?: string;
  transparency?: 'opaque' | 'transparent';
  status?: 'confirmed' | 'tentative';
  /** RRULE / EXDATE lines, as Google's `recurrence`. */
  recurrence?: string[];
}

export interface GoogleStandin {
  url: string;
  clientId: string;
  clientSecret: string;
  env: {
    GOOGLE_OAUTH_URL: string;
    GOOGLE_API_URL: string;
    GOOGLE_CLIENT_ID: string;
    GOOGLE_CLIENT_SECRET: string;
  };
  /** Default: one primary calendar whose id is the e-mail, accessRole owner. */
  addAccount(input: {
    email: string;
    calendars?: { id?: string; summary: string; accessRole?: AccessRole; primary?: boolean }[];
  }): { sub: string; email: string; calendarIds: string[] };
  /** Consent pages act as this account and approve at once. */
  consentAs(email: string): void;
  /** The next consent page visit is denied (error=access_denied). */
  denyConsent(): void;
  /** Creates or replaces an event; returns its id. */
  putEvent(email: string, calendarId: string, event: GoogleEventSeed): string;
  /** The event becomes a cancelled tombstone. */
  deleteEvent(email: string, calendarId: string, eventId: string): void;
  /** What is stored, cancelled tombstones included. */
  listEvents(email: string, calendarId: string): StoredGoogleEvent[];
  /** Every sync token issued so far answers 410 fullSyncRequired. */
  expireSyncTokens(): void;
  /** Every access and refresh token of the account dies. */
  revokeGrant(email: string): void;
  /** Access tokens expire now (a refresh still works). */
  expireAccessTokens(): void;
  faults: {
    failRate(rate: number, kinds?: FaultKind[]): void;
    maxPageSize(n: number | null): void;
    emptyPages(n: number): void;
    clear(): void;
  };
  /** Active watch channels. */
  channels(): {
    id: string;
    resourceId: string;
    address: string;
    token: string | null;
    expiration: number;
    calendarId: string;
  }[];
  /** Tokens revoked through /revoke. */
  revokedTokens(): string[];
  /** Delivers push notifications to this origin (keeping each address's path); null: the address's own. */
  deliverTo(origin: string | null): void;
  /** Every push delivery attempted, with the receiver's status or the failure. */
  deliveries(): Delivery[];
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

const UNAUTHENTICATED = {
  error: {
    code: 401,
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    errors: [
      {
        message: 'Invalid Credentials',
        domain: 'global',
        reason: 'authError',
        location: 'Authorization',
        locationType: 'header',
      },
    ],
    status: 'UNAUTHENTICATED',
  },
};

export async function startGoogleStandin(options: { port?: number } = {}): Promise<GoogleStandin> {
  const store = new CalendarStore();
  const faults = new Faults();
  let url = '';
  const push = new PushHub(() => url);
  const api = new CalendarApi(store, push, faults);
  const oauth = new OAuthServer(store);
  const requests: GoogleStandin['requests'] = [];
  store.onChange((email, calendarId) => push.changed(email, calendarId));

  const server = createServer((req, res) => {
    res.on('finish', () =>
      requests.push({
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        status: res.statusCode,
      }),
    );
    void (async () => {
      try {
        const request = await readRequest(req, url);
        if (oauth.handle(request, res)) return;
        if (!request.url.pathname.startsWith('/calendar/v3/')) {
          sendJson(res, 404, { error: { code: 404, message: 'Not Found' } });
          return;
        }
        const failure = faults.draw();
        if (failure) throw failure;
        const email = oauth.authenticate(bearerToken(request));
        if (!email) {
          sendJson(res, 401, UNAUTHENTICATED, {
            'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"',
          });
          return;
        }
        api.handle(request, res, email);
      } catch (error) {
        if (res.headersSent) return;
        if (error instanceof HttpFailure) sendApiError(res, error);
        else sendApiError(res, new HttpFailure(500, 'Backend Error', 'backendError'));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const calendarOf = (email: string, calendarId: string) => {
    const calendar = store.calendar(email, calendarId);
    if (!calendar) throw new Error(`${email} has no calendar ${calendarId}`);
    return calendar;
  };

  return {
    url,
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    env: {
      GOOGLE_OAUTH_URL: url,
      GOOGLE_API_URL: url,
      GOOGLE_CLIENT_ID: oauth.clientId,
      GOOGLE_CLIENT_SECRET: oauth.clientSecret,
    },
    addAccount(input) {
      const account = store.addAccount(input);
      return { sub: account.sub, email: account.email, calendarIds: [...account.calendars.keys()] };
    },
    consentAs(email) {
      oauth.consentingEmail = store.account(email).email;
    },
    denyConsent() {
      oauth.denyNext = true;
    },
    putEvent(email, calendarId, seed) {
      const time = (value: Date | { date: string }): EventTime =>
        value instanceof Date
          ? { dateTime: rfc3339(value, seed.timeZone), ...(seed.timeZone ? { timeZone: seed.timeZone } : {}) }
          : { date: value.date };
      return store.write(
        email,
        calendarOf(email, calendarId),
        {
          id: seed.id ?? newEventId(),
          status: seed.status ?? 'confirmed',
          ...(seed.iCalUID !== undefined ? { iCalUID: seed.iCalUID } : {}),
          ...(seed.summary !== undefined ? { summary: seed.summary } : {}),
          ...(seed.transparency ? { transparency: seed.transparency } : {}),
          ...(seed.recurrence ? { recurrence: seed.recurrence } : {}),
          start: time(seed.start),
          end: time(seed.end),
          organizer: { email, self: true },
        },
        null,
      ).id;
    },
    deleteEvent(email, calendarId, eventId) {
      store.cancel(email, calendarOf(email, calendarId), eventId);
    },
    listEvents(email, calendarId) {
      return [...calendarOf(email, calendarId).events.values()].map(({ event, sendUpdates }) => ({
        ...structuredClone(event),
        sendUpdates,
      }));
    },
    expireSyncTokens: () => api.expireSyncTokens(),
    revokeGrant: (email) => oauth.revokeAccount(email),
    expireAccessTokens: () => oauth.expireAccessTokens(),
    faults: {
      failRate: (rate, kinds) => faults.failRate(rate, kinds),
      maxPageSize: (n) => {
        faults.pageSizeCap = n;
      },
      emptyPages: (n) => {
        faults.emptyPagesLeft = n;
      },
      clear: () => faults.clear(),
    },
    channels: () =>
      push.active().map(({ id, resourceId, address, token, expiration, calendarId }) => ({
        id,
        resourceId,
        address,
        token,
        expiration,
        calendarId,
      })),
    revokedTokens: () => [...oauth.revoked],
    deliverTo(origin) {
      push.deliverOrigin = origin;
    },
    deliveries: () => [...push.deliveries],
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
