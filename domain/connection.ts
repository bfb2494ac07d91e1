/**
 * The vocabulary of linked calendar accounts: which providers exist, the states a connection and
 * its calendars go through, and the directions sync can run in. Every other layer (zod schemas,
 * entities, the workflow, SQL CHECK constraints) reads these lists; a test compares them with the
 * database.
 */

export const PROVIDER_KINDS = ['google', 'microsoft', 'icloud', 'caldav', 'ics'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Providers linked by OAuth consent (no password): they start `pending_authorization`. */
export const OAUTH_PROVIDER_KINDS = ['google', 'microsoft'] as const;
export type OAuthProviderKind = (typeof OAUTH_PROVIDER_KINDS)[number];
export const isOAuthProvider = (kind: string): kind is OAuthProviderKind =>
  (OAUTH_PROVIDER_KINDS as readonly string[]).includes(kind);

/** Why a user was sent to consent: a new link, or a reconnect of a grant that stopped working. */
export const OAUTH_STATE_PURPOSES = ['link', 'reconnect'] as const;
export type OAuthStatePurpose = (typeof OAUTH_STATE_PURPOSES)[number];

/** both (the default): changes flow each way; inbound: provider → app only; outbound: app → provider only. */
export const SYNC_DIRECTIONS = ['both', 'inbound', 'outbound'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];

/** One calendar's import, as the user watches it: idle (not selected) → pending → importing → ready | error. */
export const IMPORT_STATUSES = ['idle', 'pending', 'importing', 'ready', 'error'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Whether an imported occurrence is firm or tentative (cancelled ones are never imported). */
export const IMPORTED_EVENT_STATUSES = ['confirmed', 'tentative'] as const;
export type ImportedEventStatus = (typeof IMPORTED_EVENT_STATUSES)[number];

/**
 * Why part of a calendar was not imported as the provider has it: an object that could not be
 * read, a series cut at the occurrence cap, a rule that cannot be expanded, a time zone that could
 * not be read (UTC was used), a value the database refused. The rest of the calendar imports; the user sees these beside the calendar.
 */
export const CALENDAR_WARNING_KINDS = [
  'unreadable',
  'truncated',
  'unexpandable',
  'time-zone',
  'rejected',
] as const;
export type CalendarWarningKind = (typeof CALENDAR_WARNING_KINDS)[number];

export interface CalendarWarning {
  /** The provider object it concerns; null for the calendar as a whole. */
  objectKey: string | null;
  kind: CalendarWarningKind;
  message: string;
}

/** Warnings kept per calendar: enough to act on, bounded whatever a provider sends. */
export const MAX_CALENDAR_WARNINGS = 50;
