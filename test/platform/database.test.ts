import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../../db/migrations/index.ts';
import { createOrm, migrateUp, type Orm } from '../../db/orm.ts';

let orm: Orm;
beforeAll(async () => {
  orm = await createOrm({ databaseUrl: inject('databaseUrl') });
});
afterAll(() => orm?.close());

describe('migrations', () => {
  it('go up from an empty database, are idempotent, and come down cleanly', async () => {
    const name = `calbridge_migrate_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = Object.assign(new URL(inject('databaseUrl')), { pathname: `/${name}` }).toString();
    const fresh = await createOrm({ databaseUrl: url });
    try {
      expect(await migrateUp(fresh)).toEqual(migrations.map((m) => m.name));
      expect(await migrateUp(fresh)).toEqual([]);
      const tables = await fresh.em
        .fork()
        .execute<{ table_name: string }[]>(
          "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining([
          'users',
          'api_tokens',
          'schedules',
          'calendar_connections',
          'provider_calendars',
          'imported_events',
          'synced_objects',
          'booking_calendars',
          'booking_calendar_hosts',
          'appointments',
          'appointment_hosts',
          'one_time_links',
          'email_outbox',
        ]),
      );
      await fresh.migrator.down({ to: 0 });
      const after = await fresh.em
        .fork()
        .execute<{ n: number }[]>(
          "select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name = 'users'",
        );
      expect(after[0]!.n).toBe(0);
      expect(await migrateUp(fresh)).toEqual(migrations.map((m) => m.name));
    } finally {
      await fresh.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  });
});

describe('no double booking (EXCLUDE constraint on appointment_hosts)', () => {
  async function user(): Promise<string> {
    const id = `host-${randomUUID()}@example.com`;
    await orm.em
      .fork()
      .execute("insert into users (id, email, name, time_zone) values (?, ?, 'Host', 'UTC')", [id, id]);
    return id;
  }
  async function hold(hostIds: string[], start: string, end: string, blocking = true) {
    const id = randomUUID();
    await orm.em.fork().transactional(async (em) => {
      await em.execute(
        "insert into appointments (id, origin, status, title, start_at, end_at) values (?, 'booking', 'held', 'x', ?, ?)",
        [id, start, end],
      );
      for (const host of hostIds) {
        await em.execute(
          'insert into appointment_hosts (appointment_id, user_id, start_at, end_at, blocking) values (?, ?, ?, ?, ?)',
          [id, host, start, end, blocking],
        );
      }
    });
    return id;
  }

  it('rejects two overlapping held appointments for one host', async () => {
    const host = await user();
    await hold([host], '2027-01-04T09:00:00Z', '2027-01-04T10:00:00Z');
    await expect(hold([host], '2027-01-04T09:30:00Z', '2027-01-04T10:30:00Z')).rejects.toThrow(
      /appointment_hosts_no_overlap/,
    );
  });

  it('accepts the same time for two different hosts, and back-to-back slots for one host', async () => {
    const a = await user();
    const b = await user();
    await hold([a], '2027-01-05T09:00:00Z', '2027-01-05T10:00:00Z');
    await expect(hold([b], '2027-01-05T09:00:00Z', '2027-01-05T10:00:00Z')).resolves.toBeTypeOf('string');
    await expect(hold([a], '2027-01-05T10:00:00Z', '2027-01-05T11:00:00Z')).resolves.toBeTypeOf('string');
  });

  it('lets a non-blocking (cancelled) hold overlap, and holds the line under real concurrency', async () => {
    const host = await user();
    await hold([host], '2027-01-06T09:00:00Z', '2027-01-06T10:00:00Z', false);
    await expect(hold([host], '2027-01-06T09:00:00Z', '2027-01-06T10:00:00Z')).resolves.toBeTypeOf('string');

    const racer = await user();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        hold([racer], `2027-01-07T09:${String(i).padStart(2, '0')}:00Z`, '2027-01-07T10:00:00Z'),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});
