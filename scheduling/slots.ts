/** Bookable slots for one host: working hours minus busy time, under a booking calendar's rules. */
import { type Interval, normalize, subtractNormalized } from './intervals.ts';
import { addDays, dateInZone, instantOf, requireZone, startOfDate } from './wall-time.ts';
import { type WorkingHours, workingIntervals } from './working-hours.ts';

export interface SlotRules {
  durationMinutes: number;
  /** null → the duration. */
  slotIntervalMinutes: number | null;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  minNoticeMinutes: number;
  maxDaysAhead: number;
}

export interface Slot {
  start: Date;
  end: Date;
}

export interface SlotInput {
  hours: WorkingHours;
  /** Imported events and held/confirmed appointments; unsorted and overlapping is fine. */
  busy: Interval[];
  rules: SlotRules;
  now: Date;
}

const MINUTE_MS = 60_000;

/** Bookable slots whose start lies in [from, to), sorted, for one host. */
export function computeSlots(input: SlotInput & { from: Date; to: Date }): Slot[] {
  const starts = slotStarts(input, instantOf(input.from, 'from'), instantOf(input.to, 'to'));
  const duration = input.rules.durationMinutes * MINUTE_MS;
  return starts.map((start) => ({ start: new Date(start), end: new Date(start + duration) }));
}

/**
 * Whether one given start is bookable: the booking path re-checks a requested start with the same rules.
 * It runs the very computation that offers slots, over a one-millisecond range, so the two cannot drift.
 */
export function isBookableStart(input: SlotInput & { start: Date }): boolean {
  const start = input.start instanceof Date ? input.start.getTime() : Number.NaN;
  if (!Number.isInteger(start)) return false;
  return slotStarts(input, start, start + 1)[0] === start;
}

/**
 * Every start in [from, to) as epoch ms, ascending. Work: O((working intervals + busy) · log) to build the
 * free time, then O(1) per free interval plus O(1) per slot — the grid is entered by arithmetic, never
 * walked minute by minute.
 */
function slotStarts(input: SlotInput, from: number, to: number): number[] {
  const { hours, rules } = input;
  checkRules(rules);
  const now = instantOf(input.now, 'now');
  const duration = rules.durationMinutes * MINUTE_MS;
  const step = (rules.slotIntervalMinutes ?? rules.durationMinutes) * MINUTE_MS;
  const before = rules.bufferBeforeMinutes * MINUTE_MS;
  const after = rules.bufferAfterMinutes * MINUTE_MS;

  const earliest = Math.max(from, now + rules.minNoticeMinutes * MINUTE_MS);
  const latest = Math.min(to, horizonEnd(now, rules.maxDaysAhead, hours.timeZone));
  if (earliest >= latest) return [];

  const working = workingIntervals(hours, new Date(earliest), new Date(latest + duration));
  // A slot [s, s + duration) may not overlap [busy.start − after, busy.end + before): the buffers are
  // carried by the busy time, so the free time is simply what is left of the working time.
  const blocked: Interval[] = [];
  for (const busy of input.busy) {
    const start = busy.start - after;
    const end = busy.end + before;
    if (busy.end > busy.start && start < latest + duration && end > earliest) blocked.push({ start, end });
  }
  // Touching working intervals (one date's 24:00, the next date's 00:00) form one stretch a slot may span.
  const free = subtractNormalized(normalize(working), normalize(blocked));

  const starts: number[] = [];
  let firstFree = 0;
  for (const interval of working) {
    while (firstFree < free.length && free[firstFree]!.end <= interval.start) firstFree++;
    for (let k = firstFree; k < free.length && free[k]!.start < interval.end; k++) {
      const gap = free[k]!;
      const lowest = Math.max(gap.start, interval.start, earliest);
      // The grid of each working interval starts at the interval's start and steps in real minutes.
      let start = interval.start + Math.ceil((lowest - interval.start) / step) * step;
      for (; start < interval.end && start < latest && start + duration <= gap.end; start += step) {
        starts.push(start);
      }
    }
  }
  return starts;
}

/**
 * The first instant past the horizon: the end of the host's day `maxDaysAhead` days after today (the
 * host's date at `now`). 0 means bookable today only.
 */
function horizonEnd(now: number, maxDaysAhead: number, timeZone: string): number {
  const zone = requireZone(timeZone);
  return startOfDate(addDays(dateInZone(now, zone), maxDaysAhead + 1), zone);
}

function checkRules(rules: SlotRules): void {
  const wholeMinutes: [name: string, value: number | null, least: number][] = [
    ['durationMinutes', rules.durationMinutes, 1],
    ['slotIntervalMinutes', rules.slotIntervalMinutes ?? 1, 1],
    ['bufferBeforeMinutes', rules.bufferBeforeMinutes, 0],
    ['bufferAfterMinutes', rules.bufferAfterMinutes, 0],
    ['minNoticeMinutes', rules.minNoticeMinutes, 0],
    ['maxDaysAhead', rules.maxDaysAhead, 0],
  ];
  for (const [name, value, least] of wholeMinutes) {
    if (!(Number.isSafeInteger(value) && value! >= least)) {
      throw new RangeError(`${name} must be a whole number ≥ ${least}, got ${value}`);
    }
  }
}
