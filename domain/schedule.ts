/** Working hours: when a user can be booked, before calendars and appointments are subtracted. */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Wall-clock times "HH:MM" in the schedule's zone; `end` may be "24:00". */
export interface TimeInterval {
  start: string;
  end: string;
}
export type WeeklyHours = Partial<Record<Weekday, TimeInterval[]>>;
export interface DateOverride {
  /** A calendar date "YYYY-MM-DD"; its intervals replace the weekday's (empty: not bookable that day). */
  date: string;
  intervals: TimeInterval[];
}

/** Monday to Friday, 09:00–17:00: every new user's schedule. */
export function defaultWeeklyHours(): WeeklyHours {
  const day = () => [{ start: '09:00', end: '17:00' }];
  return { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] };
}
