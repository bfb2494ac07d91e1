/**
 * Every Calendar API call goes through `GoogleApi.call`: the grant's bearer token (refreshed once
 * after a 401), our own retry policy (gaxios' retries are off: they skip POST/PATCH and 403
 * rateLimitExceeded, and ignore Retry-After), and Google's failures as typed ProviderErrors.
 * Response bodies are never echoed into errors; the library error stays as `cause`.
 */
import type { calendar_v3 } from 'googleapis';
// The Calendar API's own entry point: the package root loads every Google API (~100 MB more RSS).
import { calendar } from 'googleapis/build/src/apis/calendar/index.js';
import type { ProviderContext } from '../contract.ts';
import {
  CredentialsRejectedError,
  CursorExpiredError,
  NotFoundError,
  type ProviderError,
  RateLimitedError,
  ReadOnlyError,
  TransientProviderError,
} from '../errors.ts';
import { retryAfterMs, transportError } from '../http-errors.ts';
import type { GrantAccess } from '../oauth.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff; doubled per attempt, with jitter. */
  baseMs: number;
  /** No single wait is longer, whatever Retry-After asks. */
  capMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 6, baseMs: 500, capMs: 30_000 };

/** Per-call request options: the bearer token header. */
export type CallOptions = { headers: { Authorization: string } };

/** What a call answered when its status was one the caller takes as an outcome (409 duplicate, 410 gone). */
export type Answer<T> = { ok: true; data: T } | { ok: false; status: number; reason: string | null };

/** The failure of one attempt, as the retry loop sees it. */
type Failure =
  | { kind: 'unauthorized' }
  | { kind: 'retry'; error: ProviderError; waitMs: number | null }
  | { kind: 'final'; error: ProviderError }
  | { kind: 'status'; status: number; reason: string | null };

const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

export class GoogleApi {
  readonly calendar: calendar_v3.Calendar;
  private readonly grant: GrantAccess | undefined;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;

  constructor(grant: GrantAccess | undefined, context: ProviderContext, policy: RetryPolicy) {
    this.grant = grant;
    this.timeoutMs = context.requestTimeoutMs;
    this.policy = policy;
    this.calendar = calendar({
      version: 'v3',
      // Only the origin of rootUrl is used: the API paths stay /calendar/v3/...
      rootUrl: `${new URL(context.apiUrls?.google ?? 'https://www.googleapis.com').origin}/`,
      timeout: context.requestTimeoutMs,
      retry: false,
      userAgentDirectives: [{ product: 'Calbridge', version: '0.1' }],
    });
  }

  /** Runs one API call; every non-2xx answer becomes a ProviderError. */
  async call<T>(run: (options: CallOptions) => Promise<{ data: T }>): Promise<T> {
    const answer = await this.callAccepting(run, []);
    // With no status accepted, every failure was thrown as a ProviderError already.
    if (!answer.ok) throw new TransientProviderError(`Google Calendar answered ${answer.status}`);
    return answer.data;
  }

  /** Like `call`, but the `accepted` statuses come back as answers instead of errors. */
  async callAccepting<T>(
    run: (options: CallOptions) => Promise<{ data: T }>,
    accepted: number[],
  ): Promise<Answer<T>> {
    let token = await this.accessToken();
    let refreshed = false;
    let failures = 0;
    for (;;) {
      try {
        const response = await run({ headers: { Authorization: `Bearer ${token}` } });
        return { ok: true, data: response.data };
      } catch (error) {
        const failure = this.classify(error, accepted);
        switch (failure.kind) {
          case 'status':
            return { ok: false, status: failure.status, reason: failure.reason };
          case 'unauthorized':
            if (refreshed) throw new CredentialsRejectedError('Google refused the refreshed access token');
            token = await this.accessToken(token);
            refreshed = true;
            continue;
          case 'retry':
            failures += 1;
            if (failures >= this.policy.attempts) throw failure.error;
            await sleep(this.backoff(failures, failure.waitMs));
            continue;
          case 'final':
            throw failure.error;
        }
      }
    }
  }

  private async accessToken(rejected?: string): Promise<string> {
    if (!this.grant) throw new CredentialsRejectedError('The Google connection holds no grant');
    // The grant throws CredentialsRejectedError for a dead grant, and passing faults as they are.
    return this.grant.accessToken(rejected === undefined ? {} : { rejected });
  }

  /** Exponential with jitter, at least what Retry-After asked, never more than the cap. */
  private backoff(failures: number, waitMs: number | null): number {
    const exponential = this.policy.baseMs * 2 ** (failures - 1);
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    return Math.min(this.policy.capMs, Math.max(jittered, waitMs ?? 0));
  }

  private classify(error: unknown, accepted: number[]): Failure {
    if (!isLibraryError(error)) throw error;
    const response = error.response;
    if (!response) {
      return { kind: 'retry', error: transportError(error, 'Google Calendar', this.timeoutMs), waitMs: null };
    }
    const status = response.status;
    const reason = errorReason(response.data);
    if (accepted.includes(status)) return { kind: 'status', status, reason };
    const cause = { cause: error };
    if (status === 401) return { kind: 'unauthorized' };
    if (status === 429 || (status === 403 && reason !== null && THROTTLE_REASONS.has(reason))) {
      const waitMs = retryAfterMs(headerOf(response.headers, 'retry-after'));
      return {
        kind: 'retry',
        waitMs,
        error: new RateLimitedError('Google Calendar is throttling requests', waitMs),
      };
    }
    if (status >= 500 || status === 408) {
      return {
        kind: 'retry',
        waitMs: null,
        error: new TransientProviderError(`Google Calendar answered ${status}`, cause),
      };
    }
    if (status === 410 && reason === 'fullSyncRequired') {
      return { kind: 'final', error: new CursorExpiredError('Google asks for a full sync', cause) };
    }
    if (status === 403 && reason === 'requiredAccessLevel') {
      return {
        kind: 'final',
        error: new ReadOnlyError('The Google calendar is read-only for this account', cause),
      };
    }
    if (status === 403 && (reason === 'insufficientPermissions' || reason === 'authError')) {
      return {
        kind: 'final',
        error: new CredentialsRejectedError('Google access lacks the calendar permission: reconnect', cause),
      };
    }
    if (status === 404 || status === 410 || status === 403) {
      return {
        kind: 'final',
        error: new NotFoundError('Google Calendar has no such calendar or event', cause),
      };
    }
    return { kind: 'final', error: new TransientProviderError(`Google Calendar answered ${status}`, cause) };
  }
}

/** The shape of a gaxios error (the package is googleapis' own dependency, not ours to import). */
interface LibraryError {
  response?: { status: number; data: unknown; headers: unknown };
}

function isLibraryError(error: unknown): error is Error & LibraryError {
  return error instanceof Error && 'config' in error;
}

/** Google's `error.errors[0].reason`. */
function errorReason(data: unknown): string | null {
  const reason = (data as { error?: { errors?: { reason?: unknown }[] } } | null)?.error?.errors?.[0]?.reason;
  return typeof reason === 'string' ? reason : null;
}

function headerOf(headers: unknown, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const value = (headers as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value : null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
