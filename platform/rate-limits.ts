/**
 * Per-key request budgets (per API process, in memory): a caller over budget gets 429
 * `rate_limited` with `Retry-After`. Keys are user ids for authenticated work and the client IP
 * (Express's `req.ip`, behind the proxies `trust proxy` names) for public routes.
 */
import type { Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../domain/errors.ts';

export type RateLimit = (res: Response, key: string) => Promise<void>;

export function rateLimit(perMinute: number, what: string): RateLimit {
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return async (res, key) => {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(seconds));
      throw new AppError(429, 'rate_limited', `Too many ${what}. Try again in ${seconds} s.`, {
        retryAfterSeconds: seconds,
      });
    }
  };
}

export interface PublicBudgets {
  /** Reading booking pages, slots and one-time links, per client address. */
  reads: RateLimit;
  /** Booking attempts, per client address. */
  bookings: RateLimit;
}

const publicBudgets = new WeakMap<object, PublicBudgets>();

/**
 * The public budgets of one server (one configuration): the API's routes and the pages draw on the
 * same ones, so a client gets each budget once, whichever door it uses.
 */
export function publicBudgetsFor(config: {
  PUBLIC_RATE_LIMIT_PER_MINUTE: number;
  BOOKING_RATE_LIMIT_PER_MINUTE: number;
}): PublicBudgets {
  let budgets = publicBudgets.get(config);
  if (!budgets) {
    budgets = {
      reads: rateLimit(config.PUBLIC_RATE_LIMIT_PER_MINUTE, 'requests from this address'),
      bookings: rateLimit(config.BOOKING_RATE_LIMIT_PER_MINUTE, 'booking attempts from this address'),
    };
    publicBudgets.set(config, budgets);
  }
  return budgets;
}
