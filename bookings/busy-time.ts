/**
 * The availability read path: for a set of hosts and a time range, their working hours, their busy
 * time and whether any of it is stale — from PostgreSQL alone (no provider, no Temporal), with one
 * range query over the GiST indexes of imported events and appointment holds.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray } from '../db/sql.ts';
import type { DateOverride, WeeklyHours } from '../domain/schedule.ts';
import { defaultWeeklyHours } from '../domain/schedule.ts';
import { busyFromEvents } from '../scheduling/busy.ts';
import type { Interval } from '../scheduling/intervals.ts';
import type { WorkingHours } from '../scheduling/working-hours.ts';

export interface HostAvailability {
  userId: string;
  name: string;
  email: string;
  /** The host's own zone (users.time_zone): e-mails and invites are written in it. */
  timeZone: string;
  hours: WorkingHours;
  busy: Interval[];
  /** A calendar that counts for availability has broken sync: its last imported busy time is used. */
  stale: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Everything availability needs for `hosts` over [from, to). The range is widened by a day on each
 * side so all-day events (a day in the host's zone) and buffers at the edges are seen.
 */
export async function loadHostAvailability(
  em: EntityManager,
  hosts: readonly string[],
  range: { from: Date; to: Date },
): Promise<HostAvailability[]> {
  const from = new Date(range.from.getTime() - DAY_MS);
  const to = new Date(range.to.getTime() + DAY_MS);
  const [people, busyRows] = await Promise.all([
    em.execute<
      {
        id: string;
        name: string;
        email: string;
        time_zone: string;
        schedule_zone: string | null;
        weekly: WeeklyHours | null;
        overrides: DateOverride[] | null;
        stale: boolean;
      }[]
    >(
      `select u.id, u.name, u.email, u.time_zone, s.time_zone as schedule_zone, s.weekly, s.overrides,
              exists (select 1 from calendar_connections c
                        join provider_calendars pc on pc.connection_id = c.id
                       where c.user_id = u.id and pc.import_for_availability and pc.removed_at is null
                         and (c.status in ('needs_reauth', 'error') or pc.import_status = 'error')) as stale
         from users u left join schedules s on s.user_id = u.id
        where u.id = any(?::text[])`,
      [pgArray(hosts)],
    ),
    // Timed busy time arrives merged (range_agg), so a dense calendar costs a few rows, not
    // thousands; all-day events come as they are, to be laid over the host's own days.
    em.execute<{ user_id: string; start_at: Date; end_at: Date; all_day: boolean }[]>(
      `with timed as (
         select e.user_id, e.during
           from imported_events e join provider_calendars pc on pc.id = e.calendar_id
          where e.user_id = any(?::text[]) and e.busy and not e.all_day and e.during && tstzrange(?, ?, '[)')
            and pc.import_for_availability and pc.removed_at is null
         union all
         select h.user_id, h.during
           from appointment_hosts h
          where h.user_id = any(?::text[]) and h.blocking and h.during && tstzrange(?, ?, '[)')
       )
       select user_id, lower(r) as start_at, upper(r) as end_at, false as all_day
         from (select user_id, unnest(range_agg(during)) as r from timed group by user_id) merged
       union all
       select e.user_id, e.start_at, e.end_at, true
         from imported_events e join provider_calendars pc on pc.id = e.calendar_id
        where e.user_id = any(?::text[]) and e.busy and e.all_day and e.during && tstzrange(?, ?, '[)')
          and pc.import_for_availability and pc.removed_at is null`,
      [pgArray(hosts), from, to, pgArray(hosts), from, to, pgArray(hosts), from, to],
    ),
  ]);
  return hosts.flatMap((userId) => {
    const person = people.find((p) => p.id === userId);
    if (!person) return [];
    const zone = person.schedule_zone ?? person.time_zone;
    const events = busyRows
      .filter((r) => r.user_id === userId)
      .map((r) => ({ start: new Date(r.start_at), end: new Date(r.end_at), allDay: r.all_day }));
    return [
      {
        userId,
        name: person.name,
        email: person.email,
        timeZone: person.time_zone,
        hours: {
          timeZone: zone,
          weekly: person.weekly ?? defaultWeeklyHours(),
          overrides: person.overrides ?? [],
        },
        busy: busyFromEvents(events, zone),
        stale: person.stale,
      },
    ];
  });
}
