/** HTTP-level failures every adapter maps the same way (Google and Microsoft will need them too). */
import { type ProviderError, ProviderUnreachableError } from './errors.ts';

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 10.2.3), in milliseconds. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Refused, reset, DNS, TLS, timeout: the server could not be reached (or stopped answering). One
 * message for all of them, naming neither the transport's code nor anything the peer sent, so that
 * these errors cannot map which addresses and ports answer; the original stays as `cause` for logs.
 * `what` names the peer for a person, e.g. "the server at dav.example.com".
 */
export function transportError(error: unknown, what: string, timeoutMs: number): ProviderError {
  return new ProviderUnreachableError(`Could not reach ${what} within ${timeoutMs} ms`, { cause: error });
}
