/** The ORM: one MikroORM instance per process, migrations listed in db/migrations/index.ts. */

import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import * as entities from './entities/index.ts';
import { migrations } from './migrations/index.ts';

export type Orm = MikroORM;

export interface OrmOptions {
  databaseUrl: string;
  debug?: boolean;
  poolMax?: number;
}

export async function createOrm(options: OrmOptions): Promise<Orm> {
  return MikroORM.init({
    clientUrl: options.databaseUrl,
    entities: Object.values(entities),
    extensions: [Migrator],
    migrations: {
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    debug: options.debug ?? false,
    // Never touch the schema implicitly: migrations are the only way it changes.
    ensureDatabase: false,
    allowGlobalContext: false,
  });
}

/** Applies pending migrations; returns the names applied. */
export async function migrateUp(orm: Orm): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((m) => m.name);
}
