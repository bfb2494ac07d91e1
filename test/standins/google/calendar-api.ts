/**
 * The Calendar API v3 routes the adapter uses, under `/calendar/v3`: the calendar list, events
 * (list with full and incremental sync, insert, get, patch, update, delete), `events/watch` and
 * `channels/stop`. Listings are computed once, at their first page, and paged from that snapshot;
 * the sync token on the last page points at the change number the snapshot was taken at, so
 * anything written during a listing shows up in the next incremental sync.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Faults } from './faults.ts';
import { HttpFailure, jsonBody, type StandinRequest, sendJson } from './http.ts';
import type { PushHub } from './push.ts';
import type { CalendarState, CalendarStore, GoogleEvent } from './state.ts';
import { type EventTime, instantOf } from './times.ts';

const MAX_RESULTS = 2500;
const DEFAULT_RESULTS = 250;
const EVENT_ID = /^[a-v0-9]{5,1024}$/;
/** Parameters Google refuses next to a syncToken (400 syncTokenWithRequestRestrictions). */
const FORBIDDEN_WITH_SYNC_TOKEN = [
  'iCalUID',
  'orderBy',
  'privateExtendedProperty',
  'q',
  'sharedExtendedProperty',
  'timeMin',
  'timeMax',
  'updatedMin',
];
const WRITABLE_FIELDS = [
  'summary',
  'description',
  'location',
  'start',
  'end',
  'transparency',
  'status',
  'recurrence',
  'attendees',
  'extendedProperties',
  'sequence',
] as const;

interface Listing {
  email: string;
  calendarId: string;
  items: object[];
  /** The change number the next sync token stands for. */
  syncSeq: number;
}

interface SyncToken {
  email: string;
  calendarId: string;
  seq: number;
}

export class CalendarApi {
  private readonly pages = new Map<string, { listing: Listing; offset: number }>();
  private readonly syncTokens = new Map<string, SyncToken>();

  private readonly store: CalendarStore;
  private readonly push: PushHub;
  private readonly faults: Faults;

  constructor(store: CalendarStore, push: PushHub, faults: Faults) {
    this.store = store;
    this.push = push;
    this.faults = faults;
  }

  /** Every sync token issued so far now answers 410 fullSyncRequired. */
  expireSyncTokens(): void {
    this.syncTokens.clear();
  }

  handle(request: StandinRequest, res: ServerResponse, email: string): void {
    const body = this.route(request, email);
    if (body === null) res.writeHead(204).end();
    else sendJson(res, 200, body);
  }

  /** The route's answer: a JSON body, or null for 204 No Content. */
  private route(request: StandinRequest, email: string): object | null {
    const segments = request.url.pathname
      .slice('/calendar/v3/'.length)
      .split('/')
      .map((s) => decodeURIComponent(s));
    const route = `${request.method} ${segments.map((s, i) => (isVariable(segments, i) ? '*' : s)).join('/')}`;
    // calendars/{calendarId}/events/{eventId}, users/me/calendarList/{calendarId}
    const [, second = '', , fourth = ''] = segments;
    switch (route) {
      case 'GET users/me/calendarList':
        return this.calendarList(email, request.url.searchParams);
      case 'GET users/me/calendarList/*':
        return listEntry(this.calendarOf(email, fourth));
      case 'GET calendars/*/events':
        return this.listEvents(email, second, request.url.searchParams);
      case 'POST calendars/*/events':
        return this.insert(email, second, request);
      case 'POST calendars/*/events/watch':
        return this.push.watch(email, this.calendarOf(email, second).id, jsonBody(request));
      case 'GET calendars/*/events/*':
        return this.existing(this.calendarOf(email, second), fourth, true);
      case 'PATCH calendars/*/events/*':
      case 'PUT calendars/*/events/*':
        return this.modify(email, second, fourth, request);
      case 'DELETE calendars/*/events/*':
        this.remove(email, second, fourth);
        return null;
      case 'POST channels/stop':
        this.push.stop(jsonBody(request));
        return null;
      default:
        throw new HttpFailure(404, 'Not Found', 'notFound');
    }
  }

  private calendarOf(email: string, calendarId: string): CalendarState {
    const calendar = this.store.calendar(email, calendarId);
    if (!calendar) throw new HttpFailure(404, 'Not Found', 'notFound');
    return calendar;
  }

  private writable(email: string, calendarId: string): CalendarState {
    const calendar = this.calendarOf(email, calendarId);
    if (calendar.accessRole !== 'owner' && calendar.accessRole !== 'writer') {
      throw new HttpFailure(403, 'You need to have writer access to this calendar.', 'requiredAccessLevel');
    }
    return calendar;
  }

  private calendarList(email: string, query: URLSearchParams): object {
    const entries = [...this.store.account(email).calendars.values()].map(listEntry);
    const size = Math.min(Number(query.get('maxResults') ?? 100) || 100, 250);
    const offset = pageOffset(query.get('pageToken'));
    const end = Math.min(offset + size, entries.length);
    return {
      kind: 'calendar#calendarList',
      etag: `"p${this.store.sequence}"`,
      ...(end < entries.length
        ? { nextPageToken: Buffer.from(`offset:${end}`).toString('base64url') }
        : { nextSyncToken: randomBytes(12).toString('base64url') }),
      items: entries.slice(offset, end),
    };
  }

  private listEvents(email: string, calendarId: string, query: URLSearchParams): object {
    const calendar = this.calendarOf(email, calendarId);
    if (calendar.accessRole === 'freeBusyReader') {
      throw new HttpFailure(403, 'Not allowed to list events of this calendar.', 'forbidden');
    }
    const requested = Number(query.get('maxResults') ?? DEFAULT_RESULTS);
    if (!Number.isInteger(requested) || requested < 1)
      throw new HttpFailure(400, 'Invalid maxResults', 'invalid');
    const pageSize = Math.min(requested, MAX_RESULTS, this.faults.pageSizeCap ?? MAX_RESULTS);

    const pageToken = query.get('pageToken');
    let page: { listing: Listing; offset: number };
    if (pageToken) {
      const found = this.pages.get(pageToken);
      if (!found || found.listing.calendarId !== calendar.id || found.listing.email !== email) {
        throw new HttpFailure(400, 'Invalid page token value.', 'invalid');
      }
      page = found;
    } else {
      page = { listing: this.snapshot(email, calendar, query), offset: 0 };
    }

    const { listing } = page;
    let items: object[] = [];
    let next = page.offset;
    // A forced empty page still promises more, even at the end of the listing.
    const forcedEmpty = this.faults.emptyPagesLeft > 0;
    if (forcedEmpty) {
      this.faults.emptyPagesLeft--;
    } else {
      items = listing.items.slice(page.offset, page.offset + pageSize);
      next = page.offset + items.length;
    }
    const more = forcedEmpty || next < listing.items.length;
    const body: Record<string, unknown> = {
      kind: 'calendar#events',
      etag: `"p${this.store.sequence}"`,
      summary: calendar.summary,
      updated: new Date().toISOString(),
      timeZone: 'UTC',
      accessRole: calendar.accessRole,
      defaultReminders: [],
    };
    if (more) {
      const token = randomBytes(24).toString('base64url');
      this.pages.set(token, { listing, offset: next });
      body.nextPageToken = token;
    } else {
      const token = randomBytes(24).toString('base64url');
      this.syncTokens.set(token, { email, calendarId: calendar.id, seq: listing.syncSeq });
      body.nextSyncToken = token;
    }
    body.items = items;
    return body;
  }

  private snapshot(email: string, calendar: CalendarState, query: URLSearchParams): Listing {
    const singleEvents = query.get('singleEvents') === 'true';
    const syncToken = query.get('syncToken');
    if (syncToken) {
      const forbidden = FORBIDDEN_WITH_SYNC_TOKEN.filter((name) => query.has(name));
      if (forbidden.length) {
        throw new HttpFailure(
          400,
          `Sync token cannot be used with other request restrictions: ${forbidden.join(', ')}`,
          'syncTokenWithRequestRestrictions',
        );
      }
      const since = this.syncTokens.get(syncToken);
      if (!since || since.calendarId !== calendar.id || since.email !== email) {
        throw new HttpFailure(
          410,
          'Sync token is no longer valid, a full sync is required.',
          'fullSyncRequired',
        );
      }
      return {
        email,
        calendarId: calendar.id,
        syncSeq: this.store.sequence,
        items: this.changesSince(calendar, since.seq, singleEvents),
      };
    }
    const timeMin = timeParam(query, 'timeMin') ?? -Infinity;
    const timeMax = timeParam(query, 'timeMax') ?? Infinity;
    const showDeleted = query.get('showDeleted') === 'true';
    const items: object[] = [];
    for (const { event } of calendar.events.values()) {
      if (event.status === 'cancelled') {
        if (showDeleted) items.push(cancelledStub(event));
        continue;
      }
      if (event.recurrence && singleEvents) {
        const range =
          Number.isFinite(timeMin) && Number.isFinite(timeMax)
            ? { start: new Date(timeMin), end: new Date(timeMax) }
            : undefined;
        items.push(...this.store.instancesOf(event, range));
        continue;
      }
      if (instantOf(event.start) < timeMax && (event.recurrence || instantOf(event.end) > timeMin))
        items.push(event);
    }
    if (showDeleted && singleEvents) {
      for (const { event } of calendar.lostInstances.values()) items.push(cancelledStub(event));
    }
    return { email, calendarId: calendar.id, syncSeq: this.store.sequence, items };
  }

  /** What changed after `seq`, in change order; series as their instances when `singleEvents`. */
  private changesSince(calendar: CalendarState, seq: number, singleEvents: boolean): object[] {
    const changes: { seq: number; item: object }[] = [];
    for (const stored of calendar.events.values()) {
      if (stored.seq <= seq) continue;
      const { event } = stored;
      if (event.status === 'cancelled') {
        changes.push({ seq: stored.seq, item: cancelledStub(event) });
      } else if (event.recurrence && singleEvents) {
        for (const instance of this.store.instancesOf(event))
          changes.push({ seq: stored.seq, item: instance });
      } else {
        changes.push({ seq: stored.seq, item: event });
      }
    }
    if (singleEvents) {
      for (const lost of calendar.lostInstances.values()) {
        if (lost.seq > seq) changes.push({ seq: lost.seq, item: cancelledStub(lost.event) });
      }
    }
    return changes.sort((a, b) => a.seq - b.seq).map((c) => c.item);
  }

  private insert(email: string, calendarId: string, request: StandinRequest): GoogleEvent {
    const calendar = this.writable(email, calendarId);
    const body = jsonBody(request);
    const id = body.id === undefined ? undefined : String(body.id);
    if (id !== undefined && !EVENT_ID.test(id))
      throw new HttpFailure(400, 'Invalid resource id value.', 'invalid');
    if (id !== undefined && calendar.events.has(id)) {
      throw new HttpFailure(409, 'The requested identifier already exists.', 'duplicate');
    }
    const fields = eventFields(body);
    return this.store.write(
      email,
      calendar,
      withoutNulls({
        id: id ?? newId(),
        status: 'confirmed',
        ...fields,
        start: fields.start ?? missing('start'),
        end: fields.end ?? missing('end'),
        organizer: { email: calendar.id, self: true },
      }),
      request.url.searchParams.get('sendUpdates'),
    );
  }

  private existing(calendar: CalendarState, eventId: string, includeCancelled = false): GoogleEvent {
    const stored = calendar.events.get(eventId);
    if (!stored) throw new HttpFailure(404, 'Not Found', 'notFound');
    if (stored.event.status === 'cancelled' && !includeCancelled) {
      throw new HttpFailure(410, 'Resource has been deleted', 'deleted');
    }
    return stored.event;
  }

  private modify(email: string, calendarId: string, eventId: string, request: StandinRequest): GoogleEvent {
    const calendar = this.writable(email, calendarId);
    const current = this.existing(calendar, eventId);
    const ifMatch = request.headers['if-match'];
    if (ifMatch && ifMatch !== current.etag)
      throw new HttpFailure(412, 'Precondition Failed', 'conditionNotMet');
    const fields = eventFields(jsonBody(request));
    const base =
      request.method === 'PUT'
        ? {
            id: current.id,
            status: current.status,
            organizer: current.organizer,
            start: current.start,
            end: current.end,
          }
        : current;
    const extendedProperties =
      request.method === 'PATCH' && fields.extendedProperties
        ? {
            private: { ...current.extendedProperties?.private, ...fields.extendedProperties.private },
            shared: { ...current.extendedProperties?.shared, ...fields.extendedProperties.shared },
          }
        : fields.extendedProperties;
    return this.store.write(
      email,
      calendar,
      withoutNulls({ ...base, ...fields, ...(extendedProperties ? { extendedProperties } : {}) }),
      request.url.searchParams.get('sendUpdates'),
    );
  }

  private remove(email: string, calendarId: string, eventId: string): void {
    const calendar = this.writable(email, calendarId);
    this.existing(calendar, eventId);
    this.store.cancel(email, calendar, eventId);
  }
}

/** Path segments that are ids: the calendar id, the calendar list entry, the event id. */
function isVariable(segments: string[], index: number): boolean {
  if (segments[0] === 'calendars') return index === 1 || (index === 3 && segments[3] !== 'watch');
  if (segments[0] === 'users') return index === 3;
  return false;
}

function listEntry(calendar: CalendarState): object {
  return {
    kind: 'calendar#calendarListEntry',
    etag: `"${calendar.id.length}${calendar.summary.length}"`,
    id: calendar.id,
    summary: calendar.summary,
    timeZone: 'UTC',
    colorId: '14',
    backgroundColor: calendar.backgroundColor,
    foregroundColor: '#000000',
    selected: true,
    accessRole: calendar.accessRole,
    defaultReminders: [],
    ...(calendar.primary ? { primary: true } : {}),
  };
}

function pageOffset(token: string | null): number {
  if (!token) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw new HttpFailure(400, 'Invalid page token value.', 'invalid');
  return Number(match[1]);
}

function timeParam(query: URLSearchParams, name: string): number | null {
  const value = query.get(name);
  if (value === null) return null;
  // RFC 3339 with a mandatory offset, as Google requires.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)) {
    throw new HttpFailure(400, 'Bad Request', 'badRequest');
  }
  return Date.parse(value);
}

/** A deletion as incremental syncs report it: sometimes little more than the id. */
function cancelledStub(event: GoogleEvent): object {
  return {
    kind: 'calendar#event',
    etag: event.etag,
    id: event.id,
    status: 'cancelled',
    ...(event.recurringEventId
      ? { recurringEventId: event.recurringEventId, originalStartTime: event.originalStartTime }
      : {}),
  };
}

const newId = () => randomBytes(13).toString('hex');

/** A field sent as null is cleared, as Google's patch semantics have it. */
function withoutNulls<T extends object>(event: T): T {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== null)) as T;
}

function missing(field: string): never {
  throw new HttpFailure(400, `Missing ${field}`, 'required');
}

function eventTime(value: unknown, field: string): EventTime {
  const time = value as { dateTime?: unknown; date?: unknown; timeZone?: unknown } | null;
  if (time && typeof time.date === 'string' && /^\d{4}-\d\d-\d\d$/.test(time.date))
    return { date: time.date };
  if (time && typeof time.dateTime === 'string') {
    const hasOffset = /(Z|[+-]\d\d:\d\d)$/.test(time.dateTime);
    const zone = typeof time.timeZone === 'string' ? time.timeZone : undefined;
    if (!hasOffset && !zone)
      throw new HttpFailure(400, 'Missing time zone definition for start time.', 'required');
    if (Number.isNaN(Date.parse(hasOffset ? time.dateTime : `${time.dateTime}Z`))) {
      throw new HttpFailure(400, 'Bad Request', 'badRequest');
    }
    // A wall time without an offset is read in its zone only approximately here: the adapter always
    // sends an offset (UTC instants), so the stand-in need not resolve zones for writes.
    return { dateTime: hasOffset ? time.dateTime : `${time.dateTime}Z`, ...(zone ? { timeZone: zone } : {}) };
  }
  throw new HttpFailure(400, `Invalid ${field}`, 'invalid');
}

type EventFields = Partial<Pick<GoogleEvent, (typeof WRITABLE_FIELDS)[number]>>;

function eventFields(body: Record<string, unknown>): EventFields {
  const fields: Record<string, unknown> = {};
  for (const name of WRITABLE_FIELDS) if (body[name] !== undefined) fields[name] = body[name];
  if (body.start !== undefined) fields.start = eventTime(body.start, 'start');
  if (body.end !== undefined) fields.end = eventTime(body.end, 'end');
  if (
    fields.start &&
    fields.end &&
    instantOf(fields.end as EventTime) < instantOf(fields.start as EventTime)
  ) {
    throw new HttpFailure(400, 'The specified time range is empty.', 'timeRangeEmpty');
  }
  if (Array.isArray(body.attendees)) {
    fields.attendees = body.attendees.map(
      (a: { email?: unknown; displayName?: unknown; responseStatus?: unknown }) => {
        if (typeof a?.email !== 'string') throw new HttpFailure(400, 'Missing attendee email.', 'required');
        return {
          email: a.email,
          ...(typeof a.displayName === 'string' ? { displayName: a.displayName } : {}),
          responseStatus: typeof a.responseStatus === 'string' ? a.responseStatus : 'needsAction',
        };
      },
    );
  }
  return fields as EventFields;
}
