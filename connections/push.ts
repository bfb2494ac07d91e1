/**
 * Push channels (Google watch channels, Microsoft Graph subscriptions): one per selected calendar
 * of a connection whose provider can push, kept alive before they expire, stopped when a calendar
 * is deselected or the connection removed. A notification only says "something changed"; the
 * connection's run then makes an incremental pass, and polling stays on as the fallback.
 *
 * Each channel's secret (Google's channel token, Graph's clientState) is derived from the row id
 * with the server key, so it survives renewals without being stored; the row keeps its hash, which
 * is what a notification is checked against (connections/webhooks.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../platform/config.ts';
import { hashToken } from '../platform/crypto.ts';
import type { CalendarProvider, PushChannel } from '../providers/contract.ts';
import { openStoredProvider } from './credentials.ts';
import { revokeGrant } from './grants.ts';

/** Channels are renewed when they have less than this left (Graph allows about three days for events). */
export const PUSH_RENEW_AHEAD_MS = 12 * 3_600_000;

export function pushEnabled(config: Config): boolean {
  if (config.PUSH_NOTIFICATIONS === 'auto') return config.PUBLIC_URL.startsWith('https://');
  return config.PUSH_NOTIFICATIONS === 'on';
}

export const webhookAddress = (config: Config, provider: string) =>
  `${config.PUBLIC_URL}/v1/webhooks/${provider}`;

const channelToken = (config: Config, rowId: string) =>
  createHmac('sha256', config.encryptionKey).update(`push-channel:${rowId}`).digest('base64url');

interface ChannelRow {
  id: string;
  calendar_id: string;
  external_id: string;
  channel_id: string;
  resource_id: string | null;
  expires_at: Date;
  selected: boolean;
}

export interface PushMaintenance {
  /** When the next channel needs renewing (ISO), or null when there is none. */
  renewAt: string | null;
  subscribed: number;
  renewed: number;
  stopped: number;
}

/** Subscribes selected calendars that have no channel, renews channels about to expire, stops the rest. */
export async function maintainPushChannels(
  rootEm: EntityManager,
  config: Config,
  connectionId: string,
): Promise<PushMaintenance> {
  const outcome: PushMaintenance = { renewAt: null, subscribed: 0, renewed: 0, stopped: 0 };
  if (!pushEnabled(config)) return outcome;
  const em = rootEm.fork();
  const { connection, provider } = await openStoredProvider(em, config, connectionId);
  const push = provider.push;
  if (!push) return outcome;
  const address = webhookAddress(config, connection.provider);

  const channels = await em.execute<ChannelRow[]>(
    `select p.id, p.calendar_id, c.external_id, p.channel_id, p.resource_id, p.expires_at,
            (c.import_for_availability and c.removed_at is null) as selected
       from push_channels p join provider_calendars c on c.id = p.calendar_id
      where p.connection_id = ?`,
    [connectionId],
  );
  for (const row of channels) {
    const channel = toChannel(row);
    if (!row.selected) {
      await stopQuietly(push, channel);
      await em.execute('delete from push_channels where id = ?', [row.id]);
      outcome.stopped += 1;
    } else if (new Date(row.expires_at).getTime() - Date.now() < PUSH_RENEW_AHEAD_MS) {
      const renewed = await push.renew({ externalId: row.external_id }, channel, {
        address,
        token: channelToken(config, row.id),
      });
      await em.execute(
        'update push_channels set channel_id = ?, resource_id = ?, expires_at = ? where id = ?',
        [renewed.channelId, renewed.resourceId, renewed.expiresAt, row.id],
      );
      outcome.renewed += 1;
    }
  }

  const unwatched = await em.execute<{ id: string; external_id: string }[]>(
    `select c.id, c.external_id from provider_calendars c
      where c.connection_id = ? and c.import_for_availability and c.removed_at is null
        and not exists (select 1 from push_channels p where p.calendar_id = c.id)`,
    [connectionId],
  );
  for (const calendar of unwatched) {
    const rowId = randomUUID();
    const token = channelToken(config, rowId);
    const channel = await push.subscribe({ externalId: calendar.external_id }, { address, token });
    await em.execute(
      `insert into push_channels (id, connection_id, calendar_id, provider, channel_id, resource_id, token_hash, expires_at)
       values (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        rowId,
        connectionId,
        calendar.id,
        connection.provider,
        channel.channelId,
        channel.resourceId,
        hashToken(token),
        channel.expiresAt,
      ],
    );
    outcome.subscribed += 1;
  }

  const [next] = await em.execute<{ expires_at: Date | null }[]>(
    'select min(expires_at) as expires_at from push_channels where connection_id = ?',
    [connectionId],
  );
  if (next?.expires_at)
    outcome.renewAt = new Date(new Date(next.expires_at).getTime() - PUSH_RENEW_AHEAD_MS).toISOString();
  return outcome;
}

/**
 * Removal: stops every channel and revokes the grant where the provider allows it. Best effort: a
 * provider that cannot be reached now lets its channels expire on their own, and the grant is
 * forgotten with the credentials either way.
 */
export async function releaseProviderResources(
  rootEm: EntityManager,
  config: Config,
  connectionId: string,
): Promise<{ stopped: number }> {
  const em = rootEm.fork();
  const rows = await em.execute<ChannelRow[]>(
    `select p.id, p.calendar_id, '' as external_id, p.channel_id, p.resource_id, p.expires_at, false as selected
       from push_channels p where p.connection_id = ?`,
    [connectionId],
  );
  const [stored] = await em.execute<{ has_credentials: boolean }[]>(
    'select credentials is not null as has_credentials from calendar_connections where id = ?',
    [connectionId],
  );
  if (!stored?.has_credentials) {
    await em.execute('delete from push_channels where connection_id = ?', [connectionId]);
    return { stopped: 0 };
  }
  const { connection, provider, credentials } = await openStoredProvider(em, config, connectionId);
  let stopped = 0;
  for (const row of rows) {
    if (provider.push && (await stopQuietly(provider.push, toChannel(row)))) stopped += 1;
  }
  await em.execute('delete from push_channels where connection_id = ?', [connectionId]);
  await revokeGrant(config, connection.provider, credentials);
  return { stopped };
}

const toChannel = (row: ChannelRow): PushChannel => ({
  channelId: row.channel_id,
  resourceId: row.resource_id,
  expiresAt: new Date(row.expires_at),
});

async function stopQuietly(push: NonNullable<CalendarProvider['push']>, channel: PushChannel) {
  try {
    await push.stop(channel);
    return true;
  } catch {
    // It expires on its own; a notification for a channel we no longer hold is ignored.
    return false;
  }
}
