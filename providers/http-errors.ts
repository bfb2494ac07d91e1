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
 * Refused, DNS, TLS, reset, timeout: the server could not be reached (or stopped answering).
 * `what` names the peer for a person, e.g. "CalDAV server at dav.example.com".
 */
export function transportError(error: unknown, what: string, timeoutMs: number): ProviderError {
  const { name, message, cause } = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderUnreachableError(`${what} did not answer within ${timeoutMs} ms`);
  }
  const detail = cause?.code ?? cause?.message ?? message ?? String(error);
  return new ProviderUnreachableError(`${what} is unreachable (${detail})`);
}
