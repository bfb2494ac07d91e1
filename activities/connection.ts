/**
 * Activities of the connection workflow (workflows/connection.ts), thin over connections/. Each is
 * idempotent: it reads the connection from PostgreSQL by id (never receiving a secret as an
 * argument, invariant 5) and can be retried after a crash without doing its work twice.
 */
import { recordCalendarListing } from '../connections/calendars.ts';
import { openStoredProvider } from '../connections/credentials.ts';
import { type CalendarSyncResult, syncCalendar } from '../connections/import-engine.ts';
import { needsReauthNotice } from '../connections/notices.ts';
import {
  maintainPushChannels,
  type PushMaintenance,
  pushEnabled,
  releaseProviderResources,
} from '../connections/push.ts';
import { pollUnchanged, type QuickPoll } from '../connections/quick-poll.ts';
import { removeConnectionData } from '../connections/removal.ts';
import { changeConnectionStatus } from '../connections/status.ts';
import { CalendarConnection } from '../db/entities/index.ts';
import { pgArray } from '../db/sql.ts';
import type { ProviderKind } from '../domain/connection.ts';
import { type ConnectionStatus, REMOVAL_STATUSES } from '../domain/connection-status.ts';
import type { EmailRequest } from '../domain/email.ts';
import type { Config } from '../platform/config.ts';
import { providerModule } from '../providers/registry.ts';
import type { ActivityDeps } from './deps.ts';
import { providerCall } from './failures.ts';
import { withHeartbeat } from './heartbeat.ts';

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
  /** The provider can push change notifications and this server has them on. */
  push: boolean;
  /** How often every calendar is re-listed in full (RECONCILE_HOURS). */
  reconcileSeconds: number;
  /**
   * The provider can tell "unchanged" cheaply (ICS feeds): the poll loop asks it and wakes the run
   * only on a change (earlier runs asked it themselves, with `pollUnchanged`). Absent in snapshots
   * recorded before it existed.
   */
  conditionalPoll?: boolean;
}

export interface SyncTarget {
  calendarId: string;
  name: string;
}

const reconcileSeconds = (config: Config) => Math.round(config.RECONCILE_HOURS * 3600);

export function createConnectionActivities({ orm, config }: ActivityDeps) {
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
          push: false,
          reconcileSeconds: reconcileSeconds(config),
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
        push: pushEnabled(config) && providerModule(c.provider).oauth !== undefined,
        reconcileSeconds: reconcileSeconds(config),
        conditionalPoll: providerModule(c.provider).conditionalPoll === true,
      };
    },

    /** Lists the account's calendars and records them: new ones appear, vanished ones are dropped. */
    async discoverCalendars(connectionId: string): Promise<number> {
      const em = orm.em.fork();
      const { connection, provider } = await openStoredProvider(em, config, connectionId);
      const listed = await providerCall(() => provider.listCalendars());
      await recordCalendarListing(em, connection, listed);
      return listed.length;
    },

    /** Moves the connection through the transition table; returns the status it is in afterwards. */
    async setConnectionStatus(
      connectionId: string,
      status: ConnectionStatus,
      reason: string | null,
    ): Promise<ConnectionStatus> {
      return changeConnectionStatus(orm.em.fork(), connectionId, status, { reason });
    },

    /** Calendars to sync this pass: the selected ones, plus deselected ones that still hold events to purge. */
    async listSyncTargets(connectionId: string): Promise<SyncTarget[]> {
      const rows = await orm.em.fork().execute<{ id: string; name: string }[]>(
        `select id, name from provider_calendars
          where connection_id = ? and (import_for_availability and removed_at is null
             or event_count > 0 or sync_cursor is not null)
          order by name, id`,
        [connectionId],
      );
      return rows.map((r) => ({ calendarId: r.id, name: r.name }));
    },

    /** Imports one calendar (full or incremental), heartbeating its progress so a crash resumes it. */
    async importCalendar(
      calendarId: string,
      options: { fullListing?: boolean } = {},
    ): Promise<CalendarSyncResult> {
      // A cancellation (the connection is being removed) stops it at once, even mid-download; the
      // abandoned work applies no further page, as it checks the signal first.
      return withHeartbeat((signal, beat) =>
        providerCall(() =>
          syncCalendar(orm.em, config, calendarId, {
            onPage: beat,
            signal,
            fullListing: options.fullListing === true,
          }),
        ),
      );
    },

    /** Subscribes, renews and stops the connection's push channels (Google, Microsoft). */
    async maintainPushChannels(connectionId: string): Promise<PushMaintenance> {
      return providerCall(() => maintainPushChannels(orm.em, config, connectionId));
    },

    /** Removal: stops push channels and revokes the grant where the provider allows it. */
    async releaseProviderResources(connectionId: string): Promise<{ stopped: number }> {
      return releaseProviderResources(orm.em, config, connectionId);
    },

    async markCalendarError(calendarId: string, message: string): Promise<void> {
      await orm.em
        .fork()
        .execute(`update provider_calendars set import_status = 'error', error = ? where id = ?`, [
          message.slice(0, 500),
          calendarId,
        ]);
    },

    /**
     * A poll's quick path: when every calendar is current and the provider says nothing changed
     * (ICS: 304), records the poll (what finishSyncPass would) and answers `unchanged`; otherwise
     * `unchanged: false` and the workflow runs the regular pass.
     */
    async pollUnchanged(connectionId: string): Promise<QuickPoll> {
      return pollUnchanged(orm.em.fork(), config, connectionId);
    },

    /**
     * After a sync pass: `active` (or `importing` while a calendar is still waiting), lastSyncAt now,
     * and for a run whose polls the poll loop makes (connections/watched-polls.ts), the next one.
     */
    async finishSyncPass(
      connectionId: string,
      options: { nextPollSeconds?: number } = {},
    ): Promise<ConnectionStatus> {
      // One transaction: a reader never sees the new lastSyncAt with the old status.
      return orm.em.fork().transactional(async (em) => {
        const [pending] = await em.execute<{ n: number }[]>(
          `select count(*)::int as n from provider_calendars
            where connection_id = ? and import_for_availability and removed_at is null and import_status in ('pending', 'importing')`,
          [connectionId],
        );
        await em.execute(
          `update calendar_connections
              set last_sync_at = now(),
                  next_poll_at = coalesce(now() + make_interval(secs => ?::int), next_poll_at),
                  poll_seconds = coalesce(?::int, poll_seconds)
            where id = ? and status <> all(?::text[])`,
          [
            options.nextPollSeconds ?? null,
            options.nextPollSeconds ?? null,
            connectionId,
            pgArray(REMOVAL_STATUSES),
          ],
        );
        return changeConnectionStatus(em, connectionId, pending?.n ? 'importing' : 'active');
      });
    },

    /**
     * The provider rejected the credentials: park the connection and compose the e-mail that tells
     * its owner what to do. The workflow sends it through the durable e-mail path.
     */
    async markNeedsReauth(
      connectionId: string,
      reason: string,
    ): Promise<{ status: ConnectionStatus; notice: EmailRequest | null }> {
      const em = orm.em.fork();
      const status = await changeConnectionStatus(em, connectionId, 'needs_reauth', { reason });
      if (status !== 'needs_reauth') return { status, notice: null };
      const c = await em.findOneOrFail(CalendarConnection, { id: connectionId });
      const notice = needsReauthNotice(
        { ...c, accountEmail: c.accountEmail ?? null },
        reason,
        config.PUBLIC_URL,
      );
      return { status, notice };
    },

    /** Removal: stops sync for good, deletes every imported event and forgets the credentials. */
    async removeConnectionData(connectionId: string): Promise<void> {
      await removeConnectionData(orm.em.fork(), connectionId);
    },
  };
}
