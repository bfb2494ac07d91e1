/**
 * The booking's run in Temporal: `booking/<id>`, started by the API inside the hold's transaction
 * (bookings/commands.ts), so no hold exists without its run, and the run reads the hold's outcome
 * once that transaction has ended (settleHold).
 */

import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config.ts';
import { bookingWorkflow, cancelUpdate, rescheduleUpdate, retryInvitesSignal } from '../workflows/booking.ts';
import { bookingWorkflowId } from '../workflows/ids.ts';
import { CalbridgeStatus, CalbridgeUser } from '../workflows/search-attributes.ts';
import type { RescheduleOutcome } from './changes.ts';

/**
 * Starts the booking's run while the API holds the booking's lock (holdSlot's `whileLocked`). The
 * run is searchable from its first event: by status, and by `host` (the calendar's first host) as
 * CalbridgeUser.
 */
export async function startBookingRun(
  temporal: Client,
  config: Config,
  host: string,
  bookingId: string,
): Promise<void> {
  await temporal.workflow.start(bookingWorkflow, {
    workflowId: bookingWorkflowId(bookingId),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ bookingId, heldUnderLock: true }],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: CalbridgeStatus, value: 'held' },
      { key: CalbridgeUser, value: host },
    ],
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
