/**
 * A connection's calendar rows: what the provider lists, and what the user selected. Linking,
 * rediscovery and Save all change `provider_calendars` through here.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProviderCalendarRow } from '../db/entities/connection.ts';
import { ProviderCalendar } from '../db/entities/index.ts';
import { pgArray, pgText } from '../db/sql.ts';
import type { ProviderCalendar as ListedCalendar } from '../providers/contract.ts';
import { purgeCalendar } from './imported-events.ts';

/** Calendars kept per linked account: far above any real account, bounded against a hostile server. */
export const MAX_CALENDARS_PER_ACCOUNT = 200;

/**
 * Records a provider's listing of the account's calendars: new ones appear (not selected), known
 * ones take the provider's current name, colour and access, and vanished ones are dropped with
 * their imported busy time. A calendar that became read-only stops being the primary.
 */
export async function recordCalendarListing(
  em: EntityManager,
  connection: { id: string; userId: string },
  listed: readonly ListedCalendar[],
): Promise<void> {
  const existing = await em.find(ProviderCalendar, { connectionId: connection.id });
  const byExternal = new Map(existing.map((c) => [c.externalId, c]));
  for (const cal of cleanListing(listed)) {
    const row = byExternal.get(cal.externalId);
    if (row) {
      row.name = cal.name;
      row.color = cal.color;
      row.readOnly = cal.readOnly;
      row.providerPrimary = cal.providerPrimary;
      row.removedAt = null;
      if (row.readOnly) row.isPrimary = false;
    } else {
      em.create(ProviderCalendar, {
        id: randomUUID(),
        connectionId: connection.id,
        userId: connection.userId,
        externalId: cal.externalId,
        name: cal.name,
        color: cal.color,
        readOnly: cal.readOnly,
        providerPrimary: cal.providerPrimary,
      });
    }
  }
  const listedIds = new Set(cleanListing(listed).map((c) => c.externalId));
  const vanished = existing.filter((c) => !listedIds.has(c.externalId) && !c.removedAt);
  for (const row of vanished) {
    row.removedAt = new Date();
    row.isPrimary = false;
    row.importForAvailability = false;
    row.importStatus = 'idle';
  }
  await em.flush();
  for (const row of vanished) await purgeCalendar(em, row.id);
}

/**
 * At most MAX_CALENDARS_PER_ACCOUNT calendars, their text storable: a hostile server may list
 * thousands, or names with NUL bytes.
 */
function cleanListing(listed: readonly ListedCalendar[]): ListedCalendar[] {
  return listed.slice(0, MAX_CALENDARS_PER_ACCOUNT).map((cal) => ({
    ...cal,
    externalId: pgText(cal.externalId),
    name: pgText(cal.name).slice(0, 500),
    color: cal.color === null ? null : pgText(cal.color).slice(0, 50),
  }));
}

/** The connection's calendars that still exist on the provider. */
export function liveCalendars(em: EntityManager, connectionId: string): Promise<ProviderCalendarRow[]> {
  return em.find(ProviderCalendar, { connectionId, removedAt: null });
}

export interface CalendarSelection {
  calendars: { id: string; importForAvailability: boolean }[];
  /** undefined: leave the primary as it is; null: this user has no primary calendar. */
  primaryCalendarId?: string | null | undefined;
}

/**
 * Applies a validated selection inside the caller's transaction. A calendar turned on waits for
 * its import (`pending`); one turned off loses its imported busy time at once, not at the next
 * pass. Returns whether any calendar of the connection now counts for availability.
 */
export async function applyCalendarSelection(
  tx: EntityManager,
  userId: string,
  calendars: ProviderCalendarRow[],
  selection: CalendarSelection,
): Promise<boolean> {
  const byId = new Map(calendars.map((cal) => [cal.id, cal]));
  const turnedOff: string[] = [];
  for (const entry of selection.calendars) {
    const cal = byId.get(entry.id)!;
    if (entry.importForAvailability && !cal.importForAvailability) {
      cal.importForAvailability = true;
      cal.importStatus = 'pending';
      cal.error = null;
    } else if (!entry.importForAvailability && cal.importForAvailability) {
      cal.importForAvailability = false;
      cal.importStatus = 'idle';
      cal.eventCount = 0;
      turnedOff.push(cal.id);
    }
  }
  if (selection.primaryCalendarId !== undefined) {
    // At most one primary per user, across all connections (a partial unique index backs this).
    await tx.nativeUpdate(ProviderCalendar, { userId, isPrimary: true }, { isPrimary: false });
    await tx.flush();
    for (const cal of calendars) cal.isPrimary = cal.id === selection.primaryCalendarId;
  }
  if (turnedOff.length) {
    await tx.execute('delete from imported_events where calendar_id = any(?::uuid[])', [pgArray(turnedOff)]);
  }
  await tx.flush();
  return calendars.some((cal) => cal.importForAvailability);
}
