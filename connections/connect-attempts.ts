/**
 * The per-user budget for link and reconnect attempts. Each attempt makes the server fetch a
 * user-supplied URL or call a provider, so the API and the pages draw on one budget per user (per
 * process): switching from one to the other buys no extra attempts.
 */
import type { Config } from '../platform/config.ts';
import { type RateLimit, rateLimit } from '../platform/rate-limits.ts';

const budgets = new WeakMap<Config, RateLimit>();

export function connectAttemptLimit(config: Config): RateLimit {
  let limit = budgets.get(config);
  if (!limit) {
    limit = rateLimit(config.CONNECT_RATE_LIMIT_PER_MINUTE, 'connection attempts');
    budgets.set(config, limit);
  }
  return limit;
}
