/**
 * HTTP for the Microsoft Graph adapter: the bearer token from the grant (one refresh after a 401),
 * the per-request timeout, a byte cap on every answer, at most a few requests in flight, and the
 * statuses that mean the same whatever the request: 401, 429 (waits out Retry-After), 5xx and
 * transport faults (retried with backoff). Everything else comes back to the caller with Graph's
 * error code, for the statuses whose meaning depends on the request (404, 410, 412...).
 *
 * The bearer token only ever goes to the configured Graph origin: links Graph hands back
 * (@odata.nextLink, @odata.deltaLink) are followed only when they point there.
 */
import {
  CredentialsRejectedError,
  InvalidDataError,
  ProviderError,
  RateLimitedError,
  TransientProviderError,
} from '../errors.ts';
import { retryAfterMs, transportError } from '../http-errors.ts';
import type { GrantAccess } from '../oauth.ts';

export interface GraphRetryPolicy {
  /** Attempts per request, the first included, for 429, 5xx and transport faults. */
  attempts: number;
  /** Longest single wait a Retry-After may impose; a longer one fails the request at once. */
  maxRetryAfterMs: number;
  /** First backoff after a 5xx or transport fault (doubled each time) and after a 429 without Retry-After. */
  backoffMs: number;
}

const DEFAULT_RETRY: GraphRetryPolicy = { attempts: 4, maxRetryAfterMs: 30_000, backoffMs: 500 };

/** Graph throttles above about four concurrent requests per app and mailbox. */
const MAX_IN_FLIGHT = 4;
/** A delta page of 500 events is a few MiB at most; anything far past that is not an answer we read. */
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface GraphClientOptions {
  /** MICROSOFT_GRAPH_URL, e.g. https://graph.microsoft.com (the client adds /v1.0). */
  graphUrl: string;
  grant: GrantAccess | undefined;
  timeoutMs: number;
  userAgent: string;
  retry?: GraphRetryPolicy;
  maxBodyBytes?: number;
}

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under /v1.0 ('/me/calendars'), or an absolute link Graph returned. */
  target: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty or non-JSON body. */
  body: unknown;
  /** Graph's `error.code` for a 4xx answer, else null. */
  errorCode: string | null;
}

/** Graph's error codes that say a delta token can no longer be used (besides a plain 410). */
const RESYNC_CODES = new Set(['syncStateNotFound', 'resyncRequired', 'syncStateInvalid']);

export const isDeadSyncState = (response: GraphResponse) =>
  response.status === 410 || (response.errorCode !== null && RESYNC_CODES.has(response.errorCode));

export class GraphClient {
  readonly #base: URL;
  readonly #grant: GrantAccess | undefined;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #retry: GraphRetryPolicy;
  readonly #maxBodyBytes: number;
  readonly #slots = new Slots(MAX_IN_FLIGHT);

  constructor(options: GraphClientOptions) {
    this.#base = new URL(`${options.graphUrl.replace(/\/+$/, '')}/v1.0/`);
    this.#grant = options.grant;
    this.#timeoutMs = options.timeoutMs;
    this.#userAgent = options.userAgent;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** One Graph call with the retries above; a 2xx or a request-specific 4xx comes back. */
  async request(request: GraphRequest): Promise<GraphResponse> {
    const url = this.#resolve(request.target);
    let rejected: string | undefined;
    let backoff = this.#retry.backoffMs;
    let attempt = 0;
    for (;;) {
      const token = await this.#accessToken(rejected);
      let response: GraphResponse;
      try {
        response = await this.#slots.run(() => this.#send(url, request, token));
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (++attempt >= this.#retry.attempts) throw transportError(error, this.#what(), this.#timeoutMs);
        await sleep(backoff);
        backoff *= 2;
        continue;
      }
      const { status } = response;
      if (status === 401) {
        // One refresh per request: a second 401 is a verdict on the grant, not on a stale token.
        if (rejected !== undefined) {
          throw new CredentialsRejectedError(`${this.#what()} refused the refreshed access token`);
        }
        rejected = token;
        continue;
      }
      const waitMs =
        status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after')) : null;
      if (status === 429) {
        const wait = waitMs ?? backoff;
        if (++attempt >= this.#retry.attempts || wait > this.#retry.maxRetryAfterMs) {
          throw new RateLimitedError(`${this.#what()} is throttling requests (429)`, waitMs);
        }
        await sleep(wait);
        if (waitMs === null) backoff *= 2;
        continue;
      }
      if (status >= 500) {
        if (++attempt >= this.#retry.attempts)
          throw new TransientProviderError(`${this.#what()} answered ${status}`);
        await sleep(Math.min(waitMs ?? backoff, this.#retry.maxRetryAfterMs));
        backoff *= 2;
        continue;
      }
      return response;
    }
  }

  /** An absolute link is followed only on the Graph origin and under /v1.0, where the token belongs. */
  #resolve(target: string): URL {
    if (!/^https?:/i.test(target)) return new URL(target.replace(/^\/+/, ''), this.#base);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new InvalidDataError(`${this.#what()} returned a link that is not a URL`);
    }
    if (url.origin !== this.#base.origin || !url.pathname.startsWith(this.#base.pathname)) {
      throw new InvalidDataError(
        `${this.#what()} returned a link to another server (${url.host}); not followed`,
      );
    }
    return url;
  }

  /** The grant's current token (it refreshes when near expiry), or a new one after `rejected` was refused. */
  async #accessToken(rejected: string | undefined): Promise<string> {
    if (!this.#grant) throw new CredentialsRejectedError('The Microsoft connection holds no grant');
    try {
      return await this.#grant.accessToken(rejected === undefined ? {} : { rejected });
    } catch (error) {
      // A passing fault while refreshing is not a verdict on the grant.
      if (error instanceof ProviderError && error.retryable) throw error;
      throw new CredentialsRejectedError('The Microsoft grant could not give an access token', {
        cause: error,
      });
    }
  }

  async #send(url: URL, request: GraphRequest, token: string): Promise<GraphResponse> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.#userAgent,
      ...request.headers,
      Authorization: `Bearer ${token}`,
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const response = await fetch(url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      redirect: 'error',
      signal,
    });
    const text = await readCapped(response, this.#maxBodyBytes, this.#what());
    let body: unknown = null;
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        if (response.ok) throw new InvalidDataError(`${this.#what()} answered with malformed JSON`);
      }
    }
    return { status: response.status, headers: response.headers, body, errorCode: errorCodeOf(body) };
  }

  #what(): string {
    return `Microsoft Graph at ${this.#base.host}`;
  }
}

function errorCodeOf(body: unknown): string | null {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : null;
}

/** The body as text, refusing to hold more than `cap` bytes of it. */
async function readCapped(response: Response, cap: number, what: string): Promise<string> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  if (declared > cap) {
    await response.body.cancel();
    throw new InvalidDataError(`${what} sent an answer larger than ${cap} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > cap) throw new InvalidDataError(`${what} sent an answer larger than ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A counting semaphore: at most `size` callers inside `run` at once, the others in arrival order. */
class Slots {
  readonly #waiting: (() => void)[] = [];
  #free: number;

  constructor(size: number) {
    this.#free = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
