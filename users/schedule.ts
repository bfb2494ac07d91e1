/** A user's working hours: weekly intervals and date overrides in their time zone. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { Schedule } from '../db/entities/index.ts';
import { notFound } from '../domain/errors.ts';
import { type DateOverride, WEEKDAYS, type WeeklyHours } from '../domain/schedule.ts';
import { calendarDate, timeZone } from '../platform/validation.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
const interval = z
  .object({ start: hhmm, end: hhmm })
  .refine((i) => i.start < i.end, { message: 'start must be before end', path: ['end'] });
const intervals = z
  .array(interval)
  .max(48)
  .superRefine((list, ctx) => {
    const sorted = [...list].sort((a, b) => a.start.localeCompare(b.start));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start < sorted[i - 1]!.end)
        ctx.addIssue({ code: 'custom', message: 'intervals must not overlap' });
    }
  });
export const weekday = z.enum(WEEKDAYS);

/** What PUT /v1/me/schedule and the Schedule page accept. */
export const scheduleInput = z.object({
  timeZone,
  weekly: z.partialRecord(weekday, intervals),
  overrides: z
    .array(z.object({ date: calendarDate, intervals }))
    .max(1000)
    .default([])
    .refine(
      (list) => new Set(list.map((o) => o.date)).size === list.length,
      'each date may appear only once',
    ),
});
export type ScheduleInput = z.infer<typeof scheduleInput>;

export interface ScheduleView {
  timeZone: string;
  weekly: WeeklyHours;
  overrides: DateOverride[];
}

export async function readSchedule(em: EntityManager, userId: string): Promise<ScheduleView> {
  const schedule = await em.findOne(Schedule, { userId });
  if (!schedule) throw notFound('Schedule');
  return { timeZone: schedule.timeZone, weekly: schedule.weekly, overrides: schedule.overrides };
}

/** Replaces the working hours, each day's intervals and the overrides sorted. */
export async function saveSchedule(
  em: EntityManager,
  userId: string,
  input: ScheduleInput,
): Promise<ScheduleView> {
  const weekly: WeeklyHours = {};
  for (const day of weekday.options)
    weekly[day] = [...(input.weekly[day] ?? [])].sort((a, b) => a.start.localeCompare(b.start));
  const overrides: DateOverride[] = input.overrides
    .map((o) => ({
      date: o.date,
      intervals: [...o.intervals].sort((a, b) => a.start.localeCompare(b.start)),
    }))
    .sort((a, b) => a.date.localeCompare(b.date));
  await em.upsert(Schedule, { userId, timeZone: input.timeZone, weekly, overrides, updatedAt: new Date() });
  return { timeZone: input.timeZone, weekly, overrides };
}
