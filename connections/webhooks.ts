/**
 * Push notifications from Google and Microsoft Graph. They must be answered within the providers'
 * deadlines (Graph: 3 s), so they are only checked against the channel's secret and turned into a
 * signal to the connection's run, which coalesces a burst into one incremental pass. Anything that
 * cannot be verified is ignored without a trace of why (no oracle for guessing channel ids).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { constantTimeEqual, hashToken } from '../platform/crypto.ts';
import { providerChangedSignal, reconcileSignal } from '../workflows/connection.ts';

export interface WebhookContext {
  em: EntityManager;
  temporal: Client;
}

/** What a notification asks of the run. */
type Wake = 'changed' | 'reconcile';

interface VerifiedChannel {
  id: string;
  workflowId: string;
}

/** Graph batches notifications; more than this in one POST is not a real delivery. */
export const MAX_NOTIFICATIONS_PER_DELIVERY = 100;

/** Google: headers only, the body is empty. Returns whether the notification was genuine. */
export async function receiveGoogleNotification(
  ctx: WebhookContext,
  headers: { channelId?: string; token?: string; resourceState?: string },
): Promise<boolean> {
  const channel = await verifiedChannel(ctx.em, 'google', headers.channelId, headers.token);
  if (!channel) return false;
  // `sync` only confirms a new channel; nothing changed yet.
  if (headers.resourceState !== 'sync') await wake(ctx.temporal, channel.workflowId, 'changed');
  return true;
}

export interface GraphNotification {
  subscriptionId?: string;
  clientState?: string | null;
  lifecycleEvent?: string;
}

/** Microsoft Graph change and lifecycle notifications. Returns how many were genuine. */
export async function receiveGraphNotifications(
  ctx: WebhookContext,
  notifications: GraphNotification[],
): Promise<number> {
  const wakes = new Map<string, Wake>();
  let genuine = 0;
  for (const notification of notifications.slice(0, MAX_NOTIFICATIONS_PER_DELIVERY)) {
    const channel = await verifiedChannel(
      ctx.em,
      'microsoft',
      notification.subscriptionId,
      notification.clientState ?? undefined,
    );
    if (!channel) continue;
    genuine += 1;
    switch (notification.lifecycleEvent) {
      case 'reauthorizationRequired':
        // Due now: the run's next push maintenance renews it.
        await ctx.em.execute('update push_channels set expires_at = now() where id = ?', [channel.id]);
        break;
      case 'subscriptionRemoved':
        // Gone at Graph: the next maintenance subscribes the calendar anew.
        await ctx.em.execute('delete from push_channels where id = ?', [channel.id]);
        break;
      case 'missed':
        wakes.set(channel.workflowId, 'reconcile');
        continue;
    }
    if (!wakes.has(channel.workflowId)) wakes.set(channel.workflowId, 'changed');
  }
  for (const [workflowId, what] of wakes) await wake(ctx.temporal, workflowId, what);
  return genuine;
}

async function verifiedChannel(
  em: EntityManager,
  provider: 'google' | 'microsoft',
  channelId: string | undefined,
  secret: string | undefined,
): Promise<VerifiedChannel | null> {
  if (!channelId || !secret || channelId.length > 256 || secret.length > 512) return null;
  const [row] = await em.execute<{ id: string; token_hash: string; workflow_id: string }[]>(
    `select p.id, p.token_hash, c.workflow_id from push_channels p
       join calendar_connections c on c.id = p.connection_id
      where p.channel_id = ? and p.provider = ? and c.status not in ('removing', 'removed')`,
    [channelId, provider],
  );
  if (!row || !constantTimeEqual(hashToken(secret), row.token_hash)) return null;
  return { id: row.id, workflowId: row.workflow_id };
}

/** Signals the run if it is there; a run that has ended has nothing to sync. */
async function wake(temporal: Client, workflowId: string, what: Wake): Promise<void> {
  const signal: SignalDefinition = what === 'reconcile' ? reconcileSignal : providerChangedSignal;
  try {
    await temporal.workflow.getHandle(workflowId).signal(signal);
  } catch (error) {
    if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
  }
}
