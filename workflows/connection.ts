/**
 * connection/<connectionId>: the life of one linked calendar account.
 *
 *   discover calendars → await the user's selection (Save) → import each selected calendar →
 *   incremental loop, woken by the poll timer, "sync now", a new selection, settings, a reconnect
 *   or removal → on removal, delete everything imported and end.
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
 * Runs started before this version asked for their per-poll database work as regular activities
 * and re-published their status after every pass; they replay that way, new ones run lean.
 */
const lean = () => patched('lean-sync-pass');
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
    await db.removeConnectionData(connectionId);
    state.status = 'removed';
    state.phase = 'done';
    publishStatus();
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
    const scope = new CancellationScope();
    passInFlight = scope;
    let pass: Awaited<ReturnType<typeof syncPass>>;
    try {
      pass = await scope.run(() => syncPass(connectionId, provider, withCredentials));
    } catch (error) {
      if (isCancellation(error) && carried.removeRequested) continue;
      throw error;
    } finally {
      passInFlight = null;
    }
    if (pass === 'rejected') continue;
    state.calendars = pass;
    state.passes = ++carried.passes;
    state.lastPassAt = new Date().toISOString();
    state.status = await quickDb().finishSyncPass(connectionId);
    publishStatus();

    state.phase = 'idle';
    await condition(
      () =>
        carried.syncRequested ||
        carried.reconnectRequested ||
        carried.removeRequested ||
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > snapshot.historyLimit,
      `${snapshot.pollSeconds} seconds`,
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

type ProviderActivities = Pick<Activities, 'importCalendar' | 'discoverCalendars'>;

/** One pass over the connection's calendars, one at a time (CalDAV servers dislike parallel crawls). */
async function syncPass(
  connectionId: string,
  provider: ProviderActivities,
  withCredentials: <T>(work: () => Promise<T>) => Promise<T | 'rejected'>,
): Promise<CalendarPassResult[] | 'rejected'> {
  const targets = await quickDb().listSyncTargets(connectionId);
  const results: CalendarPassResult[] = [];
  for (const target of targets) {
    try {
      const result = await withCredentials(() => provider.importCalendar(target.calendarId));
      if (result === 'rejected') return 'rejected';
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
  return results;
}

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
