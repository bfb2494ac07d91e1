/**
 * The one interface every calendar provider implements (CalDAV/iCloud, ICS, and later Google and
 * Microsoft). The import engine (connections/import-engine.ts) only ever talks to this interface; a
 * new provider is a new folder under providers/ plus one line in registry.ts.
 */

import type { Occurrence, OutboundEvent, TimeWindow } from '../domain/calendar.ts';
import type { CalendarWarning, ProviderKind } from '../domain/connection.ts';
import type { GrantAccess } from './oauth.ts';
import type { Outbound } from './outbound/context.ts';

/** What the adapter learns when it verifies access. */
export interface AccountInfo {
  /** The account's e-mail / login, shown to the user as `accountEmail`. */
  accountEmail: string | null;
}

/** A calendar as the provider lists it. `externalId` is stable across listings (CalDAV: collection URL). */
export interface ProviderCalendar {
  externalId: string;
  name: string;
  color: string | null;
  readOnly: boolean;
  /** The provider's own notion of a primary/default calendar (not our `isPrimary`). */
  providerPrimary: boolean;
}

/**
 * One provider-side object (CalDAV resource, ICS VEVENT group by UID, Google event, Graph event) and
 * the occurrences it yields inside the window. An object whose occurrences are all outside the window
 * (or all cancelled) has `occurrences: []`, which means "none of it is imported".
 */
export interface SourceObject {
  /** Stable key of the provider object (CalDAV: resource href; ICS: UID). */
  key: string;
  /** Version tag used to skip unchanged objects on a later full listing (CalDAV ETag); null if none. */
  etag: string | null;
  occurrences: Occurrence[];
  /** Why this object imported in part or not at all (unreadable, truncated, ...); none when whole. */
  warnings?: Omit<CalendarWarning, 'objectKey'>[];
}

/**
 * Opaque, JSON-serialisable, provider-owned sync position (sync-token, ctag, feed ETag, page token...).
 * One convention the consumer relies on: a cursor stored in the middle of a full listing has
 * `phase: 'full'`, so a restart resumes that listing instead of starting a new one.
 */
export type SyncCursor = Record<string, unknown>;

/**
 * One page of changes. The consumer applies `upserts`/`removed`, marks `unchanged` keys as still
 * present, then stores `cursor`. For a full sync (`full: true`) the consumer deletes, once a page
 * says `complete: true`, every object it holds for the calendar that no page of this full sync
 * mentioned (upserted or unchanged).
 */
export interface ChangePage {
  full: boolean;
  upserts: SourceObject[];
  /** Keys known to exist and unchanged (same etag as `known`); only meaningful in a full sync. */
  unchanged: string[];
  /** Keys deleted on the provider (incremental sync). */
  removed: string[];
  /** Cursor to store once this page is applied; resuming with it continues after this page. */
  cursor: SyncCursor;
  /** True on the last page: after it the calendar is in sync as of `cursor`. */
  complete: boolean;
  /**
   * Calendar-wide warnings (objectKey null), or ones about objects this page does not upsert. A
   * complete full listing replaces the calendar-wide warnings held with these (none when absent)...
   */
  warnings?: CalendarWarning[];
  /**
   * ...unless the provider answered that nothing changed since the cursor (ICS: a 304): the listing
   * is then the last one again, every known object is `unchanged`, and the warnings held stay.
   */
  notModified?: boolean;
}

export interface FetchChangesInput {
  calendar: { externalId: string };
  window: TimeWindow;
  /** null → full sync from scratch. A cursor from an unfinished full sync resumes that full sync. */
  cursor: SyncCursor | null;
  /** ETags the consumer already holds, by object key, so a full listing can skip unchanged objects. */
  known: ReadonlyMap<string, string | null>;
  /**
   * The calendar owner's IANA time zone: iCalendar floating times (no TZID, no "Z") are read in it
   * when the calendar names no zone of its own. Absent: UTC.
   */
  ownerTimeZone?: string;
}

/** Where an event we wrote lives on the provider, enough to update or delete it. */
export interface EventRef {
  /** Provider identity (CalDAV: resource href; Google: event id; Graph: event id). */
  externalId: string;
  etag: string | null;
}

export interface PushChannel {
  channelId: string;
  resourceId: string | null;
  expiresAt: Date;
}

export interface CalendarProvider {
  readonly kind: ProviderKind;
  /** Checks the credentials and reachability. Throws CredentialsRejectedError / ProviderUnreachableError. */
  verifyAccess(): Promise<AccountInfo>;
  listCalendars(): Promise<ProviderCalendar[]>;
  /** Yields pages of changes since `cursor`; throws CursorExpiredError when the cursor is no longer valid. */
  fetchChanges(input: FetchChangesInput): AsyncIterable<ChangePage>;
  /**
   * A poll's cheap question, for providers that can answer it from validators (ICS: a conditional
   * GET answered 304): is the calendar unchanged since `cursor`, listed for this same `window`?
   * Returns the cursor to store when it certainly is; null when it changed or cannot tell (a
   * regular fetchChanges then follows). Throws like fetchChanges.
   */
  unchangedSince?(input: {
    calendar: { externalId: string };
    window: TimeWindow;
    cursor: SyncCursor;
  }): Promise<SyncCursor | null>;
  /** Idempotent: a second call with the same `event.id` returns the first event, never a duplicate. */
  createEvent(calendar: { externalId: string }, event: OutboundEvent): Promise<EventRef>;
  updateEvent(calendar: { externalId: string }, ref: EventRef, event: OutboundEvent): Promise<EventRef>;
  /** Deleting an event that is already gone succeeds. */
  deleteEvent(calendar: { externalId: string }, ref: EventRef): Promise<void>;
  /** Present only for providers with push notifications (Google, Microsoft). */
  push?: {
    subscribe(
      calendar: { externalId: string },
      channel: { address: string; token: string },
    ): Promise<PushChannel>;
    /**
     * Extends the channel before it expires, or replaces it (Google never extends a channel: it is
     * watched anew at the same address, and the old one stopped). Same address and secret as subscribe.
     */
    renew(
      calendar: { externalId: string },
      channel: PushChannel,
      subscription: { address: string; token: string },
    ): Promise<PushChannel>;
    stop(channel: PushChannel): Promise<void>;
  };
}

/** What an adapter is built from: the stored connection with its credentials decrypted. */
export interface ProviderConnection {
  provider: ProviderKind;
  /** CalDAV: server root or discovery URL; iCloud: ICLOUD_CALDAV_URL; ICS: the feed URL. */
  serverUrl: string | null;
  /** Decrypted secrets: `{ username, password }` for CalDAV/iCloud, `{ url }` for ICS, tokens for OAuth. */
  credentials: Record<string, unknown>;
  /** OAuth providers: the access token, refreshed on demand (connections/grants.ts). */
  grant?: GrantAccess;
}

/** Environment an adapter runs in; tests point URLs at local servers. */
export interface ProviderContext {
  /** Per-request timeout in milliseconds. */
  requestTimeoutMs: number;
  /** User-Agent sent to providers. */
  userAgent: string;
  /**
   * How user-supplied URLs are reached: destination policy and body caps (providers/outbound/).
   * Absent only where adapters are built without configuration (tests, benchmarks): no policy.
   */
  outbound?: Outbound;
  /** Operator-configured API base URLs (trusted origins): GOOGLE_API_URL, MICROSOFT_GRAPH_URL. */
  apiUrls?: { google: string; microsoftGraph: string };
}
