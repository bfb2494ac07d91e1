/**
 * The booking's run in Temporal: `booking/<id>`, started together with its `hold` update so the
 * caller learns synchronously whether it got the slot, and no hold exists without its run.
 */

import type { EntityManager } from '@mikro-orm/postgresql';
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { Config } from '../platform/config.ts';
import {
  bookingWorkflow,
  cancelUpdate,
  holdUpdate,
  rescheduleUpdate,
  retryInvitesSignal,
} from '../workflows/booking.ts';
import { bookingWorkflowId } from '../workflows/ids.ts';
import { CalbridgeStatus, CalbridgeUser } from '../workflows/search-attributes.ts';
import type { RescheduleOutcome } from './changes.ts';
import type { HoldOutcome, HoldRequest } from './hold.ts';

/**
 * Starts the booking's run with its hold. The run is searchable from its first event: by status,
 * and by `host` (the calendar's first host) as CalbridgeUser, so it needs no upsert of its own.
 */
export async function startBookingRun(
  temporal: Client,
  config: Config,
  host: string,
  request: HoldRequest,
): Promise<HoldOutcome> {
  const start = new WithStartWorkflowOperation(bookingWorkflow, {
    workflowId: bookingWorkflowId(request.bookingId),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ bookingId: request.bookingId }],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: CalbridgeStatus, value: 'held' },
      { key: CalbridgeUser, value: host },
    ],
  });
  return temporal.workflow.executeUpdateWithStart(holdUpdate, {
    args: [request],
    startWorkflowOperation: start,
  });
}

export function rescheduleRun(
  temporal: Client,
  bookingId: string,
  start: string,
): Promise<RescheduleOutcome> {
  return temporal.workflow
    .getHandle(bookingWorkflowId(bookingId))
    .executeUpdate(rescheduleUpdate, { args: [{ start }] });
}

export function cancelRun(temporal: Client, bookingId: string, reason: string | null) {
  return temporal.workflow
    .getHandle(bookingWorkflowId(bookingId))
    .executeUpdate(cancelUpdate, { args: [{ reason }] });
}

/**
 * The host's calendars work again (a reconnect): every booking whose invite waits for them tries
 * now instead of at its next retry. A booking whose run has ended has nothing left to write.
 */
export async function retryPendingInvites(
  temporal: Client,
  em: EntityManager,
  userId: string,
): Promise<number> {
  const rows = await em.execute<{ appointment_id: string }[]>(
    `select i.appointment_id from appointment_invites i join appointments a on a.id = i.appointment_id
      where i.user_id = ? and i.status = 'pending' and a.end_at > now()`,
    [userId],
  );
  await Promise.all(
    rows.map((r) =>
      temporal.workflow
        .getHandle(bookingWorkflowId(r.appointment_id))
        .signal(retryInvitesSignal)
        // A run that has just ended has nothing to write; any other miss retries on its own timer.
        .catch(() => {}),
    ),
  );
  return rows.length;
}
