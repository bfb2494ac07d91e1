/**
 * Applies pending migrations and exits: `npm run migrate`, and the one-shot `migrate` service of
 * docker-compose.yml, which runs before any API or worker replica so they never race on the schema.
 */
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createOrm, migrateUp } from './orm.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { generateSecrets: process.env.NODE_ENV !== 'production' });
  if (!config.DATABASE_URL) {
    throw new ConfigError(['DATABASE_URL is required to run migrations']);
  }
  const orm = await createOrm({ databaseUrl: config.DATABASE_URL, poolMax: 1 });
  try {
    const applied = await migrateUp(orm);
    console.log(
      applied.length === 0
        ? 'migrate: database is up to date'
        : `migrate: applied ${applied.length} migration(s): ${applied.join(', ')}`,
    );
  } finally {
    await orm.close();
  }
}

/** One line, so a failed one-shot container shows its cause at the top of `docker compose logs`. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) return `invalid configuration: ${error.problems.join('; ')}`;
  // A refused connection to a host with several addresses arrives as an AggregateError with no message.
  const cause = error instanceof AggregateError && !error.message ? error.errors[0] : error;
  const message =
    cause instanceof Error
      ? cause.message || (cause as NodeJS.ErrnoException).code || cause.name
      : String(cause);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`migrate: ${describe(error)}`);
    process.exit(1);
  },
);
