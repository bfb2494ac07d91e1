import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toActivityFailure } from '../../activities/failures.ts';
import { PROVIDER_RETRY_MAX_INTERVAL_MS } from '../../domain/sync.ts';
import { CredentialsRejectedError, RateLimitedError } from '../../providers/errors.ts';

const delayMs = (failure: unknown) => {
  const delay = (failure as ApplicationFailure).nextRetryDelay;
  return typeof delay === 'number' ? delay : Number.NaN;
};

describe('provider errors as activity failures', () => {
  it("honours a provider's Retry-After up to the retry policy's longest interval, never beyond", () => {
    const polite = toActivityFailure(new RateLimitedError('slow down', 30_000));
    expect(polite).toBeInstanceOf(ApplicationFailure);
    expect(delayMs(polite)).toBe(30_000);
    // "Retry-After: 99999999" would otherwise park the sync for three years.
    const hostile = toActivityFailure(new RateLimitedError('slow down', 99_999_999_000));
    expect(delayMs(hostile)).toBe(PROVIDER_RETRY_MAX_INTERVAL_MS);
  });

  it('keeps the type the workflow branches on and marks permanent failures non-retryable', () => {
    const failure = toActivityFailure(new CredentialsRejectedError('revoked')) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'CredentialsRejected', nonRetryable: true, message: 'revoked' });
  });
});
