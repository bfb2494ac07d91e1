/**
 * The stand-in's Microsoft Graph under /v1.0: the signed-in user, calendars, calendarView delta,
 * event writes and change subscriptions, with Graph's error body `{ error: { code, message,
 * innerError } }`, bearer tokens from entra.ts, and the faults tests switch on (faults.ts).
 *
 * Delta: the first request fixes the window; the stand-in then keeps the round's state behind
 * opaque tokens in absolute @odata.nextLink / @odata.deltaLink URLs. A full round lists the events
 * overlapping the window; a later round lists what changed since the previous round ended (the
 * events, or `{ id, '@removed' }` for deleted ones and ones that left the window).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Entra } from './entra.ts';
import type { Faults } from './faults.ts';
import {
  type Account,
  type Calendar,
  graphId,
  type Mailboxes,
  readWallTime,
  type ShowAs,
  type StoredGraphEvent,
  wallTime,
} from './mailbox.ts';
import type { Subscription, Subscriptions } from './subscriptions.ts';

const DEFAULT_DELTA_PAGE = 10;
const MAX_DELTA_PAGE = 1000;
const CALENDAR_PAGE = 10;
const SHOW_AS = new Set(['free', 'tentative', 'busy', 'oof', 'workingElsewhere']);

interface Round {
  oid: string;
  calendarId: string;
  window: { start: number; end: number };
  full: boolean;
  ids: string[];
  /** The calendar's change-log position when the round began: the next round starts after it. */
  until: number;
}

type DeltaState =
  | { kind: 'page'; round: Round; offset: number; generation: number }
  | {
      kind: 'delta';
      oid: string;
      calendarId: string;
      window: Round['window'];
      since: number;
      generation: number;
    };

type Authed = Request & { account?: Account };

export class Graph {
  readonly #mailboxes: Mailboxes;
  readonly #entra: Entra;
  readonly #subscriptions: Subscriptions;
  readonly #faults: Faults;
  readonly #origin: () => string;
  readonly #delta = new Map<string, DeltaState>();
  #generation = 0;

  constructor(deps: {
    mailboxes: Mailboxes;
    entra: Entra;
    subscriptions: Subscriptions;
    faults: Faults;
    origin: () => string;
  }) {
    this.#mailboxes = deps.mailboxes;
    this.#entra = deps.entra;
    this.#subscriptions = deps.subscriptions;
    this.#faults = deps.faults;
    this.#origin = deps.origin;
  }

  /** Every delta and next link issued so far stops working (410 Gone). */
  expireDeltaTokens(): void {
    this.#generation += 1;
  }

  /** Records a change made outside the API (seeding) and notifies subscriptions. */
  changed(
    account: Account,
    calendar: Calendar,
    event: Pick<StoredGraphEvent, 'id' | 'changeKey'>,
    type: string,
  ) {
    this.#subscriptions.notify(account, calendar, event, type);
  }

  router(): express.Router {
    const router = express.Router();
    router.use((_req, res, next) => this.#faults.apply(res, next));
    router.use((req: Authed, res, next) => this.#authenticate(req, res, next));
    router.use(express.json({ limit: '1mb' }));
    router.get('/me', (req: Authed, res) => {
      const account = req.account!;
      res.json({
        '@odata.context': `${this.#origin()}/v1.0/$metadata#users/$entity`,
        businessPhones: [],
        displayName: account.displayName,
        givenName: account.displayName,
        jobTitle: null,
        mail: account.email,
        mobilePhone: null,
        officeLocation: null,
        preferredLanguage: 'en-US',
        surname: null,
        userPrincipalName: account.email,
        id: account.oid,
      });
    });
    router.get('/me/calendars', (req: Authed, res) => this.#calendars(req, res));
    router.get('/me/calendars/:calendarId/calendarView/delta', (req: Authed, res) =>
      this.#deltaPage(req, res),
    );
    router.post('/me/calendars/:calendarId/events', (req: Authed, res) => this.#create(req, res));
    router.get('/me/events/:eventId', (req: Authed, res) => {
      const found = this.#mailboxes.findEvent(req.account!, String(req.params.eventId));
      if (!found) return notFound(res);
      const expand = String(req.query.$expand ?? '').includes('singleValueExtendedProperties');
      res.json(eventJson(found.event, preferredZone(req), this.#origin(), expand));
    });
    router.patch('/me/events/:eventId', (req: Authed, res) => this.#update(req, res));
    router.delete('/me/events/:eventId', (req: Authed, res) => {
      const account = req.account!;
      const found = this.#mailboxes.findEvent(account, String(req.params.eventId));
      if (!found) return notFound(res);
      if (!found.calendar.canEdit) return accessDenied(res);
      this.#mailboxes.remove(found.calendar, found.event.id);
      this.changed(account, found.calendar, found.event, 'deleted');
      res.status(204).end();
    });
    router.post('/subscriptions', async (req: Authed, res) => {
      const result = await this.#subscriptions.create(
        req.account!,
        (req.body ?? {}) as Record<string, unknown>,
      );
      if ('status' in result) return graphError(res, result.status, result.code, result.message);
      res.status(201).json(subscriptionJson(result, this.#origin()));
    });
    router.patch('/subscriptions/:id', (req: Authed, res) => {
      const subscription = this.#subscriptions.all.get(String(req.params.id));
      if (!subscription || subscription.oid !== req.account!.oid) return notFound(res, 'ResourceNotFound');
      const expiry = Date.parse(String((req.body as { expirationDateTime?: unknown })?.expirationDateTime));
      if (Number.isNaN(expiry) || expiry <= Date.now() || expiry > Date.now() + 10_080 * 60_000) {
        return graphError(
          res,
          400,
          'ExtensionError',
          'Subscription expiration can only be 10080 minutes in the future.',
        );
      }
      subscription.expirationDateTime = new Date(expiry).toISOString();
      res.json(subscriptionJson(subscription, this.#origin()));
    });
    router.delete('/subscriptions/:id', (req: Authed, res) => {
      const subscription = this.#subscriptions.all.get(String(req.params.id));
      if (!subscription || subscription.oid !== req.account!.oid) return notFound(res, 'ResourceNotFound');
      this.#subscriptions.all.delete(subscription.id);
      res.status(204).end();
    });
    router.use((_req, res) => graphError(res, 400, 'BadRequest', 'Resource not found for the segment.'));
    return router;
  }

  #authenticate(req: Authed, res: Response, next: NextFunction): void {
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    const account = match ? this.#entra.accountFor(match[1]!) : null;
    if (account === null || account === 'expired') {
      res.set(
        'WWW-Authenticate',
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
      );
      graphError(
        res,
        401,
        'InvalidAuthenticationToken',
        account === 'expired'
          ? 'Lifetime validation failed, the token is expired.'
          : 'Access token validation failure.',
      );
      return;
    }
    req.account = account;
    next();
  }

  #calendars(req: Authed, res: Response): void {
    const account = req.account!;
    const skip = Number(req.query.$skip ?? 0) || 0;
    const all = [...account.calendars.values()];
    const page = all.slice(skip, skip + CALENDAR_PAGE);
    const next =
      skip + CALENDAR_PAGE < all.length
        ? `${this.#origin()}/v1.0/me/calendars?$skip=${skip + CALENDAR_PAGE}`
        : null;
    res.json({
      '@odata.context': `${this.#origin()}/v1.0/$metadata#users('${account.oid}')/calendars`,
      value: page.map((c) => ({
        id: c.id,
        name: c.name,
        color: c.color,
        hexColor: '',
        isDefaultCalendar: c.isDefaultCalendar,
        changeKey: randomBytes(12).toString('base64'),
        canShare: c.canEdit,
        canViewPrivateItems: true,
        canEdit: c.canEdit,
        allowedOnlineMeetingProviders: ['teamsForBusiness'],
        defaultOnlineMeetingProvider: 'teamsForBusiness',
        isTallyingResponses: true,
        isRemovable: !c.isDefaultCalendar,
        owner: { name: account.displayName, address: account.email },
      })),
      ...(next ? { '@odata.nextLink': next } : {}),
    });
  }

  #deltaPage(req: Authed, res: Response) {
    const account = req.account!;
    const calendar = account.calendars.get(String(req.params.calendarId));
    if (!calendar) return notFound(res);
    for (const unsupported of ['$filter', '$orderby', '$expand', '$select', '$search']) {
      if (unsupported in req.query) {
        return graphError(
          res,
          400,
          'ErrorInvalidUrlQuery',
          `The query parameter '${unsupported}' is not supported with change tracking.`,
        );
      }
    }
    const skipToken = typeof req.query.$skiptoken === 'string' ? req.query.$skiptoken : null;
    const deltaToken = typeof req.query.$deltatoken === 'string' ? req.query.$deltatoken : null;
    let round: Round;
    let offset = 0;
    if (skipToken || deltaToken) {
      const state = this.#delta.get((skipToken ?? deltaToken)!);
      const expected = skipToken ? 'page' : 'delta';
      if (!state || state.kind !== expected) {
        return graphError(res, 400, 'BadRequest', 'The sync token is not valid.');
      }
      const owner = state.kind === 'page' ? state.round : state;
      if (owner.oid !== account.oid || owner.calendarId !== calendar.id) {
        return graphError(res, 400, 'BadRequest', 'The sync token is not valid for this resource.');
      }
      if (state.generation !== this.#generation) {
        res.set('Location', this.#firstLink(calendar, owner.window));
        return graphError(
          res,
          410,
          'syncStateNotFound',
          'The sync state generation is not found. Re-sync is required.',
        );
      }
      if (state.kind === 'page') {
        round = state.round;
        offset = state.offset;
      } else {
        round = this.#incrementalRound(account, calendar, state.window, state.since);
      }
    } else {
      const start = Date.parse(String(req.query.startDateTime ?? ''));
      const end = Date.parse(String(req.query.endDateTime ?? ''));
      if (Number.isNaN(start) || Number.isNaN(end) || start >= end) {
        return graphError(
          res,
          400,
          'ErrorInvalidParameter',
          "This request requires a time window specified by the query string parameters 'startDateTime' and 'endDateTime'.",
        );
      }
      round = this.#fullRound(account, calendar, { start, end });
    }

    const prefer = req.get('prefer') ?? '';
    const asked = Number(/odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? DEFAULT_DELTA_PAGE);
    const size = Math.max(1, Math.min(asked, MAX_DELTA_PAGE, this.#faults.pageCap ?? MAX_DELTA_PAGE));
    const zone = preferredZone(req);
    const items = round.ids.slice(offset, offset + size).map((id) => this.#item(calendar, round, id, zone));
    // Graph may send items again; the fault makes every page repeat the one before it.
    const replayed =
      this.#faults.replay && offset > 0
        ? round.ids
            .slice(Math.max(0, offset - size), offset)
            .map((id) => this.#item(calendar, round, id, zone))
        : [];
    const done = offset + size >= round.ids.length;
    const token = randomBytes(24).toString('base64url');
    this.#delta.set(
      token,
      done
        ? {
            kind: 'delta',
            oid: account.oid,
            calendarId: calendar.id,
            window: round.window,
            since: round.until,
            generation: this.#generation,
          }
        : { kind: 'page', round, offset: offset + size, generation: this.#generation },
    );
    const link = `${this.#origin()}/v1.0/me/calendars/${encodeURIComponent(calendar.id)}/calendarView/delta?${done ? '$deltatoken' : '$skiptoken'}=${token}`;
    if (/odata\.maxpagesize/.test(prefer)) res.set('Preference-Applied', `odata.maxpagesize=${size}`);
    res.json({
      '@odata.context': `${this.#origin()}/v1.0/$metadata#Collection(event)`,
      value: [...replayed, ...items],
      ...(done ? { '@odata.deltaLink': link } : { '@odata.nextLink': link }),
    });
  }

  #fullRound(account: Account, calendar: Calendar, window: Round['window']): Round {
    const ids = [...calendar.events.values()]
      .filter((e) => overlaps(e, window))
      .sort((a, b) => a.start.getTime() - b.start.getTime())
      .map((e) => e.id);
    return { oid: account.oid, calendarId: calendar.id, window, full: true, ids, until: calendar.seq };
  }

  #incrementalRound(account: Account, calendar: Calendar, window: Round['window'], since: number): Round {
    const changes: [string, number][] = [
      ...[...calendar.events.values()].map((e): [string, number] => [e.id, e.seq]),
      ...calendar.tombstones,
    ];
    const ids = changes
      .filter(([, seq]) => seq > since)
      .sort((a, b) => a[1] - b[1])
      .map(([id]) => id);
    return { oid: account.oid, calendarId: calendar.id, window, full: false, ids, until: calendar.seq };
  }

  #item(calendar: Calendar, round: Round, id: string, zone: string | null): Record<string, unknown> {
    const event = calendar.events.get(id);
    if (!event || !overlaps(event, round.window)) return { id, '@removed': { reason: 'deleted' } };
    return eventJson(event, zone, this.#origin(), false);
  }

  #firstLink(calendar: Calendar, window: Round['window']): string {
    const query = new URLSearchParams({
      startDateTime: new Date(window.start).toISOString(),
      endDateTime: new Date(window.end).toISOString(),
    });
    return `${this.#origin()}/v1.0/me/calendars/${encodeURIComponent(calendar.id)}/calendarView/delta?${query}`;
  }

  #create(req: Authed, res: Response) {
    const account = req.account!;
    const calendar = account.calendars.get(String(req.params.calendarId));
    if (!calendar) return notFound(res);
    if (!calendar.canEdit) return accessDenied(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const transactionId = typeof body.transactionId === 'string' ? body.transactionId : null;
    if (transactionId) {
      const first = [...account.calendars.values()]
        .flatMap((c) => [...c.events.values()])
        .find((e) => e.transactionId === transactionId);
      if (first)
        return void res.status(201).json(eventJson(first, preferredZone(req), this.#origin(), false));
    }
    const fields = eventFields(body, null);
    if (typeof fields === 'string') return graphError(res, 400, 'ErrorInvalidRequest', fields);
    const event = this.#mailboxes.put(calendar, {
      id: graphId('AAMkAGI2TGW0AAA='),
      iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(16).toString('hex')}`,
      transactionId,
      ...fields,
    });
    this.changed(account, calendar, event, 'created');
    res.status(201).json(eventJson(event, preferredZone(req), this.#origin(), false));
  }

  #update(req: Authed, res: Response) {
    const account = req.account!;
    const found = this.#mailboxes.findEvent(account, String(req.params.eventId));
    if (!found) return notFound(res);
    if (!found.calendar.canEdit) return accessDenied(res);
    const ifMatch = req.get('if-match');
    if (ifMatch && ifMatch !== '*' && ifMatch.replace(/^W\//, '') !== `"${found.event.changeKey}"`) {
      return graphError(
        res,
        412,
        'ErrorIrresolvableConflict',
        'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.',
      );
    }
    const fields = eventFields((req.body ?? {}) as Record<string, unknown>, found.event);
    if (typeof fields === 'string') return graphError(res, 400, 'ErrorInvalidRequest', fields);
    const event = this.#mailboxes.put(found.calendar, {
      id: found.event.id,
      iCalUId: found.event.iCalUId,
      transactionId: found.event.transactionId,
      ...fields,
    });
    this.changed(account, found.calendar, event, 'updated');
    res.json(eventJson(event, preferredZone(req), this.#origin(), false));
  }
}

type EventFields = Omit<
  StoredGraphEvent,
  | 'id'
  | 'iCalUId'
  | 'transactionId'
  | 'changeKey'
  | 'seq'
  | 'createdDateTime'
  | 'lastModifiedDateTime'
  | 'calendarId'
>;

/** The writable fields of a POST/PATCH body over `base` (PATCH) or defaults (POST); a message when invalid. */
function eventFields(body: Record<string, unknown>, base: StoredGraphEvent | null): EventFields | string {
  const start =
    body.start === undefined && base
      ? { instant: base.start, zone: base.timeZone }
      : readWallTime(body.start);
  const end =
    body.end === undefined && base ? { instant: base.end, zone: base.timeZone } : readWallTime(body.end);
  if (!start || !end) return 'The start and end of the event are required dateTimeTimeZone values.';
  if (end.instant < start.instant) return 'The end of the event is before its start.';
  const showAs = body.showAs ?? base?.showAs ?? 'busy';
  if (typeof showAs !== 'string' || !SHOW_AS.has(showAs)) return 'Invalid showAs.';
  const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
  const bodyValue = body.body as { contentType?: unknown; content?: unknown } | undefined;
  const location = body.location as { displayName?: unknown } | undefined;
  const properties = Array.isArray(body.singleValueExtendedProperties)
    ? (body.singleValueExtendedProperties as { id: string; value: string }[])
    : (base?.singleValueExtendedProperties ?? []);
  return {
    subject: text(body.subject, base?.subject ?? ''),
    body: bodyValue
      ? { contentType: text(bodyValue.contentType, 'text'), content: text(bodyValue.content, '') }
      : (base?.body ?? { contentType: 'text', content: '' }),
    start: start.instant,
    end: end.instant,
    timeZone: start.zone,
    isAllDay: typeof body.isAllDay === 'boolean' ? body.isAllDay : (base?.isAllDay ?? false),
    showAs: showAs as ShowAs,
    isCancelled: base?.isCancelled ?? false,
    location: location ? { displayName: text(location.displayName, '') } : (base?.location ?? null),
    attendees: Array.isArray(body.attendees) ? body.attendees : (base?.attendees ?? []),
    singleValueExtendedProperties: properties,
  };
}

function overlaps(event: StoredGraphEvent, window: Round['window']): boolean {
  return event.start.getTime() < window.end && event.end.getTime() > window.start;
}

/** `Prefer: outlook.timezone="..."`, when given. */
function preferredZone(req: Request): string | null {
  return /outlook\.timezone="([^"]+)"/.exec(req.get('prefer') ?? '')?.[1] ?? null;
}

/** An event as Graph writes it: start/end in the preferred zone, else in the event's own. */
function eventJson(
  event: StoredGraphEvent,
  preferred: string | null,
  origin: string,
  withProperties: boolean,
): Record<string, unknown> {
  const zone = preferred ?? event.timeZone;
  const time = (instant: Date) =>
    event.isAllDay
      ? { dateTime: `${instant.toISOString().slice(0, 10)}T00:00:00.0000000`, timeZone: zone }
      : { dateTime: wallTime(instant, zone), timeZone: zone };
  return {
    '@odata.type': '#microsoft.graph.event',
    '@odata.etag': `W/"${event.changeKey}"`,
    id: event.id,
    createdDateTime: event.createdDateTime,
    lastModifiedDateTime: event.lastModifiedDateTime,
    changeKey: event.changeKey,
    categories: [],
    transactionId: event.transactionId,
    originalStartTimeZone: event.timeZone,
    originalEndTimeZone: event.timeZone,
    iCalUId: event.iCalUId,
    reminderMinutesBeforeStart: 15,
    isReminderOn: true,
    hasAttachments: false,
    subject: event.subject,
    bodyPreview: event.body.content.slice(0, 255),
    importance: 'normal',
    sensitivity: 'normal',
    isAllDay: event.isAllDay,
    isCancelled: event.isCancelled,
    isOrganizer: true,
    responseRequested: true,
    seriesMasterId: null,
    showAs: event.showAs,
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(event.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: event.body,
    start: time(event.start),
    end: time(event.end),
    location: {
      displayName: event.location?.displayName ?? '',
      locationType: 'default',
      uniqueIdType: 'unknown',
      address: {},
      coordinates: {},
    },
    locations: [],
    recurrence: null,
    attendees: event.attendees,
    organizer: { emailAddress: { name: 'Organizer', address: `organizer@${new URL(origin).hostname}` } },
    ...(withProperties ? { singleValueExtendedProperties: event.singleValueExtendedProperties } : {}),
  };
}

function subscriptionJson(subscription: Subscription, origin: string) {
  return {
    '@odata.context': `${origin}/v1.0/$metadata#subscriptions/$entity`,
    id: subscription.id,
    resource: subscription.resource,
    applicationId: randomUUID(),
    changeType: subscription.changeType,
    clientState: subscription.clientState,
    notificationUrl: subscription.notificationUrl,
    lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
    expirationDateTime: subscription.expirationDateTime,
    creatorId: subscription.oid,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: null,
    encryptionCertificateId: null,
    includeResourceData: null,
    notificationContentType: null,
  };
}

export function graphError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': randomUUID(),
        'client-request-id': randomUUID(),
      },
    },
  });
}

function notFound(res: Response, code = 'ErrorItemNotFound'): void {
  graphError(res, 404, code, 'The specified object was not found in the store.');
}

function accessDenied(res: Response): void {
  graphError(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}
