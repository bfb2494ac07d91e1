/**
 * Activities of the connection workflow (workflows/connection.ts). Each is idempotent: it reads
 * the connection from PostgreSQL by id (never receiving a secret as an argument, invariant 5) and
 * can be retried after a crash without doing its work twice.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { openStoredProvider } from '../connections/credentials.ts';
import { type CalendarSyncResult, purgeCalendar, syncCalendar } from '../connections/import-engine.ts';
import { CalendarConnection, ProviderCalendar } from '../db/entities/index.ts';
import type { ProviderKind } from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import { providerModule } from '../providers/registry.ts';
import type { ActivityDeps } from './deps.ts';
import { createEmailActivities } from './email.ts';
import { providerCall } from './failures.ts';

export interface ConnectionSnapshot {
  exists: boolean;
  userId: string;
  provider: ProviderKind;
  status: ConnectionStatus;
  credentialsVersion: number;
  /** True once the user has saved a calendar selection (or the connection was already syncing). */
  selectionSaved: boolean;
  pollSeconds: number;
  heartbeatSeconds: number;
  /** Continue-as-new once the history has this many events. */
  historyLimit: number;
}

export interface SyncTarget {
  calendarId: string;
  name: string;
}

/** Statuses only the user's removal may leave. */
const terminal: ConnectionStatus[] = ['removing', 'removed'];

export function createConnectionActivities(deps: ActivityDeps) {
  const { orm, config } = deps;
  const email = createEmailActivities(deps);

  async function setStatus(
    connectionId: string,
    status: ConnectionStatus,
    reason: string | null,
  ): Promise<ConnectionStatus> {
    const em = orm.em.fork();
    // Never overwrite a removal in progress: the user's DELETE wins over a sync that finishes late.
    const rows = await em.execute<{ status: ConnectionStatus }[]>(
      `update calendar_connections set status = ?, status_reason = ?, updated_at = now(), version = version + 1
        where id = ? and (status not in ('removing', 'removed') or ? in ('removing', 'removed'))
        returning status`,
      [status, reason, connectionId, status],
    );
    if (rows[0]) return rows[0].status;
    const current = await em.findOne(CalendarConnection, { id: connectionId });
    return current?.status ?? 'removed';
  }

  return {
    async loadConnection(connectionId: string): Promise<ConnectionSnapshot> {
      const em = orm.em.fork();
      const c = await em.findOne(CalendarConnection, { id: connectionId });
      if (!c) {
        return {
          exists: false,
          userId: '',
          provider: 'caldav',
          status: 'removed',
          credentialsVersion: 0,
          selectionSaved: false,
          pollSeconds: 300,
          heartbeatSeconds: 30,
          historyLimit: config.WORKFLOW_HISTORY_LIMIT,
        };
      }
      return {
        exists: true,
        userId: c.userId,
        provider: c.provider,
        status: c.status,
        credentialsVersion: c.credentialsVersion,
        selectionSaved: !['pending_authorization', 'awaiting_selection'].includes(c.status),
        pollSeconds: providerModule(c.provider).pollSeconds(config),
        heartbeatSeconds: config.SYNC_HEARTBEAT_SECONDS,
        historyLimit: config.WORKFLOW_HISTORY_LIMIT,
      };
    },

    /** Lists the account's calendars and records them: new ones appear, vanished ones are dropped. */
    async discoverCalendars(connectionId: string): Promise<number> {
      const em = orm.em.fork();
      const { connection, provider } = await openStoredProvider(em, config, connectionId);
      const listed = await providerCall(() => provider.listCalendars());
      const existing = await em.find(ProviderCalendar, { connectionId });
      const byExternal = new Map(existing.map((c) => [c.externalId, c]));
      for (const cal of listed) {
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
            connectionId,
            userId: connection.userId,
            externalId: cal.externalId,
            name: cal.name,
            color: cal.color,
            readOnly: cal.readOnly,
            providerPrimary: cal.providerPrimary,
          });
        }
      }
      const listedIds = new Set(listed.map((c) => c.externalId));
      const vanished = existing.filter((c) => !listedIds.has(c.externalId) && !c.removedAt);
      for (const row of vanished) {
        row.removedAt = new Date();
        row.isPrimary = false;
        row.importForAvailability = false;
        row.importStatus = 'idle';
      }
      await em.flush();
      for (const row of vanished) await purgeCalendar(em, row.id);
      return listed.length;
    },

    async setConnectionStatus(
      connectionId: string,
      status: ConnectionStatus,
      reason: string | null,
    ): Promise<ConnectionStatus> {
      return setStatus(connectionId, status, reason);
    },

    /** Calendars to sync this pass: the selected ones, plus deselected ones that still hold events to purge. */
    async listSyncTargets(connectionId: string): Promise<SyncTarget[]> {
      const em = orm.em.fork();
      const rows = await em.execute<{ id: string; name: string }[]>(
        `select id, name from provider_calendars
          where connection_id = ? and (import_for_availability and removed_at is null
             or event_count > 0 or sync_cursor is not null)
          order by name, id`,
        [connectionId],
      );
      return rows.map((r) => ({ calendarId: r.id, name: r.name }));
    },

    /** Imports one calendar (full or incremental), heartbeating its progress so a crash resumes it. */
    async importCalendar(calendarId: string): Promise<CalendarSyncResult> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat({ phase: 'working' }), 5000);
      try {
        return await providerCall(() =>
          syncCalendar(orm.em, config, calendarId, { onPage: (progress) => ctx.heartbeat(progress) }),
        );
      } finally {
        clearInterval(beat);
      }
    },

    async markCalendarError(calendarId: string, message: string): Promise<void> {
      const em = orm.em.fork();
      await em.nativeUpdate(
        ProviderCalendar,
        { id: calendarId },
        { importStatus: 'error', error: message.slice(0, 500) },
      );
    },

    /** After a sync pass: `active` (or `importing` while a calendar is still waiting), lastSyncAt now. */
    async finishSyncPass(connectionId: string): Promise<ConnectionStatus> {
      const em = orm.em.fork();
      const [pending] = await em.execute<{ n: number }[]>(
        `select count(*)::int as n from provider_calendars
          where connection_id = ? and import_for_availability and removed_at is null and import_status in ('pending', 'importing')`,
        [connectionId],
      );
      await em.nativeUpdate(
        CalendarConnection,
        { id: connectionId, status: { $nin: terminal } },
        { lastSyncAt: new Date() },
      );
      return setStatus(connectionId, pending?.n ? 'importing' : 'active', null);
    },

    /**
     * The provider rejected the credentials: mark the connection and tell its owner what to do, once
     * per set of credentials (a reconnect with new ones that fail again mails again).
     */
    async markNeedsReauth(connectionId: string, reason: string): Promise<ConnectionStatus> {
      const status = await setStatus(connectionId, 'needs_reauth', reason);
      if (status !== 'needs_reauth') return status;
      const em = orm.em.fork();
      const c = await em.findOneOrFail(CalendarConnection, { id: connectionId });
      const label = c.accountEmail ? `${c.provider} account ${c.accountEmail}` : `${c.provider} calendar`;
      const emailId = await email.queueEmail({
        dedupeKey: `needs-reauth:${connectionId}:${c.credentialsVersion}`,
        to: c.userId,
        subject: `Action needed: reconnect your ${label}`,
        text: [
          `Calbridge can no longer read your ${label}: the provider rejected the stored credentials (${reason}).`,
          '',
          'Your availability still uses the busy times imported before this happened, but new changes are not seen until you reconnect.',
          c.provider === 'icloud'
            ? 'Create a new app-specific password at appleid.apple.com, then reconnect with it.'
            : 'Reconnect with the current password (or feed URL).',
          '',
          `Reconnect: POST ${config.PUBLIC_URL}/v1/connections/${connectionId}/reconnect`,
          'Sync resumes where it stopped, without duplicates.',
        ].join('\n'),
      });
      await email.deliverEmail(emailId);
      return status;
    },

    /** Removal: stops sync for good, deletes every imported event and forgets the credentials. */
    async removeConnectionData(connectionId: string): Promise<void> {
      const em = orm.em.fork();
      await em.transactional(async (tx) => {
        await tx.execute(
          'delete from imported_events where calendar_id in (select id from provider_calendars where connection_id = ?)',
          [connectionId],
        );
        await tx.execute('delete from provider_calendars where connection_id = ?', [connectionId]);
        await tx.execute(
          `update calendar_connections set status = 'removed', status_reason = null, credentials = null,
             updated_at = now(), version = version + 1 where id = ?`,
          [connectionId],
        );
      });
    },
  };
}
