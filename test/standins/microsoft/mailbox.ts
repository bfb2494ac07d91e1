/**
 * The stand-in's data: accounts (Entra users with an Exchange mailbox), their calendars and events,
 * and the change log calendarView delta reads. Events keep instants; they are written out in Graph's
 * `dateTimeTimeZone` shape on the way out (graph.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';

/** The Windows names the stand-in knows how to seed, with the IANA zone that drives their clock. */
export const WINDOWS_ZONES: Record<string, string> = {
  'W. Europe Standard Time': 'Europe/Berlin',
  'GMT Standard Time': 'Europe/London',
  'Pacific Standard Time': 'America/Los_Angeles',
  'Eastern Standard Time': 'America/New_York',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'India Standard Time': 'Asia/Kolkata',
  UTC: 'UTC',
};

export type ShowAs = 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';

export interface GraphEventSeed {
  id?: string;
  /** Graph's iCalendar UID of the event; generated when absent. */
  iCalUId?: string;
  subject?: string;
  start: Date;
  end: Date;
  isAllDay?: boolean;
  showAs?: ShowAs;
  isCancelled?: boolean;
  /** The event's own zone, reported when the client does not ask for UTC (e.g. a Windows name). */
  timeZone?: string;
}

/** An event as the stand-in holds it: what was written, in Graph's own field names. */
export interface StoredGraphEvent {
  id: string;
  iCalUId: string;
  changeKey: string;
  calendarId: string;
  subject: string;
  body: { contentType: string; content: string };
  start: Date;
  end: Date;
  timeZone: string;
  isAllDay: boolean;
  showAs: ShowAs;
  isCancelled: boolean;
  location: { displayName: string } | null;
  attendees: unknown[];
  transactionId: string | null;
  singleValueExtendedProperties: { id: string; value: string }[];
  createdDateTime: string;
  lastModifiedDateTime: string;
  /** Position in the calendar's change log. */
  seq: number;
}

export interface Calendar {
  id: string;
  name: string;
  canEdit: boolean;
  isDefaultCalendar: boolean;
  color: string;
  events: Map<string, StoredGraphEvent>;
  /** Deleted event ids with the change-log position of their deletion. */
  tombstones: Map<string, number>;
  seq: number;
}

export interface Account {
  oid: string;
  tid: string;
  email: string;
  displayName: string;
  calendars: Map<string, Calendar>;
}

/** Graph ids are long base64 strings, '=' and '-' included: the adapter must escape them in paths. */
export const graphId = (prefix: string) =>
  `${prefix}${randomBytes(30).toString('base64').replace(/\//g, '_').replace(/\+/g, '-')}`;

const changeKey = () => randomBytes(12).toString('base64');

export function zoneClock(name: string): string {
  const mapped = WINDOWS_ZONES[name] ?? name;
  if (!IANAZone.isValidZone(mapped)) throw new Error(`The stand-in cannot keep time in zone ${name}`);
  return mapped;
}

/** Graph's wall-clock form: seven fractional digits, no offset. */
export function wallTime(instant: Date, zone: string): string {
  return `${DateTime.fromJSDate(instant, { zone: zoneClock(zone) }).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS")}0000`;
}

/** A `dateTimeTimeZone` a client sent, as an instant; null when unreadable. */
export function readWallTime(value: unknown): { instant: Date; zone: string } | null {
  const { dateTime, timeZone } = (value ?? {}) as { dateTime?: unknown; timeZone?: unknown };
  if (typeof dateTime !== 'string') return null;
  const zone = typeof timeZone === 'string' && timeZone !== '' ? timeZone : 'UTC';
  let clock: string;
  try {
    clock = zoneClock(zone);
  } catch {
    return null;
  }
  const parsed = DateTime.fromISO(dateTime.replace(/(\.\d{3})\d+$/, '$1'), { zone: clock });
  return parsed.isValid ? { instant: parsed.toJSDate(), zone } : null;
}

export class Mailboxes {
  readonly accounts = new Map<string, Account>();
  readonly tenantId = randomUUID();

  add(input: {
    email: string;
    calendars?: { id?: string; name: string; canEdit?: boolean; isDefaultCalendar?: boolean }[];
  }): Account {
    const email = input.email.toLowerCase();
    if (this.byEmail(email)) throw new Error(`Account ${email} exists already`);
    const account: Account = {
      oid: randomUUID(),
      tid: this.tenantId,
      email,
      displayName: email.split('@')[0] ?? email,
      calendars: new Map(),
    };
    const calendars = input.calendars ?? [{ name: 'Calendar', canEdit: true, isDefaultCalendar: true }];
    for (const [index, spec] of calendars.entries()) {
      const calendar: Calendar = {
        id: spec.id ?? graphId('AAMkAGI2TG93AAA='),
        name: spec.name,
        canEdit: spec.canEdit ?? true,
        isDefaultCalendar: spec.isDefaultCalendar ?? index === 0,
        color: index === 0 ? 'auto' : 'lightBlue',
        events: new Map(),
        tombstones: new Map(),
        seq: 0,
      };
      account.calendars.set(calendar.id, calendar);
    }
    this.accounts.set(account.oid, account);
    return account;
  }

  byEmail(email: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.email === email.toLowerCase());
  }

  mustByEmail(email: string): Account {
    const account = this.byEmail(email);
    if (!account) throw new Error(`No stand-in account ${email}`);
    return account;
  }

  calendar(account: Account, calendarId: string): Calendar {
    const calendar = account.calendars.get(calendarId);
    if (!calendar) throw new Error(`No calendar ${calendarId} for ${account.email}`);
    return calendar;
  }

  /** Finds an event by id across the account's calendars (Graph's /me/events/{id}). */
  findEvent(account: Account, eventId: string): { calendar: Calendar; event: StoredGraphEvent } | null {
    for (const calendar of account.calendars.values()) {
      const event = calendar.events.get(eventId);
      if (event) return { calendar, event };
    }
    return null;
  }

  /** Creates or replaces an event, recording the change. */
  put(
    calendar: Calendar,
    fields: Omit<
      StoredGraphEvent,
      'changeKey' | 'seq' | 'createdDateTime' | 'lastModifiedDateTime' | 'calendarId'
    >,
  ): StoredGraphEvent {
    const now = new Date().toISOString();
    const previous = calendar.events.get(fields.id);
    const event: StoredGraphEvent = {
      ...fields,
      calendarId: calendar.id,
      changeKey: changeKey(),
      seq: ++calendar.seq,
      createdDateTime: previous?.createdDateTime ?? now,
      lastModifiedDateTime: now,
    };
    calendar.tombstones.delete(event.id);
    calendar.events.set(event.id, event);
    return event;
  }

  remove(calendar: Calendar, eventId: string): boolean {
    if (!calendar.events.delete(eventId)) return false;
    calendar.tombstones.set(eventId, ++calendar.seq);
    return true;
  }

  fromSeed(calendar: Calendar, seed: GraphEventSeed): StoredGraphEvent {
    const existing = seed.id ? calendar.events.get(seed.id) : undefined;
    return this.put(calendar, {
      id: seed.id ?? graphId('AAMkAGI2THVSAAA='),
      iCalUId:
        seed.iCalUId ??
        existing?.iCalUId ??
        `040000008200E00074C5B7101A82E008${randomBytes(16).toString('hex')}`,
      subject: seed.subject ?? '',
      body: { contentType: 'text', content: '' },
      start: seed.start,
      end: seed.end,
      timeZone: seed.timeZone ?? 'UTC',
      isAllDay: seed.isAllDay ?? false,
      showAs: seed.showAs ?? 'busy',
      isCancelled: seed.isCancelled ?? false,
      location: null,
      attendees: [],
      transactionId: existing?.transactionId ?? null,
      singleValueExtendedProperties: existing?.singleValueExtendedProperties ?? [],
    });
  }
}
