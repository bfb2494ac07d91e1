/** Turns provider errors into Temporal failures the workflow can branch on (by `type`). */
import { ApplicationFailure } from '@temporalio/common';
import { PROVIDER_RETRY_MAX_INTERVAL_MS } from '../domain/sync.ts';
import { ProviderError, RateLimitedError } from '../providers/errors.ts';

export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof ProviderError)) return error;
  return ApplicationFailure.create({
    type: error.type,
    message: error.message,
    nonRetryable: !error.retryable,
    ...(error instanceof RateLimitedError && error.retryAfterMs
      ? { nextRetryDelay: Math.min(error.retryAfterMs, PROVIDER_RETRY_MAX_INTERVAL_MS) }
      : {}),
  });
}

/** Runs `work`, rethrowing provider errors as typed ApplicationFailures. */
export async function providerCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toActivityFailure(error);
  }
}
