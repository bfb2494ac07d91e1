/** Heartbeats for provider work, so a crashed worker's activity moves to another worker quickly. */
import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating well inside the activity's heartbeat timeout. A cancellation
 * (delivered with a heartbeat) ends the wait at once; `work` gets the signal to stop early itself.
 */
export async function withHeartbeat<T>(
  work: (signal: AbortSignal, beat: (details?: unknown) => void) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  // A local activity has no heartbeats: the workflow task that runs it times out instead.
  if (ctx.info.isLocal) return work(ctx.cancellationSignal, () => {});
  const every = Math.min(5000, Math.max(250, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => ctx.heartbeat(), every);
  try {
    return await Promise.race([
      work(ctx.cancellationSignal, (details) => ctx.heartbeat(details)),
      ctx.cancelled,
    ]);
  } finally {
    clearInterval(timer);
  }
}
