/**
 * The two failures that only outbound HTTP produces. Both are permanent for the request that met
 * them (type InvalidData, not retryable): asking again reaches the same address or the same body.
 * Their messages name the host and the limit, never the address a name resolved to or any byte of
 * the answer.
 */
import { InvalidDataError, ProviderError } from '../errors.ts';

/** The destination (or a redirect hop) resolves to a network the destination policy refuses. */
export class DestinationNotAllowedError extends ProviderError {
  readonly type = 'InvalidData';
  readonly retryable = false;
  readonly host: string;

  constructor(host: string, network: string) {
    super(
      `${host} is on a ${network} network, which this server does not connect to for user-supplied addresses`,
    );
    this.host = host;
  }
}

/** A response body (after decompression) is larger than the configured cap. */
export class ResponseTooLargeError extends InvalidDataError {
  readonly limitBytes: number;

  constructor(host: string, limitBytes: number) {
    super(`The response from ${host} is larger than ${formatBytes(limitBytes)}, the most this server reads`);
    this.limitBytes = limitBytes;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
