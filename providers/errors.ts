/**
 * Typed provider failures. Adapters translate HTTP/library errors into these; activities translate
 * them into Temporal ApplicationFailures (see activities/failures.ts) and connections/verify.ts into the API's error codes.
 */

export type ProviderErrorType =
  | 'CredentialsRejected'
  | 'ProviderUnreachable'
  | 'NotFound'
  | 'CursorExpired'
  | 'RateLimited'
  | 'ReadOnly'
  | 'InvalidData'
  | 'Transient';

export abstract class ProviderError extends Error {
  abstract readonly type: ProviderErrorType;
  /** Whether retrying the same call later can succeed. */
  abstract readonly retryable: boolean;
}

/** The provider refused the credentials (401/403 on auth, revoked grant, changed app password). */
export class CredentialsRejectedError extends ProviderError {
  readonly type = 'CredentialsRejected';
  readonly retryable = false;
}

/** DNS failure, refused connection, TLS failure, timeout: the server could not be reached. */
export class ProviderUnreachableError extends ProviderError {
  readonly type = 'ProviderUnreachable';
  readonly retryable = true;
}

export class NotFoundError extends ProviderError {
  readonly type = 'NotFound';
  readonly retryable = false;
}

/** The stored sync cursor is no longer accepted (Google 410, Graph syncStateNotFound, CalDAV valid-sync-token). */
export class CursorExpiredError extends ProviderError {
  readonly type = 'CursorExpired';
  readonly retryable = false;
}

export class RateLimitedError extends ProviderError {
  readonly type = 'RateLimited';
  readonly retryable = true;
  /** How long the provider asked us to wait, in milliseconds (Retry-After), if it said. */
  readonly retryAfterMs: number | null;
  constructor(message: string, retryAfterMs: number | null) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A write to a read-only calendar (ICS feed, read-only share). */
export class ReadOnlyError extends ProviderError {
  readonly type = 'ReadOnly';
  readonly retryable = false;
}

/** The provider answered, but with something that is not what we can read (e.g. a feed that is not iCalendar). */
export class InvalidDataError extends ProviderError {
  readonly type = 'InvalidData';
  readonly retryable = false;
}

/** 5xx and other passing faults. */
export class TransientProviderError extends ProviderError {
  readonly type = 'Transient';
  readonly retryable = true;
}
