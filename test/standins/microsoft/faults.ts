/**
 * Faults the stand-in's Graph can inject, each deterministic so that tests can rely on them: a
 * rate r fails the first request and then one in every 1/r (r = 1: all), throttling with 429 and
 * Retry-After, failing with 503 and 500 in turn. Entra is never faulted.
 */
import type { NextFunction, Response } from 'express';
import { graphError } from './graph.ts';

export class Faults {
  /** Largest delta page served, whatever the client asks for; null: no cap. */
  pageCap: number | null = null;
  /** Every delta page also carries the items of the page before it again. */
  replay = false;
  #throttle = { rate: 0, retryAfterSeconds: 1, count: 0 };
  #fail = { rate: 0, count: 0 };

  throttleRate(rate: number, retryAfterSeconds = 1): void {
    this.#throttle = { rate, retryAfterSeconds, count: 0 };
  }

  failRate(rate: number): void {
    this.#fail = { rate, count: 0 };
  }

  clear(): void {
    this.throttleRate(0);
    this.failRate(0);
    this.pageCap = null;
    this.replay = false;
  }

  apply(res: Response, next: NextFunction): void {
    if (fires(this.#throttle)) {
      res.set('Retry-After', String(this.#throttle.retryAfterSeconds));
      graphError(res, 429, 'TooManyRequests', 'Too many requests. Please try again later.');
      return;
    }
    if (fires(this.#fail)) {
      const status = this.#fail.count % 2 === 1 ? 503 : 500;
      if (status === 503) graphError(res, 503, 'serviceNotAvailable', 'Service unavailable.');
      else graphError(res, 500, 'generalException', 'An unexpected error occurred.');
      return;
    }
    next();
  }
}

/** Request n (from 0) fails when ceil((n + 1) r) > ceil(n r): the first, then one in 1/r. */
function fires(fault: { rate: number; count: number }): boolean {
  if (fault.rate <= 0) return false;
  const n = fault.count++;
  return Math.ceil((n + 1) * fault.rate) > Math.ceil(n * fault.rate);
}
