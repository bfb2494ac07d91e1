/** Limits of talking to providers that the workflow's retry policy and the activities share. */

/**
 * The longest wait between two attempts of a provider call. A provider's Retry-After is honoured
 * up to this and no further: Temporal does not bound an activity's `nextRetryDelay` by the retry
 * policy's `maximumInterval`, so a hostile or broken "Retry-After: 99999999" would park a sync for years.
 */
export const PROVIDER_RETRY_MAX_INTERVAL_MS = 5 * 60_000;
