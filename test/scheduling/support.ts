/** Shared by the table-driven slot tests: a case in UTC strings, run through computeSlots. */
import type { DateOverride, WeeklyHours } from '../../domain/schedule.ts';
import type { Interval } from '../../scheduling/intervals.ts';
import { computeSlots, type SlotRules } from '../../scheduling/slots.ts';

export const RULES: SlotRules = {
  durationMinutes: 60,
  slotIntervalMinutes: null,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  minNoticeMinutes: 0,
  maxDaysAhead: 365,
};

export interface Case {
  name: string;
  timeZone?: string;
  weekly: WeeklyHours;
  overrides?: DateOverride[];
  rules?: Partial<SlotRules>;
  busy?: [string, string][];
  now?: string;
  from: string;
  to: string;
  /** UTC starts, "YYYY-MM-DDTHH:MM" (Z implied). */
  expected: string[];
}

export const at = (iso: string) => new Date(iso.endsWith('Z') ? iso : `${iso}Z`);
export const ms = (iso: string) => at(iso).getTime();
export const hm = (start: string, end: string) => [{ start, end }];

export function run(c: Case) {
  const input = {
    hours: { timeZone: c.timeZone ?? 'UTC', weekly: c.weekly, overrides: c.overrides ?? [] },
    busy: (c.busy ?? []).map(([start, end]): Interval => ({ start: ms(start), end: ms(end) })),
    rules: { ...RULES, ...c.rules },
    now: at(c.now ?? '2024-01-01T00:00'),
  };
  return { input, slots: computeSlots({ ...input, from: at(c.from), to: at(c.to) }) };
}
