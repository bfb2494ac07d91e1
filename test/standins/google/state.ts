/**
 * What the stand-in stores: accounts, their calendars and events, and the change sequence that
 * sync tokens point into. Every write (seeded or through the API) takes the next change number, so
 * an incremental listing is "what changed after the token's number". Deleted events stay as
 * cancelled tombstones (their ids stay taken), and instances a series loses when it is rewritten or
 * deleted are kept as tombstones too, as Google reports them to a `singleEvents` sync.
 */
import { randomBytes } from 'node:crypto';
import type { TimeWindow } from '../../../domain/calendar.ts';
import { type EventTime, expandInstances, type Instance, instantOf } from './times.ts';

/** An event as the Calendar API returns it (the fields the stand-in keeps). */
export interface GoogleEvent {
  kind: 'calendar#event';
  id: string;
  etag: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  transparency?: 'opaque' | 'transparent';
  recurrence?: string[];
  iCalUID: string;
  sequence: number;
  organizer?: { email: string; displayName?: string; self?: boolean };
  attendees?: { email: string; displayName?: string; responseStatus: string }[];
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  recurringEventId?: string;
  originalStartTime?: EventTime;
}

/** What `listEvents` shows: the stored resource and the `sendUpdates` of its last API write. */
export type StoredGoogleEvent = GoogleEvent & { sendUpdates: string | null };

export type AccessRole = 'owner' | 'writer' | 'reader' | 'freeBusyReader';

export type EventFields = Omit<
  GoogleEvent,
  'kind' | 'etag' | 'htmlLink' | 'created' | 'updated' | 'iCalUID' | 'sequence'
> & { sequence?: number; iCalUID?: string };

export interface CalendarState {
  id: string;
  summary: string;
  accessRole: AccessRole;
  primary: boolean;
  backgroundColor: string;
  events: Map<string, { event: GoogleEvent; seq: number; sendUpdates: string | null }>;
  /** Instances a rewritten or deleted series no longer has, by instance id. */
  lostInstances: Map<string, { event: GoogleEvent; seq: number }>;
}

export interface Account {
  sub: string;
  email: string;
  calendars: Map<string, CalendarState>;
}

/** A series' instances are reported this far ahead of now (Google bounds its expansion too). */
const SERIES_HORIZON_MS = 2 * 366 * 86_400_000;
const COLORS = ['#9fe1e7', '#7bd148', '#f83a22', '#fad165'];

/** An id in Google's alphabet (base32hex, lower case). */
export const newEventId = () => [...randomBytes(16)].map((b) => (b % 32).toString(32)).join('');

export class CalendarStore {
  readonly accounts = new Map<string, Account>();
  private seq = 0;
  private readonly listeners: ((email: string, calendarId: string) => void)[] = [];

  /** The current change number: a sync token issued now covers everything up to it. */
  get sequence(): number {
    return this.seq;
  }

  onChange(listener: (email: string, calendarId: string) => void): void {
    this.listeners.push(listener);
  }

  addAccount(input: {
    email: string;
    calendars?: { id?: string; summary: string; accessRole?: AccessRole; primary?: boolean }[];
  }): Account {
    const email = input.email.toLowerCase();
    if (this.accounts.has(email)) throw new Error(`Account ${email} exists`);
    // Google subjects are 21-digit decimal strings.
    const sub = String(100_000_000_000_000_000_000n + BigInt(`0x${randomBytes(8).toString('hex')}`));
    const specs = input.calendars ?? [{ id: email, summary: email, accessRole: 'owner', primary: true }];
    const calendars = new Map<string, CalendarState>();
    specs.forEach((spec, index) => {
      const id = spec.id ?? (spec.primary ? email : `${newEventId()}@group.calendar.google.com`);
      calendars.set(id, {
        id,
        summary: spec.summary,
        accessRole: spec.accessRole ?? 'owner',
        primary: spec.primary ?? false,
        backgroundColor: COLORS[index % COLORS.length] ?? '#9fe1e7',
        events: new Map(),
        lostInstances: new Map(),
      });
    });
    const account = { sub, email, calendars };
    this.accounts.set(email, account);
    return account;
  }

  account(email: string): Account {
    const account = this.accounts.get(email.toLowerCase());
    if (!account) throw new Error(`No account ${email}`);
    return account;
  }

  /** The account's calendar by id, `primary` included; null when it has none by that id. */
  calendar(email: string, calendarId: string): CalendarState | null {
    const account = this.account(email);
    if (calendarId === 'primary') return [...account.calendars.values()].find((c) => c.primary) ?? null;
    return account.calendars.get(calendarId) ?? null;
  }

  /** Creates or replaces an event: a new etag, `updated` and change number. */
  write(
    email: string,
    calendar: CalendarState,
    fields: EventFields,
    sendUpdates: string | null,
  ): GoogleEvent {
    const previous = calendar.events.get(fields.id);
    const seq = ++this.seq;
    const now = new Date().toISOString();
    const event: GoogleEvent = {
      ...fields,
      kind: 'calendar#event',
      etag: `"${Date.now()}${String(seq).padStart(6, '0')}"`,
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${fields.id} ${calendar.id}`).toString('base64url')}`,
      created: previous?.event.created ?? now,
      updated: now,
      iCalUID: fields.iCalUID ?? previous?.event.iCalUID ?? `${fields.id}@google.com`,
      sequence: fields.sequence ?? previous?.event.sequence ?? 0,
    };
    if (previous?.event.recurrence || event.recurrence) {
      this.recordLostInstances(calendar, previous?.event ?? null, event, seq);
    }
    calendar.events.set(event.id, { event, seq, sendUpdates });
    for (const listener of this.listeners) listener(email, calendar.id);
    return event;
  }

  /** The event becomes a cancelled tombstone (what an incremental sync reports). */
  cancel(email: string, calendar: CalendarState, id: string): void {
    const stored = calendar.events.get(id);
    if (!stored || stored.event.status === 'cancelled') throw new Error(`No event ${id}`);
    this.write(email, calendar, { ...stored.event, status: 'cancelled' }, stored.sendUpdates);
  }

  /**
   * A series' instances as the API lists them with `singleEvents`: within `range`, else from the
   * series' start to the horizon an incremental sync reports.
   */
  instancesOf(series: GoogleEvent, range?: TimeWindow): GoogleEvent[] {
    const { recurrence: _recurrence, ...fields } = series;
    return this.expand(series, range).map((instance) => ({
      ...fields,
      ...instance,
      recurringEventId: series.id,
    }));
  }

  private expand(series: GoogleEvent, range?: TimeWindow): Instance[] {
    if (!series.recurrence) return [];
    const from = instantOf(series.start);
    return expandInstances(
      { id: series.id, start: series.start, end: series.end, recurrence: series.recurrence },
      range ?? { start: new Date(from), end: new Date(Math.max(Date.now(), from) + SERIES_HORIZON_MS) },
    );
  }

  private recordLostInstances(
    calendar: CalendarState,
    before: GoogleEvent | null,
    after: GoogleEvent,
    seq: number,
  ): void {
    const kept = new Set(after.status === 'cancelled' ? [] : this.expand(after).map((i) => i.id));
    // An instance the series has again is no longer lost.
    for (const id of kept) calendar.lostInstances.delete(id);
    if (!before) return;
    for (const instance of this.expand(before)) {
      if (kept.has(instance.id)) continue;
      calendar.lostInstances.set(instance.id, {
        seq,
        event: {
          ...before,
          ...instance,
          status: 'cancelled',
          recurringEventId: before.id,
        },
      });
    }
  }
}
