/**
 * computeSlots alone (no database, no HTTP): one host, 30 days, 5,000 busy intervals across the range,
 * in a DST zone. Prints JSON. Goal: p50 well under the 10 ms HTTP budget of the slots route.
 */
import type { Interval } from '../scheduling/intervals.ts';
import { computeSlots } from '../scheduling/slots.ts';
import { round } from './support.ts';

export async function benchSlotsCompute(busyCount = 5000, days = 30, runs = 200) {
  const dayMs = 86_400_000;
  const from = Date.parse('2025-03-17T00:00:00Z'); // spans the EU DST change of 2025-03-30
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  // 5,000 events in 30 days is ~170 a day: short ones (5–20 min), anywhere in the day, overlapping
  // each other as three calendars' events do, so that some slots remain and their cost is measured too.
  const busy: Interval[] = [];
  for (let i = 0; i < busyCount; i++) {
    const start = from + Math.floor((random() * days * dayMs) / 300_000) * 300_000;
    busy.push({ start, end: start + (5 + Math.floor(random() * 4) * 5) * 60_000 });
  }
  const workday = [
    { start: '08:00', end: '12:00' },
    { start: '13:00', end: '19:00' },
  ];
  const input = {
    hours: {
      timeZone: 'Europe/Berlin',
      weekly: { mon: workday, tue: workday, wed: workday, thu: workday, fri: workday, sat: [] },
      overrides: [{ date: '2025-03-21', intervals: [] }],
    },
    busy,
    rules: {
      durationMinutes: 20,
      slotIntervalMinutes: 10,
      bufferBeforeMinutes: 5,
      bufferAfterMinutes: 5,
      minNoticeMinutes: 120,
      maxDaysAhead: 60,
    },
    now: new Date(from),
    from: new Date(from),
    to: new Date(from + days * dayMs),
  };

  for (let i = 0; i < 20; i++) computeSlots(input); // warm-up: JIT and luxon's zone caches
  const timings: number[] = [];
  let slots = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    slots = computeSlots(input).length;
    timings.push(performance.now() - start);
  }
  timings.sort((a, b) => a - b);
  const percentile = (p: number) => timings[Math.min(timings.length - 1, Math.floor(p * timings.length))]!;
  return {
    benchmark: 'slots_compute',
    days,
    busyIntervals: busyCount,
    slotsOffered: slots,
    runs,
    p50Ms: round(percentile(0.5), 2),
    p95Ms: round(percentile(0.95), 2),
  };
}

if (import.meta.main) console.log(JSON.stringify(await benchSlotsCompute()));
