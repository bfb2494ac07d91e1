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
 * Whose availability: these users, or a booking calendar's hosts (read in the same queries, so the
 * slots of a calendar cost no round trip to list its hosts first).
 */
export type Hosts = readonly string[] | { bookingCalendarId: string };

/** The hosts as an SQL text[] expression and its parameter, in the calendar's host order. */
function hostsArray(hosts: Hosts): { sql: string; param: string } {
  return Array.isArray(hosts)
    ? { sql: '?::text[]', param: pgArray(hosts as readonly string[]) }
    : {
        sql: `(select coalesce(array_agg(user_id order by position, user_id), '{}') from booking_calendar_hosts
                where booking_calendar_id = ?::uuid)`,
        param: (hosts as { bookingCalendarId: string }).bookingCalendarId,
      };
}

/**
 * Everything availability needs for `hosts` over [from, to), in the hosts' order. The range is
 * widened by a day on each side so all-day events (a day in the host's zone) and buffers at the
 * edges are seen.
 */
export async function loadHostAvailability(
  em: EntityManager,
  hosts: Hosts,
  range: { from: Date; to: Date },
): Promise<HostAvailability[]> {
  const from = new Date(range.from.getTime() - DAY_MS);
  const to = new Date(range.to.getTime() + DAY_MS);
  const ids = hostsArray(hosts);
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
        position: number;
      }[]
    >(
      `select u.id, u.name, u.email, u.time_zone, s.time_zone as schedule_zone, s.weekly, s.overrides,
              array_position(h.ids, u.id) as position,
              exists (select 1 from calendar_connections c
                        join provider_calendars pc on pc.connection_id = c.id
                       where c.user_id = u.id and pc.import_for_availability and pc.removed_at is null
                         and (c.status in ('needs_reauth', 'error') or pc.import_status = 'error')) as stale
         from (select ${ids.sql} as ids) h
         join users u on u.id = any(h.ids) left join schedules s on s.user_id = u.id
        order by position`,
      [ids.param],
    ),
    // Timed busy time arrives merged (range_agg), so a dense calendar costs a few rows, not
    // thousands; all-day events come as they are, to be laid over the host's own days.
    em.execute<{ user_id: string; start_at: Date; end_at: Date; all_day: boolean }[]>(
      `with hosts as materialized (select ${ids.sql} as ids), timed as (
         select e.user_id, e.during
           from imported_events e join provider_calendars pc on pc.id = e.calendar_id
          where e.user_id = any((select ids from hosts)::text[]) and e.busy and not e.all_day
            and e.during && tstzrange(?, ?, '[)') and pc.import_for_availability and pc.removed_at is null
         union all
         select h.user_id, h.during
           from appointment_hosts h
          where h.user_id = any((select ids from hosts)::text[]) and h.blocking and h.during && tstzrange(?, ?, '[)')
       )
       select user_id, lower(r) as start_at, upper(r) as end_at, false as all_day
         from (select user_id, unnest(range_agg(during)) as r from timed group by user_id) merged
       union all
       select e.user_id, e.start_at, e.end_at, true
         from imported_events e join provider_calendars pc on pc.id = e.calendar_id
        where e.user_id = any((select ids from hosts)::text[]) and e.busy and e.all_day
          and e.during && tstzrange(?, ?, '[)') and pc.import_for_availability and pc.removed_at is null`,
      [ids.param, from, to, from, to, from, to],
    ),
  ]);
  return people.map((person) => {
    const userId = person.id;
    const zone = person.schedule_zone ?? person.time_zone;
    const events = busyRows
      .filter((r) => r.user_id === userId)
      .map((r) => ({ start: new Date(r.start_at), end: new Date(r.end_at), allDay: r.all_day }));
    return {
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
    };
  });
}
