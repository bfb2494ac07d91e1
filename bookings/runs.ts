/**
 * The booking's run in Temporal: `booking/<id>`, started just before the API holds the slot, so no
 * hold exists without its run, and told the hold's outcome by a signal.
 */

import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config.ts';
import {
  bookingWorkflow,
  cancelUpdate,
  heldSignal,
  rescheduleUpdate,
  retryInvitesSignal,
} from '../workflows/booking.ts';
import { bookingWorkflowId } from '../workflows/ids.ts';
import { CalbridgeStatus, CalbridgeUser } from '../workflows/search-attributes.ts';
import type { RescheduleOutcome } from './changes.ts';
import { HOLD_START_WINDOW_MS, HOLD_TRANSACTION_BOUND_MS, type HoldOutcome } from './hold.ts';

/**
 * Starts the booking's run, before the API holds the slot (bookings/commands.ts): so no hold ever
 * exists without its run. The run is searchable from its first event: by status, and by `host`
 * (the calendar's first host) as CalbridgeUser.
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
    args: [{ bookingId, holdWaitMs: HOLD_START_WINDOW_MS + HOLD_TRANSACTION_BOUND_MS }],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: CalbridgeStatus, value: 'held' },
      { key: CalbridgeUser, value: host },
    ],
  });
}

/**
 * Tells the run how its hold went. Best effort: a run that is not told finds out from the
 * database once no hold can commit any more (settleHold).
 */
export async function reportHold(temporal: Client, bookingId: string, outcome: HoldOutcome): Promise<void> {
  await temporal.workflow
    .getHandle(bookingWorkflowId(bookingId))
    .signal(heldSignal, outcome)
    .catch(() => {});
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
