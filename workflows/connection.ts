/**
 * connection/<connectionId>: the life of one linked calendar account.
 *
 *   discover calendars → await the user's selection (Save) → import each selected calendar →
 *   incremental loop, woken by the poll timer (or, for ICS feeds, by the worker's poll loop when the
 *   feed changed), "sync now", a new selection, settings, a reconnect or removal → on removal,
 *   delete everything imported and end.
 *
 * Credentials rejected by the provider park the connection in `needs_reauth` (one e-mail to the
 * owner) until `reconnect`; nothing is retried against a dead credential. No secret ever enters
 * this workflow: activities load credentials from PostgreSQL by connection id.
 */

import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { SyncDirection } from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import { PROVIDER_RETRY_MAX_INTERVAL_MS } from '../domain/sync.ts';
import { sendInBackground } from './email.ts';
import { CalbridgeStatus } from './search-attributes.ts';

/** The user saved a calendar selection (toggles / primary). */
export const calendarsSavedSignal = defineSignal('calendarsSaved');
/** "Synchronize now". */
export const syncNowSignal = defineSignal<[{ direction: SyncDirection }]>('syncNow');
/** Connection settings (sync direction) changed. */
export const settingsChangedSignal = defineSignal('settingsChanged');
/** New credentials were stored (they are in PostgreSQL, never in this signal). */
export const reconnectSignal = defineSignal('reconnect');
/** The user removed the connection. */
export const removeSignal = defineSignal('remove');
/** A verified push notification: something changed at the provider (a burst makes one pass). */
export const providerChangedSignal = defineSignal('providerChanged');
/** The provider says notifications were missed (Graph `missed`): re-list everything. */
export const reconcileSignal = defineSignal('reconcile');

export interface CalendarPassResult {
  calendarId: string;
  name: string;
  outcome: 'synced' | 'failed' | 'skipped';
  eventCount: number;
  error: string | null;
}

export interface ConnectionWorkflowStatus {
  connectionId: string;
  status: ConnectionStatus;
  phase:
    | 'starting'
    | 'awaiting_authorization'
    | 'discovering'
    | 'awaiting_selection'
    | 'syncing'
    | 'idle'
    | 'needs_reauth'
    | 'removing'
    | 'done';
  passes: number;
  lastPassAt: string | null;
  calendars: CalendarPassResult[];
  /**
   * The last "synchronize now" and its direction. Every pass imports busy time; moving old
   * appointments in the requested direction comes with two-way sync.
   */
  lastSyncRequest: { direction: SyncDirection; at: string } | null;
  /** The last full reconciliation: what it found the incremental cursors had missed. */
  lastReconciliation: { at: string; changed: number; removed: number } | null;
  /** Push channels kept by the last maintenance, and when they next need renewing. */
  push: { renewAt: string | null } | null;
}
export const statusQuery = defineQuery<ConnectionWorkflowStatus>('status');

/** What carries over a continue-as-new: pending requests must not be lost. */
interface Carried {
  passes: number;
  syncRequested: boolean;
  reconnectRequested: boolean;
  removeRequested: boolean;
  needsReauth: boolean;
  lastSyncRequest?: ConnectionWorkflowStatus['lastSyncRequest'];
  /** When the last full reconciliation (or first full import) ran, in epoch ms. */
  lastReconciledAt?: number;
  reconcileRequested?: boolean;
  lastReconciliation?: ConnectionWorkflowStatus['lastReconciliation'];
}

export interface ConnectionWorkflowInput {
  connectionId: string;
  carried?: Carried;
}

/** Quick database work. */
const db = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The same quick database work as local activities: they run inside the workflow task that asks
 * for them, so a poll costs no extra task round trip and a fraction of the history events.
 */
const localDb = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * A poll's quick question (has anything changed?): a single attempt, long enough for the provider's
 * request timeout (PROVIDER_TIMEOUT_SECONDS, at most 120 s); any failure means "run the regular pass".
 */
const quickPollActivity = proxyLocalActivities<Activities>({
  startToCloseTimeout: '150 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * Runs started before this version asked for their per-poll database work as regular activities
 * and re-published their status after every pass; they replay that way, new ones run lean.
 */
const lean = () => patched('lean-sync-pass');
/** Push channels, daily reconciliation and release of provider resources on removal came later. */
const pushAndReconcile = () => patched('push-and-reconcile');
/** Later still: a poll of a provider that can tell "unchanged" cheaply (ICS) asks that first. */
const conditionalPolls = () => patched('conditional-poll');
/**
 * Then the worker's poll loop (connections/watched-polls.ts) took those polls over: the run sleeps
 * until a change wakes it (`providerChanged`) or its next reconciliation is due.
 */
const watchedPolls = () => patched('watched-polls');

/** How long a new OAuth link waits for the user's consent before it is dropped. */
const AUTHORIZATION_WAIT = '1 hour';
const quickDb = () => (lean() ? localDb : db);

/** Talking to the provider: typed failures decide what is worth retrying. */
const providerRetry = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: PROVIDER_RETRY_MAX_INTERVAL_MS,
  maximumAttempts: 6,
  nonRetryableErrorTypes: ['CredentialsRejected', 'NotFound', 'InvalidData', 'ReadOnly'],
};

export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<void> {
  const { connectionId } = input;
  const carried: Carried = input.carried ?? {
    passes: 0,
    syncRequested: false,
    reconnectRequested: false,
    removeRequested: false,
    needsReauth: false,
  };
  const state: ConnectionWorkflowStatus = {
    connectionId,
    status: 'importing',
    phase: 'starting',
    passes: carried.passes,
    lastPassAt: null,
    calendars: [],
    lastSyncRequest: carried.lastSyncRequest ?? null,
    lastReconciliation: carried.lastReconciliation ?? null,
    push: null,
  };
  let selectionSaved = false;
  /** The sync pass in flight, if any: a removal cancels it instead of waiting for it to finish. */
  let passInFlight: CancellationScope | null = null;

  setHandler(statusQuery, () => state);
  setHandler(calendarsSavedSignal, () => {
    selectionSaved = true;
    carried.syncRequested = true;
  });
  setHandler(syncNowSignal, ({ direction }) => {
    state.lastSyncRequest = carried.lastSyncRequest = { direction, at: new Date().toISOString() };
    carried.syncRequested = true;
  });
  setHandler(settingsChangedSignal, () => {
    carried.syncRequested = true;
  });
  setHandler(reconnectSignal, () => {
    carried.reconnectRequested = true;
  });
  setHandler(removeSignal, () => {
    carried.removeRequested = true;
    passInFlight?.cancel();
  });
  setHandler(providerChangedSignal, () => {
    carried.syncRequested = true;
  });
  setHandler(reconcileSignal, () => {
    carried.reconcileRequested = true;
    carried.syncRequested = true;
  });

  const snapshot = await db.loadConnection(connectionId);
  if (!snapshot.exists || snapshot.status === 'removed') {
    state.phase = 'done';
    state.status = 'removed';
    return;
  }
  state.status = snapshot.status;
  selectionSaved ||= snapshot.selectionSaved;
  if (snapshot.status === 'removing') carried.removeRequested = true;
  if (snapshot.status === 'needs_reauth' && !carried.reconnectRequested) carried.needsReauth = true;

  // Decided once per run, from its recorded snapshot (runs recorded before it existed have no flag).
  const conditionalPoll = snapshot.conditionalPoll === true && conditionalPolls();
  const watched = conditionalPoll && watchedPolls();

  const provider = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: `${snapshot.heartbeatSeconds} seconds`,
    retry: providerRetry,
    // A cancelled import stops at its next page before removal deletes what it imported, so no
    // late page can write after the removal.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

  const setStatus = async (status: ConnectionStatus, reason: string | null = null) => {
    state.status = await db.setConnectionStatus(connectionId, status, reason);
    publishStatus();
  };
  let published: ConnectionStatus | null = null;
  const publishStatus = () => {
    if (lean() && published === state.status) return;
    published = state.status;
    upsertSearchAttributes([{ key: CalbridgeStatus, value: state.status }]);
  };

  /** Runs a provider activity; a rejected credential parks the connection instead of failing the run. */
  const withCredentials = async <T>(work: () => Promise<T>): Promise<T | 'rejected'> => {
    try {
      return await work();
    } catch (error) {
      const type = failureType(error);
      if (type !== 'CredentialsRejected') throw error;
      carried.needsReauth = true;
      const parked = await db.markNeedsReauth(connectionId, failureMessage(error));
      state.status = parked.status;
      publishStatus();
      if (parked.notice) await sendInBackground(parked.notice);
      return 'rejected';
    }
  };

  const remove = async () => {
    state.phase = 'removing';
    await setStatus('removing');
    if (pushAndReconcile()) await provider.releaseProviderResources(connectionId);
    await db.removeConnectionData(connectionId);
    state.status = 'removed';
    state.phase = 'done';
    publishStatus();
  };

  const reconcileMs = snapshot.reconcileSeconds * 1000;
  const reconcileDue = () =>
    carried.reconcileRequested === true ||
    (carried.lastReconciledAt !== undefined && Date.now() - carried.lastReconciledAt >= reconcileMs);

  /** Keeps the push channels alive; polling goes on whatever happens here. */
  const maintainPush = async () => {
    try {
      const kept = await withCredentials(() => provider.maintainPushChannels(connectionId));
      if (kept !== 'rejected') state.push = { renewAt: kept.renewAt };
    } catch (error) {
      log.warn('Push channels not maintained; polling continues', {
        connectionId,
        error: failureMessage(error),
      });
    }
  };

  /** The next poll, reconciliation or channel renewal, whichever comes first. */
  const nextWakeMs = () => {
    const now = Date.now();
    const waits = [watched ? reconcileMs : snapshot.pollSeconds * 1000];
    if (carried.lastReconciledAt !== undefined) waits.push(carried.lastReconciledAt + reconcileMs - now);
    if (state.push?.renewAt) waits.push(Date.parse(state.push.renewAt) - now);
    return Math.max(1000, Math.min(...waits));
  };

  /** Lists the account's calendars; a provider that stays unreachable marks the connection `error`. */
  const discover = async (): Promise<'ok' | 'rejected' | 'failed'> => {
    try {
      const found = await withCredentials(() => provider.discoverCalendars(connectionId));
      return found === 'rejected' ? 'rejected' : 'ok';
    } catch (error) {
      await setStatus('error', failureMessage(error));
      return 'failed';
    }
  };

  // 0. A new OAuth link waits for the user's consent (the callback stores the grant, then signals).
  if (snapshot.status === 'pending_authorization' && !carried.reconnectRequested) {
    state.phase = 'awaiting_authorization';
    const answered = await condition(
      () => carried.reconnectRequested || carried.removeRequested,
      AUTHORIZATION_WAIT,
    );
    if (!answered || carried.removeRequested) return remove();
  }

  // 1. Discover calendars and wait for the user's selection.
  while (!selectionSaved) {
    state.phase = 'discovering';
    // Cleared before discovering, so a reconnect or retry asked for meanwhile runs another discovery.
    carried.reconnectRequested = false;
    carried.syncRequested = false;
    const discovered = await discover();
    if (discovered === 'ok' && !selectionSaved) await setStatus('awaiting_selection');
    state.phase = discovered === 'rejected' ? 'needs_reauth' : 'awaiting_selection';
    const woken = () =>
      selectionSaved || carried.removeRequested || carried.reconnectRequested || carried.syncRequested;
    if (discovered === 'failed') await condition(woken, `${snapshot.pollSeconds} seconds`);
    else await condition(woken);
    if (carried.removeRequested) return remove();
    // Otherwise: saved, or a reconnect / retry before any selection: discover again.
  }
  carried.needsReauth &&= !carried.reconnectRequested;

  // 2. Import, then keep in sync.
  for (;;) {
    if (carried.removeRequested) return remove();

    if (carried.needsReauth && !carried.reconnectRequested) {
      state.phase = 'needs_reauth';
      await condition(() => carried.reconnectRequested || carried.removeRequested);
      continue;
    }
    if (carried.reconnectRequested) {
      carried.reconnectRequested = false;
      carried.needsReauth = false;
      if ((await discover()) === 'rejected') continue;
    }

    state.phase = 'syncing';
    carried.syncRequested = false;
    const reconcile = pushAndReconcile() && reconcileDue();
    carried.reconcileRequested = false;
    const scope = new CancellationScope();
    passInFlight = scope;
    let pass: Awaited<ReturnType<typeof syncPass>>;
    let unchangedStatus: ConnectionStatus | null = null;
    try {
      pass = await scope.run(async () => {
        if (conditionalPoll && !watched && !reconcile) {
          const quick = await pollUnchanged(connectionId);
          if (quick.unchanged) {
            unchangedStatus = quick.status;
            return { calendars: quick.calendars.map(unchangedCalendar), changed: 0, removed: 0 };
          }
        }
        return syncPass(connectionId, provider, withCredentials, reconcile);
      });
    } catch (error) {
      if (isCancellation(error) && carried.removeRequested) continue;
      throw error;
    } finally {
      passInFlight = null;
    }
    if (pass === 'rejected') continue;
    state.calendars = pass.calendars;
    state.passes = ++carried.passes;
    state.lastPassAt = new Date().toISOString();
    if (reconcile) {
      state.lastReconciliation = carried.lastReconciliation = {
        at: state.lastPassAt,
        changed: pass.changed,
        removed: pass.removed,
      };
      log.info('Reconciled connection', { connectionId, ...carried.lastReconciliation });
    }
    if (reconcile || carried.lastReconciledAt === undefined) carried.lastReconciledAt = Date.now();
    // An unchanged poll already recorded itself.
    state.status =
      unchangedStatus ??
      (await quickDb().finishSyncPass(
        connectionId,
        watched ? { nextPollSeconds: snapshot.pollSeconds } : {},
      ));
    publishStatus();
    if (snapshot.push && pushAndReconcile()) await maintainPush();

    state.phase = 'idle';
    await condition(
      () =>
        carried.syncRequested ||
        carried.reconnectRequested ||
        carried.removeRequested ||
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > snapshot.historyLimit,
      pushAndReconcile() ? nextWakeMs() : `${snapshot.pollSeconds} seconds`,
    );

    if (
      !carried.removeRequested &&
      (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > snapshot.historyLimit)
    ) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof connectionWorkflow>({ connectionId, carried });
    }
  }
}

/** The quick question; a failure of its own (a timeout, the database) means "not known unchanged". */
async function pollUnchanged(
  connectionId: string,
): Promise<Awaited<ReturnType<Activities['pollUnchanged']>>> {
  try {
    return await quickPollActivity.pollUnchanged(connectionId);
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('Quick poll failed; running the regular pass', { connectionId, error: failureMessage(error) });
    return { unchanged: false };
  }
}

function unchangedCalendar(c: { calendarId: string; name: string; eventCount: number }): CalendarPassResult {
  return { calendarId: c.calendarId, name: c.name, outcome: 'synced', eventCount: c.eventCount, error: null };
}

type ProviderActivities = Pick<Activities, 'importCalendar' | 'discoverCalendars'>;

interface PassResult {
  calendars: CalendarPassResult[];
  /** Objects new or changed, and removed, over all calendars: for a reconciliation, what it repaired. */
  changed: number;
  removed: number;
}

/**
 * One pass over the connection's calendars, one at a time (CalDAV servers dislike parallel crawls).
 * A reconciliation lists every calendar in full instead of asking for changes since its cursor.
 */
async function syncPass(
  connectionId: string,
  provider: ProviderActivities,
  withCredentials: <T>(work: () => Promise<T>) => Promise<T | 'rejected'>,
  reconcile: boolean,
): Promise<PassResult | 'rejected'> {
  const targets = await quickDb().listSyncTargets(connectionId);
  const results: CalendarPassResult[] = [];
  let changed = 0;
  let removed = 0;
  for (const target of targets) {
    try {
      const result = await withCredentials(() =>
        reconcile
          ? provider.importCalendar(target.calendarId, { fullListing: true })
          : provider.importCalendar(target.calendarId),
      );
      if (result === 'rejected') return 'rejected';
      changed += result.changed ?? 0;
      removed += result.removed;
      results.push({
        calendarId: target.calendarId,
        name: target.name,
        outcome: result.mode === 'skipped' ? 'skipped' : 'synced',
        eventCount: result.eventCount,
        error: null,
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Retries are spent (or the failure is permanent): record it and move on to the next calendar.
      const message = failureMessage(error);
      await db.markCalendarError(target.calendarId, message);
      results.push({
        calendarId: target.calendarId,
        name: target.name,
        outcome: 'failed',
        eventCount: 0,
        error: message,
      });
    }
  }
  return { calendars: results, changed, removed };
}

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
