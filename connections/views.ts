/**
 * What a user sees of their connections and imported events: plain objects the API serialises
 * and the web pages render. Reads only; a page of connections costs two queries however long it is.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CalendarConnectionRow } from '../db/entities/connection.ts';
import { CalendarConnection, ProviderCalendar } from '../db/entities/index.ts';
import type {
  CalendarWarning,
  ImportedEventStatus,
  ImportStatus,
  ProviderKind,
  SyncDirection,
} from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import { notFound } from '../domain/errors.ts';

export interface CalendarView {
  id: string;
  name: string;
  color: string | null;
  readOnly: boolean;
  importForAvailability: boolean;
  isPrimary: boolean;
  importStatus: ImportStatus;
  lastSyncedAt: string | null;
  eventCount: number;
  error: string | null;
  /** What the last syncs skipped or imported in part, and why; the rest of the calendar imports. */
  warnings: CalendarWarning[];
}

export interface ConnectionView {
  id: string;
  provider: ProviderKind;
  accountEmail: string | null;
  status: ConnectionStatus;
  statusReason: string | null;
  syncDirection: SyncDirection;
  calendars: CalendarView[];
  lastSyncAt: string | null;
  createdAt: string;
  workflowId: string;
}

export interface ImportedEventView {
  id: string;
  calendarId: string;
  start: string;
  end: string;
  allDay: boolean;
  busy: boolean;
  status: ImportedEventStatus;
  title?: string;
}

/** A page of a list: `next` is where the following page starts, null on the last one. */
export interface Page<T, After> {
  items: T[];
  next: After | null;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The caller's connection, or 404 — also for another user's id, so ids reveal nothing. */
export async function findOwnedConnection(
  em: EntityManager,
  userId: string,
  connectionId: string,
): Promise<CalendarConnectionRow> {
  const connection = await em.findOne(CalendarConnection, { id: connectionId, userId });
  if (!connection) throw notFound('Connection');
  return connection;
}

/** Views of connections, with their calendars read in one query however many there are. */
export async function connectionViews(
  em: EntityManager,
  connections: CalendarConnectionRow[],
): Promise<ConnectionView[]> {
  const calendars = connections.length
    ? await em.find(
        ProviderCalendar,
        { connectionId: { $in: connections.map((c) => c.id) }, removedAt: null },
        { orderBy: { name: 'asc', id: 'asc' } },
      )
    : [];
  return connections.map((c) => ({
    id: c.id,
    provider: c.provider,
    accountEmail: c.accountEmail ?? null,
    status: c.status,
    statusReason: c.statusReason ?? null,
    syncDirection: c.syncDirection,
    calendars: calendars
      .filter((cal) => cal.connectionId === c.id)
      .map((cal) => ({
        id: cal.id,
        name: cal.name,
        color: cal.color ?? null,
        readOnly: cal.readOnly,
        importForAvailability: cal.importForAvailability,
        isPrimary: cal.isPrimary,
        importStatus: cal.importStatus,
        lastSyncedAt: iso(cal.lastSyncedAt),
        eventCount: cal.eventCount,
        error: cal.error ?? null,
        warnings: cal.warnings ?? [],
      })),
    lastSyncAt: iso(c.lastSyncAt),
    createdAt: c.createdAt.toISOString(),
    workflowId: c.workflowId,
  }));
}

/** The current view of one connection, read afresh (commands call this after they commit). */
export async function connectionView(em: EntityManager, connectionId: string): Promise<ConnectionView> {
  em.clear();
  const connection = await em.findOneOrFail(CalendarConnection, { id: connectionId });
  const [view] = await connectionViews(em, [connection]);
  return view!;
}

/** The user's connections that are not removed, oldest first (the Calendars page; capped). */
export async function currentConnectionViews(
  em: EntityManager,
  userId: string,
  limit = 200,
): Promise<ConnectionView[]> {
  const rows = await em.find(
    CalendarConnection,
    { userId, status: { $ne: 'removed' } },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit },
  );
  return connectionViews(em, rows);
}

/** The user's primary calendar when another connection holds it (saving this one must not drop it). */
export async function primaryCalendarElsewhere(em: EntityManager, userId: string, connectionId: string) {
  return em.findOne(ProviderCalendar, {
    userId,
    isPrimary: true,
    removedAt: null,
    connectionId: { $ne: connectionId },
  });
}

export interface ConnectionsAfter {
  createdAt: string;
  id: string;
}

/** The user's connections, newest first. */
export async function listConnections(
  em: EntityManager,
  userId: string,
  page: { limit: number; after: ConnectionsAfter | null },
): Promise<Page<ConnectionView, ConnectionsAfter>> {
  const { limit, after } = page;
  const rows = await em.find(
    CalendarConnection,
    {
      userId,
      ...(after
        ? {
            $or: [
              { createdAt: { $lt: new Date(after.createdAt) } },
              { createdAt: new Date(after.createdAt), id: { $lt: after.id } },
            ],
          }
        : {}),
    },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit + 1 },
  );
  const items = await connectionViews(em, rows.slice(0, limit));
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { items, next: last ? { createdAt: last.createdAt.toISOString(), id: last.id } : null };
}

export interface EventsAfter {
  start: string;
  id: string;
}

export interface EventsQuery {
  from: Date;
  to: Date;
  calendarId?: string | undefined;
  limit: number;
  after: EventsAfter | null;
}

/** Events imported through the connection that overlap [from, to), by start time. */
export async function listImportedEvents(
  em: EntityManager,
  connection: { id: string; userId: string },
  query: EventsQuery,
): Promise<Page<ImportedEventView, EventsAfter>> {
  const { from, to, calendarId, limit, after } = query;
  const rows = await em.execute<
    {
      id: string;
      calendar_id: string;
      start_at: Date;
      end_at: Date;
      all_day: boolean;
      busy: boolean;
      status: ImportedEventStatus;
      title: string | null;
    }[]
  >(
    `select e.id, e.calendar_id, e.start_at, e.end_at, e.all_day, e.busy, e.status, e.title
       from imported_events e join provider_calendars pc on pc.id = e.calendar_id
      where pc.connection_id = ? and e.user_id = ? and e.during && tstzrange(?, ?, '[)')
        and (?::uuid is null or e.calendar_id = ?::uuid)
        and (?::timestamptz is null or (e.start_at, e.id) > (?::timestamptz, ?::uuid))
      order by e.start_at, e.id limit ?`,
    [
      connection.id,
      connection.userId,
      from,
      to,
      calendarId ?? null,
      calendarId ?? null,
      after?.start ?? null,
      after?.start ?? null,
      after?.id ?? null,
      limit + 1,
    ],
  );
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    calendarId: r.calendar_id,
    start: new Date(r.start_at).toISOString(),
    end: new Date(r.end_at).toISOString(),
    allDay: r.all_day,
    busy: r.busy,
    status: r.status,
    ...(r.title ? { title: r.title } : {}),
  }));
  const last = rows.length > limit ? items[items.length - 1] : undefined;
  return { items, next: last ? { start: last.start, id: last.id } : null };
}
