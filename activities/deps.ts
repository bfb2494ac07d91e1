import type { Orm } from '../db/orm.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { Mailer } from '../platform/mailer.ts';

/** Everything activities need, handed in by the worker (or a test) — no module-level singletons. */
export interface ActivityDeps {
  orm: Orm;
  config: Config;
  mailer: Mailer;
  logger: Logger;
}
