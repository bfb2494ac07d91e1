/**
 * A fresh, migrated database of its own on a PostgreSQL server, for a suite (or a benchmark) that must
 * not share rows with any other: e.g. one whose poll loop claims every due row it can see.
 */
import pg from 'pg';
import { createOrm, migrateUp, type Orm } from '../../db/orm.ts';

export interface ScratchDatabase {
  orm: Orm;
  url: string;
  /** The database's name (PostgreSQL backends serving it carry it in their title). */
  name: string;
  drop(): Promise<void>;
}

/** `server` is the URL of any database on the server; the new one gets `prefix` and a unique suffix. */
export async function scratchDatabase(server: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  const orm = await createOrm({ databaseUrl: url });
  await migrateUp(orm);
  return {
    orm,
    url,
    name,
    async drop() {
      await orm.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}
