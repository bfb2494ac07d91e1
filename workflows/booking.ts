/**
 * booking/<bookingId>: the life of one booking.
 *
 *   held (the API starts this run inside the transaction that holds the slot, and answers the
 *   customer; the run reads the outcome once that transaction has ended) → invite in each host's
 *   primary calendar → e-mails → confirmed (all in one workflow task) → reschedule / cancel
 *   (updates) until the appointment is over → done. Runs started by earlier APIs were told the
 *   outcome by a signal, or held through the `hold` update.
 *
 * The hold is the commit point: a refused hold ends the run with nothing held; everything after it
 * is retried durably. An invite whose calendar needs reconnecting stays `pending` and is tried
 * again until it is written or the appointment is over. No secret, and none of the customer's
 * details, enters this workflow: the manage link is derived in activities, credentials and the
 * booking are loaded by id.
 */
import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HoldOutcome, HoldRequest, RescheduleOutcome } from '../activities/booking.ts';
import type { Activities } from '../activities/index.ts';
import type { AppointmentStatus, InviteStatus } from '../domain/booking.ts';
import { PROVIDER_RETRY_MAX_INTERVAL_MS } from '../domain/sync.ts';
import { deliverInBackground, deliverQueued, sendInBackground } from './email.ts';
import { CalbridgeStatus, CalbridgeUser } from './search-attributes.ts';

/** How the API's hold of the slot went (runs of earlier APIs, which held right after the start). */
export const heldSignal = defineSignal<[HoldOutcome]>('held');
/** Hold the slot: sent together with the start of the run (update-with-start; earlier APIs). */
export const holdUpdate = defineUpdate<HoldOutcome, [HoldRequest]>('hold');
/** Move the booking to another start; the old time is kept if the new one is taken. */
export const rescheduleUpdate = defineUpdate<RescheduleOutcome, [{ start: string }]>('reschedule');
/** Cancel the booking; cancelling twice is harmless. */
export const cancelUpdate = defineUpdate<{ status: AppointmentStatus }, [{ reason: string | null }]>(
  'cancel',
);

/** A host's calendar can take invites again (it was reconnected): try a pending invite now. */
export const retryInvitesSignal = defineSignal('retryInvites');

export interface BookingWorkflowStatus {
  bookingId: string;
  status: AppointmentStatus | 'refused';
  phase: 'holding' | 'inviting' | 'confirmed' | 'done';
  invite: InviteStatus | null;
  endsAt: string | null;
}
export const statusQuery = defineQuery<BookingWorkflowStatus>('status');

/**
 * Database steps as local activities: run by the worker inside the workflow task, so the caller of
 * an update (hold, reschedule, cancel) waits for one transaction, not for a task queue round trip.
 */
const quick = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 5 },
});

/**
 * A booking change's e-mails: queued in the change's transaction and sent in the same local
 * activity (one try each; the mailer's own timeouts bound it). What did not go is handed to
 * delivery runs, so the booking never waits on SMTP.
 */
const mail = proxyLocalActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 5 },
});

const db = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Writing to the host's calendar: provider failures are retried; a dead credential waits (see below). */
const providerRetry = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: PROVIDER_RETRY_MAX_INTERVAL_MS,
  maximumAttempts: 8,
};
/**
 * Current runs write invites in a local activity, so hold → invite → e-mails → confirmed is one
 * workflow task. A worker that dies mid-write lets that task time out and another worker writes
 * again: the invite's identity is deterministic, so a second write replaces, never duplicates.
 */
const providerNow = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: providerRetry,
});
/** Earlier runs: a regular activity, heartbeating so a worker that dies mid-write is noticed. */
const provider = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: providerRetry,
});

/** How often a pending invite (its calendar needs reconnecting) is tried again. */
const INVITE_RETRY_MS = 10 * 60_000;

/**
 * Runs started before this marker sent each e-mail through its own child run, with the message in
 * their histories; they keep doing so when replayed (test/workflows/histories).
 */
const OUTBOX_NOTICES = 'booking-notices-through-outbox';
/**
 * Then: searchable from its start (started with CalbridgeStatus and CalbridgeUser, bookings/runs.ts;
 * earlier runs published both again once held), and a change's e-mails queued and sent in one local
 * activity (earlier runs: two). (How the run learns the hold's outcome follows from the start's
 * input, not from a marker.)
 */
const SEARCHABLE_START = 'booking-searchable-start-one-step-mail';
/** The current shape: the same, with invites written in a local activity (`providerNow`). */
const CURRENT_SHAPE = 'booking-one-task';

export async function bookingWorkflow(input: {
  bookingId: string;
  /** The API started this run inside the hold's transaction (current APIs): settleHold reads the outcome. */
  heldUnderLock?: boolean;
  /** How long the API may take to hold and signal (earlier APIs; absent with the `hold` update too). */
  holdWaitMs?: number;
}): Promise<void> {
  const { bookingId } = input;
  // The newest marker is asked first, so a new run records one marker (and so one
  // TemporalChangeVersion upsert), not one per shape it has outgrown.
  const oneTask = patched(CURRENT_SHAPE);
  const searchableStart = oneTask || patched(SEARCHABLE_START);
  const throughOutbox = searchableStart || patched(OUTBOX_NOTICES);
  const inviteWriter = oneTask ? providerNow : provider;
  const step = throughOutbox ? quick : db;
  const state: BookingWorkflowStatus = {
    bookingId,
    status: 'held',
    phase: 'holding',
    invite: null,
    endsAt: null,
  };
  let held: Promise<HoldOutcome> | null = null;
  let cancelled = false;
  let inviteDirty = false;
  // Current runs take one local step at a time: a change waits for the step in progress (the first
  // task's hold → confirmed, or a later invite write), and the invite write for a change's steps.
  // Two local activities in flight at once could finish in either order, and what follows each
  // would then replay in an order other than the one recorded.
  let stepping = oneTask;
  const exclusively = async <T>(work: () => Promise<T>): Promise<T> => {
    if (!oneTask) return work();
    await condition(() => !stepping);
    stepping = true;
    try {
      return await work();
    } finally {
      stepping = false;
    }
  };

  setHandler(statusQuery, () => state);
  setHandler(retryInvitesSignal, () => {
    if (state.invite === 'pending') inviteDirty = true;
  });
  setHandler(holdUpdate, (request) => {
    held ??= quick.holdSlot(request);
    return held;
  });
  setHandler(heldSignal, (outcome) => {
    held ??= Promise.resolve(outcome);
  });
  setHandler(
    rescheduleUpdate,
    ({ start }) =>
      exclusively(async () => {
        const moved = await step.moveBooking(bookingId, start);
        if (!moved.moved) return moved;
        state.endsAt = moved.end;
        inviteDirty = true;
        await notify('rescheduled');
        return moved;
      }),
    { validator: ({ start }) => assertInstant(start) },
  );
  setHandler(cancelUpdate, ({ reason }) =>
    exclusively(async () => {
      const result = await step.cancelBooking(bookingId, reason);
      if (!cancelled && result.changed) {
        cancelled = true;
        inviteDirty = true;
        await notify('cancelled');
      }
      cancelled = true;
      state.status = 'cancelled';
      publish();
      return { status: 'cancelled' as const };
    }),
  );

  if (input.heldUnderLock) {
    // The API holds in the transaction that started this run: its outcome is in the database as
    // soon as that transaction ends, and settleHold waits for it.
    held = quick.settleHold(bookingId);
  } else {
    // Earlier APIs held right after the start and said how it went (heldSignal), or sent the `hold`
    // update with the start. Not told in time (the API died): the database says, once no hold can
    // still commit. A start by hand with neither has nothing to hold.
    const told = await condition(() => held !== null, input.holdWaitMs ?? '1 minute');
    if (!told && input.holdWaitMs === undefined) return;
    if (!told) held = quick.settleHold(bookingId);
  }
  const outcome = await held!;
  if (!outcome.held) {
    state.status = 'refused';
    state.phase = 'done';
    return;
  }
  state.endsAt = outcome.end;
  if (!searchableStart) {
    upsertSearchAttributes([{ key: CalbridgeUser, value: outcome.hosts[0] ?? '' }]);
    publish();
  } else if (!workflowInfo().typedSearchAttributes.get(CalbridgeUser)) {
    // Started without its host (by hand): findable by host all the same.
    upsertSearchAttributes([{ key: CalbridgeUser, value: outcome.hosts[0] ?? '' }]);
  }

  // Invite, e-mails, confirmed: a pending invite does not hold up the confirmation.
  state.phase = 'inviting';
  state.invite = await syncInvites();
  if (searchableStart) {
    const confirmed = await mail.confirmAndSendNotices(bookingId);
    state.status = confirmed.status;
    await deliverInBackground(confirmed.undelivered);
  } else if (throughOutbox) {
    const confirmed = await quick.confirmBookingWithNotices(bookingId);
    state.status = confirmed.status;
    await deliverQueued(confirmed.emails);
  } else if (!cancelled) {
    await sendInBackground(...(await db.composeBookingNotices(bookingId, 'confirmed')));
    state.status = await db.confirmBooking(bookingId);
  }
  state.phase = 'confirmed';
  publish();
  stepping = false;

  // Until the appointment is over: keep the invites in line with reschedules and cancellation.
  for (;;) {
    const untilEnd = Date.parse(state.endsAt!) - Date.now();
    if (untilEnd <= 0 && !inviteDirty) break;
    const waitFor = state.invite === 'pending' ? Math.min(untilEnd, INVITE_RETRY_MS) : untilEnd;
    if (waitFor > 0) await condition(() => inviteDirty, waitFor);
    if (inviteDirty || state.invite === 'pending') {
      state.invite = await exclusively(() => {
        inviteDirty = false;
        return syncInvites();
      });
    }
    if (cancelled && !inviteDirty) break;
    if (Date.now() >= Date.parse(state.endsAt!) && !inviteDirty) break;
  }
  await condition(allHandlersFinished);
  state.phase = 'done';

  /** A calendar that stays unreachable fails the invite, not the booking. */
  async function syncInvites() {
    try {
      return await inviteWriter.syncInvites(bookingId);
    } catch (error) {
      if (isCancellation(error)) throw error;
      await db.markInvitesFailed(bookingId, error instanceof Error ? error.message : String(error));
      return 'failed' as const;
    }
  }

  async function notify(kind: 'rescheduled' | 'cancelled') {
    if (searchableStart) await deliverInBackground(await mail.queueAndSendNotices(bookingId, kind));
    else if (throughOutbox) await deliverQueued(await quick.queueBookingNotices(bookingId, kind));
    else await sendInBackground(...(await db.composeBookingNotices(bookingId, kind)));
  }

  function publish() {
    upsertSearchAttributes([{ key: CalbridgeStatus, value: state.status }]);
  }
}

function assertInstant(value: string): void {
  if (Number.isNaN(Date.parse(value))) throw new Error('start must be an RFC 3339 instant');
}
