/**
 * Time slices of a full CalDAV listing: how long each calendar-query REPORT's time range is.
 *
 * Servers differ in what a REPORT costs. Radicale and Xandikos 0.2 read the whole collection for
 * every calendar-query, however narrow its range (~0.3 s per query at 2,000 objects, empty or not),
 * and Xandikos 0.2 pays that again for every href of a calendar-multiget (~1.7 s per 100 hrefs). So
 * the first slice is the whole window — one REPORT, the cheapest plan everywhere — and the slices
 * only get smaller when the data is large: a response over the multistatus cap (MAX_MULTISTATUS_BYTES)
 * is asked again as two halves, and later slices are sized from the density seen so far to bring
 * about `sliceTargetBytes` each, so that one response stays well inside the cap and the memory
 * it takes to parse.
 */
import type { TimeWindow } from '../../domain/calendar.ts';

const SECOND = 1000;
const HOUR = 3_600_000;

export interface SliceTuning {
  /** Length of the first slice (clipped to the window). */
  firstSliceMs: number;
  /** What one slice's calendar-data should come to, in bytes (UTF-16 code units, near enough). */
  sliceTargetBytes: number;
  /** A slice too large at this length is listed by ETag and fetched by calendar-multiget instead. */
  minSliceMs: number;
  /** A re-listing that finds at most this many objects to fetch uses calendar-multiget, not slices. */
  multigetAtMost: number;
  /** A later slice is at most this many times as long as the one before (density from a sparse start). */
  maxGrowth: number;
}

export const DEFAULT_SLICE_TUNING: SliceTuning = {
  firstSliceMs: Number.POSITIVE_INFINITY,
  sliceTargetBytes: 4 * 1024 * 1024,
  minSliceMs: HOUR,
  multigetAtMost: 50,
  maxGrowth: 4,
};

/** [start, end) in epoch milliseconds, on whole seconds (the REPORT's time-range has no fractions). */
export interface Slice {
  start: number;
  end: number;
}

export function firstSlice(window: TimeWindow, start: number, tuning: SliceTuning): Slice {
  return clip({ start, end: start + Math.max(tuning.firstSliceMs, SECOND) }, window);
}

/** The first half of a slice that came back too large, or null when it is as small as it may get. */
export function firstHalf(slice: Slice, tuning: SliceTuning): Slice | null {
  const length = slice.end - slice.start;
  if (length / 2 < tuning.minSliceMs) return null;
  return { start: slice.start, end: wholeSecond(slice.start + length / 2) };
}

/** Sizes each next slice from the calendar-data bytes per millisecond seen so far in this listing. */
export class SliceSizer {
  #bytes = 0;
  #ms = 0;
  readonly #tuning: SliceTuning;

  constructor(tuning: SliceTuning) {
    this.#tuning = tuning;
  }

  record(slice: Slice, bytes: number): void {
    this.#bytes += bytes;
    this.#ms += slice.end - slice.start;
  }

  /** The slice after `done`, or null when `done` reached the end of the window. */
  next(done: Slice, window: TimeWindow): Slice | null {
    if (done.end >= window.end.getTime()) return null;
    const { sliceTargetBytes, minSliceMs, maxGrowth } = this.#tuning;
    const previous = done.end - done.start;
    const density = this.#ms > 0 ? this.#bytes / this.#ms : 0;
    const wanted = density > 0 ? sliceTargetBytes / density : Number.POSITIVE_INFINITY;
    const length = Math.max(minSliceMs, Math.min(wanted, previous * maxGrowth));
    return clip({ start: done.end, end: done.end + length }, window);
  }
}

function clip(slice: Slice, window: TimeWindow): Slice {
  const end = Math.min(wholeSecond(slice.end), window.end.getTime());
  return { start: slice.start, end: Math.max(end, slice.start + SECOND) };
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / SECOND) * SECOND;
}

/** `YYYYMMDDTHHMMSSZ`, the form CalDAV's time-range takes. */
export function basicUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}
