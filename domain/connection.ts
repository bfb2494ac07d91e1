/**
 * The vocabulary of linked calendar accounts: which providers exist, the states a connection and
 * its calendars go through, and the directions sync can run in. Every other layer (zod schemas,
 * entities, the workflow, SQL CHECK constraints) reads these lists; a test compares them with the
 * database.
 */

export const PROVIDER_KINDS = ['google', 'microsoft', 'icloud', 'caldav', 'ics'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** both (the default): changes flow each way; inbound: provider → app only; outbound: app → provider only. */
export const SYNC_DIRECTIONS = ['both', 'inbound', 'outbound'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];

/** One calendar's import, as the user watches it: idle (not selected) → pending → importing → ready | error. */
export const IMPORT_STATUSES = ['idle', 'pending', 'importing', 'ready', 'error'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Whether an imported occurrence is firm or tentative (cancelled ones are never imported). */
export const IMPORTED_EVENT_STATUSES = ['confirmed', 'tentative'] as const;
export type ImportedEventStatus = (typeof IMPORTED_EVENT_STATUSES)[number];
