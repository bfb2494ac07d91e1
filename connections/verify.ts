/**
 * Verifying access before anything is stored: the adapter logs in and lists the calendars within
 * a deadline, and what went wrong becomes the API's 422 (or 429) a person can act on.
 */
import { AppError } from '../domain/errors.ts';
import type { Config } from '../platform/config.ts';
import type { ProviderCalendar, ProviderConnection } from '../providers/contract.ts';
import {
  CredentialsRejectedError,
  InvalidDataError,
  NotFoundError,
  ProviderError,
  ProviderUnreachableError,
  RateLimitedError,
} from '../providers/errors.ts';
import { DestinationNotAllowedError, ResponseTooLargeError } from '../providers/outbound/errors.ts';
import { openProvider } from './credentials.ts';

/** The contract's promise to the caller of create and reconnect. */
export const VERIFY_DEADLINE_MS = 15_000;

export interface VerifiedAccount {
  accountEmail: string | null;
  calendars: ProviderCalendar[];
}

export async function verifyAndList(config: Config, parts: ProviderConnection): Promise<VerifiedAccount> {
  const provider = openProvider(config, parts);
  try {
    return await withinDeadline(VERIFY_DEADLINE_MS, async () => {
      const account = await provider.verifyAccess();
      return { accountEmail: account.accountEmail, calendars: await provider.listCalendars() };
    });
  } catch (error) {
    throw toVerificationError(error);
  }
}

/** Settles with `work`, or rejects as unreachable once `ms` have passed (the work is abandoned). */
async function withinDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderUnreachableError(`Could not reach the server within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function toVerificationError(error: unknown): AppError {
  if (error instanceof DestinationNotAllowedError)
    return new AppError(422, 'destination_not_allowed', `${error.message}.`);
  if (error instanceof ResponseTooLargeError)
    return new AppError(422, 'invalid_feed', `${error.message}.`, { limitBytes: error.limitBytes });
  if (error instanceof CredentialsRejectedError)
    return new AppError(
      422,
      'invalid_credentials',
      'The provider rejected these credentials. Check the username and password (for iCloud, an app-specific password).',
    );
  if (error instanceof InvalidDataError)
    return new AppError(
      422,
      'invalid_feed',
      `The address answered, but not with a calendar: ${error.message}`,
    );
  if (error instanceof NotFoundError)
    return new AppError(422, 'provider_unreachable', `Nothing was found at that address: ${error.message}`);
  if (error instanceof RateLimitedError)
    return new AppError(
      429,
      'rate_limited',
      'The provider is rate limiting requests. Try again shortly.',
      error.retryAfterMs ? { retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) } : undefined,
    );
  if (error instanceof ProviderUnreachableError)
    return new AppError(422, 'provider_unreachable', `${error.message}.`);
  if (error instanceof ProviderError)
    return new AppError(422, 'provider_unreachable', `The provider could not be reached: ${error.message}`);
  // Not a provider's typed answer: whatever it says is not for the caller (it could carry transport
  // codes or bytes of a response).
  return new AppError(422, 'provider_unreachable', 'Could not reach the server.');
}
