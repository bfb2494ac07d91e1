/** Half-open UTC intervals `[start, end)` in epoch milliseconds, and the set operations slots need. */

export interface Interval {
  start: number;
  end: number;
}

/** Sorted by start, overlapping or touching intervals merged, empty ones dropped. Does not mutate its input. */
export function normalize(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const { start, end } of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last.end) {
      if (end > last.end) last.end = end;
    } else {
      merged.push({ start, end });
    }
  }
  return merged;
}

/** The parts of `from` not covered by `busy`, normalized. Both inputs may be unsorted and overlapping. */
export function subtract(from: Interval[], busy: Interval[]): Interval[] {
  return subtractNormalized(normalize(from), normalize(busy));
}

/** `subtract` for inputs that are already normalized: one linear sweep. */
export function subtractNormalized(from: Interval[], busy: Interval[]): Interval[] {
  const free: Interval[] = [];
  let b = 0;
  for (const interval of from) {
    let cursor = interval.start;
    // Busy intervals that end before this one starts can never matter again: `from` is sorted.
    while (b < busy.length && busy[b]!.end <= cursor) b++;
    let k = b;
    while (k < busy.length && busy[k]!.start < interval.end) {
      const blocker = busy[k]!;
      if (blocker.start > cursor) free.push({ start: cursor, end: blocker.start });
      if (blocker.end > cursor) cursor = blocker.end;
      if (cursor >= interval.end) break;
      k++;
    }
    if (cursor < interval.end) free.push({ start: cursor, end: interval.end });
  }
  return free;
}

/** Whether `[start, end)` overlaps any of the intervals (unsorted is fine: one linear scan). */
export function overlapsAny(intervals: Interval[], start: number, end: number): boolean {
  return intervals.some((i) => i.end > i.start && i.start < end && i.end > start);
}
