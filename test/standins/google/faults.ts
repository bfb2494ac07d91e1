/**
 * Faults the stand-in injects into Calendar API requests (never into OAuth): a share of failures
 * as Google throttles and fails (429 with a short Retry-After, 403 rateLimitExceeded, 500, 503),
 * short pages, and empty pages that still carry a nextPageToken. The failure draw is a seeded PRNG,
 * so a run is repeatable.
 */
import { HttpFailure } from './http.ts';

export type FaultKind = '429' | '403-rate' | '500' | '503';

const ALL_KINDS: FaultKind[] = ['429', '403-rate', '500', '503'];

/** mulberry32: small, fast, good enough to spread failures evenly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class Faults {
  private rate = 0;
  private kinds: FaultKind[] = ALL_KINDS;
  private random = prng(14);
  /** Largest page the API hands out, whatever maxResults asked for; null: no limit. */
  pageSizeCap: number | null = null;
  /** List pages still to answer empty (with a nextPageToken to the same position). */
  emptyPagesLeft = 0;

  failRate(rate: number, kinds: FaultKind[] = ALL_KINDS): void {
    this.rate = rate;
    this.kinds = kinds.length ? kinds : ALL_KINDS;
  }

  clear(): void {
    this.rate = 0;
    this.kinds = ALL_KINDS;
    this.random = prng(14);
    this.pageSizeCap = null;
    this.emptyPagesLeft = 0;
  }

  /** The failure to answer this request with, if the draw says so. */
  draw(): HttpFailure | null {
    if (this.rate <= 0 || this.random() >= this.rate) return null;
    const kind = this.kinds[Math.floor(this.random() * this.kinds.length)] ?? '500';
    switch (kind) {
      case '429':
        // Retry-After of 0 or 1 s: real values are larger, tests stay fast.
        return new HttpFailure(429, 'Rate Limit Exceeded', 'rateLimitExceeded', {
          'Retry-After': String(Math.floor(this.random() * 2)),
        });
      case '403-rate':
        return new HttpFailure(403, 'Rate Limit Exceeded', 'rateLimitExceeded');
      case '503':
        return new HttpFailure(503, 'The service is currently unavailable.', 'backendError');
      default:
        return new HttpFailure(500, 'Backend Error', 'backendError');
    }
  }
}
