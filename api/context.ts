import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import type { Orm } from '../db/orm.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';

/** What route modules are given: no globals, so tests build the app around real dependencies. */
export interface ApiContext {
  config: Config;
  orm: Orm;
  temporal: Client;
  logger: Logger;
  /** The request's own EntityManager fork. */
  em(req: Request): EntityManager;
}

/** What a use case (connections/, bookings/) is handed for one request. */
export function useCaseContext(ctx: ApiContext, req: Request) {
  return { em: ctx.em(req), config: ctx.config, temporal: ctx.temporal };
}
