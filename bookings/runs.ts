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

/**
 * A booking's changes reach its run one at a time, across every API process: two changes whose
 * handlers ran side by side in the run (each with its local activities) would not replay in the
 * order they ran. The booking's change lock is held for the update's round trip.
 */
async function oneChangeAtATime<T>(
  em: EntityManager,
  bookingId: string,
  change: () => Promise<T>,
): Promise<T> {
  return em.fork().transactional(async (tx) => {
    await tx.execute(`set local idle_in_transaction_session_timeout = '${CHANGE_LOCK_TIMEOUT_MS}ms'`);
    await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`booking-change:${bookingId}`]);
    return change();
  });
}

/** Longer than any change takes in its run; a session that idles past it gives the lock up. */
const CHANGE_LOCK_TIMEOUT_MS = 60_000;

export function rescheduleRun(
  temporal: Client,
  em: EntityManager,
  bookingId: string,
  start: string,
): Promise<RescheduleOutcome> {
  return oneChangeAtATime(em, bookingId, () =>
    temporal.workflow
      .getHandle(bookingWorkflowId(bookingId))
      .executeUpdate(rescheduleUpdate, { args: [{ start }] }),
  );
}

export function cancelRun(temporal: Client, em: EntityManager, bookingId: string, reason: string | null) {
  return oneChangeAtATime(em, bookingId, () =>
    temporal.workflow
      .getHandle(bookingWorkflowId(bookingId))
      .executeUpdate(cancelUpdate, { args: [{ reason }] }),
  );
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
