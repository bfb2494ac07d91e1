import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type {
  CalendarWarning,
  ImportedEventStatus,
  ImportStatus,
  ProviderKind,
  SyncDirection,
} from '../../domain/connection.ts';
import type { ConnectionStatus } from '../../domain/connection-status.ts';

/** One linked provider account. `credentials` is AES-256-GCM ciphertext (platform/crypto.ts). */
export const CalendarConnection = defineEntity({
  name: 'CalendarConnection',
  tableName: 'calendar_connections',
  properties: {
    id: p.uuid().primary(),
    userId: p.string(),
    provider: p.string().$type<ProviderKind>(),
    accountEmail: p.string().nullable(),
    accountIdentity: p.string(),
    serverUrl: p.string().nullable(),
    status: p.string().$type<ConnectionStatus>(),
    statusReason: p.string().nullable(),
    syncDirection: p.string().$type<SyncDirection>().default('both'),
    credentials: p.blob().nullable().lazy(),
    credentialsVersion: p.integer().default(1),
    workflowId: p.string(),
    lastSyncAt: p.datetime().nullable(),
    /** When the poll loop next asks the provider (watched polls only; null when the run polls itself). */
    nextPollAt: p.datetime().nullable(),
    /** The interval of those polls, as the connection's run was started with it. */
    pollSeconds: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    version: p.integer().version(),
  },
});

/** A calendar of a connection, with the user's toggles, its import status and its sync cursor. */
export const ProviderCalendar = defineEntity({
  name: 'ProviderCalendar',
  tableName: 'provider_calendars',
  properties: {
    id: p.uuid().primary(),
    connectionId: p.uuid(),
    userId: p.string(),
    externalId: p.string(),
    name: p.string(),
    color: p.string().nullable(),
    readOnly: p.boolean().default(false),
    providerPrimary: p.boolean().default(false),
    importForAvailability: p.boolean().default(false),
    isPrimary: p.boolean().default(false),
    importStatus: p.string().$type<ImportStatus>().default('idle'),
    error: p.string().nullable(),
    warnings: p.json<CalendarWarning[]>().onCreate(() => []),
    eventCount: p.integer().default(0),
    lastSyncedAt: p.datetime().nullable(),
    syncCursor: p.json<Record<string, unknown>>().nullable(),
    fullSyncGeneration: p.integer().default(0),
    windowStart: p.datetime().nullable(),
    windowEnd: p.datetime().nullable(),
    removedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

/** A busy (or free) block imported from a provider calendar; `during` is a generated tstzrange. */
export const ImportedEvent = defineEntity({
  name: 'ImportedEvent',
  tableName: 'imported_events',
  properties: {
    id: p.uuid().primary(),
    calendarId: p.uuid(),
    userId: p.string(),
    objectKey: p.string(),
    occurrenceKey: p.string(),
    uid: p.string(),
    startAt: p.datetime(),
    endAt: p.datetime(),
    allDay: p.boolean(),
    busy: p.boolean(),
    status: p.string().$type<ImportedEventStatus>(),
    title: p.string().nullable(),
    updatedAt: p.datetime(),
  },
});

export type CalendarConnectionRow = InferEntity<typeof CalendarConnection>;
export type ProviderCalendarRow = InferEntity<typeof ProviderCalendar>;
