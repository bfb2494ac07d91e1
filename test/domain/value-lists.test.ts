/**
 * Each value list lives once, in domain/; the database's CHECK constraints must say the same. A
 * value added on one side only fails here, not in production on the first row that uses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrm, type Orm } from '../../db/orm.ts';
import {
  APPOINTMENT_ORIGINS,
  APPOINTMENT_STATUSES,
  BOOKING_CALENDAR_TYPES,
  INVITE_STATUSES,
  ONE_TIME_LINK_STATUSES,
} from '../../domain/booking.ts';
import {
  IMPORT_STATUSES,
  IMPORTED_EVENT_STATUSES,
  OAUTH_PROVIDER_KINDS,
  OAUTH_STATE_PURPOSES,
  PROVIDER_KINDS,
  SYNC_DIRECTIONS,
} from '../../domain/connection.ts';
import { CONNECTION_STATUSES } from '../../domain/connection-status.ts';
import { EMAIL_STATUSES } from '../../domain/email.ts';
import { testEnv } from '../harness/platform.ts';

let orm: Orm;
beforeAll(async () => {
  orm = await createOrm({ databaseUrl: testEnv().DATABASE_URL! });
});
afterAll(() => orm?.close());

const lists: [table: string, column: string, values: readonly string[]][] = [
  ['calendar_connections', 'provider', PROVIDER_KINDS],
  ['calendar_connections', 'status', CONNECTION_STATUSES],
  ['calendar_connections', 'sync_direction', SYNC_DIRECTIONS],
  ['provider_calendars', 'import_status', IMPORT_STATUSES],
  ['imported_events', 'status', IMPORTED_EVENT_STATUSES],
  ['booking_calendars', 'type', BOOKING_CALENDAR_TYPES],
  ['one_time_links', 'status', ONE_TIME_LINK_STATUSES],
  ['appointments', 'origin', APPOINTMENT_ORIGINS],
  ['appointments', 'status', APPOINTMENT_STATUSES],
  ['email_outbox', 'status', EMAIL_STATUSES],
  ['appointment_invites', 'status', INVITE_STATUSES],
  ['oauth_states', 'provider', OAUTH_PROVIDER_KINDS],
  ['oauth_states', 'purpose', OAUTH_STATE_PURPOSES],
  ['push_channels', 'provider', OAUTH_PROVIDER_KINDS],
];

/** The literals of `CHECK (column = ANY (ARRAY['a'::text, ...]))` constraints on the table, by column. */
async function checkedValues(table: string): Promise<Map<string, string[]>> {
  const rows = await orm.em.fork().execute<{ def: string }[]>(
    `select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conrelid = ?::regclass and c.contype = 'c'`,
    [table],
  );
  const byColumn = new Map<string, string[]>();
  for (const { def } of rows) {
    const match = /^CHECK \(\(\(?(\w+)\)? = ANY \(ARRAY\[(.*)\]\)\)\)$/.exec(def);
    if (!match) continue;
    byColumn.set(
      match[1]!,
      [...match[2]!.matchAll(/'([^']*)'::text/g)].map((m) => m[1]!),
    );
  }
  return byColumn;
}

describe('value lists', () => {
  it.each(lists)('%s.%s allows exactly the domain list', async (table, column, values) => {
    const checked = (await checkedValues(table)).get(column);
    expect(checked, `no CHECK constraint lists the values of ${table}.${column}`).toBeDefined();
    expect([...checked!].sort()).toEqual([...values].sort());
  });
});
