/** Half-open UTC intervals `[start, end)` in epoch milliseconds, and the set operations slots need. */

export interface Interval {
  start: number;
  end: number;
}

/** Sorted by start, overlapping or touching intervals merged, empty ones dropped. Does not mutate its input. */
export function normalize(intervals: Interval[]): Interval[] {
  // Starts and ends sorted apart as plain numbers (a typed-array sort, several times faster than sorting
  // objects through a comparator: this runs on every slot request over thousands of busy intervals),
  // then swept: the union is open wherever more intervals have started than ended.
  const starts = new Float64Array(intervals.length);
  const ends = new Float64Array(intervals.length);
  let count = 0;
  for (const { start, end } of intervals) {
    if (end > start) {
      starts[count] = start;
      ends[count] = end;
      count++;
    }
  }
  const sortedStarts = starts.subarray(0, count).sort();
  const sortedEnds = ends.subarray(0, count).sort();
  const merged: Interval[] = [];
  let open = 0;
  let openedAt = 0;
  for (let s = 0, e = 0; s < count; ) {
    // A start at the very instant an end falls keeps the union open: touching intervals merge.
    if (sortedStarts[s]! <= sortedEnds[e]!) {
      if (open++ === 0) openedAt = sortedStarts[s]!;
      s++;
    } else {
      if (--open === 0) merged.push({ start: openedAt, end: sortedEnds[e]! });
      e++;
    }
  }
  if (count > 0) merged.push({ start: openedAt, end: sortedEnds[count - 1]! });
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
