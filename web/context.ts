import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import type { Orm } from '../db/orm.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { Session } from '../users/sign-in.ts';

/** What the pages are given (the HTTP server's own dependencies). */
export interface WebContext {
  config: Config;
  orm: Orm;
  temporal: Client;
  logger: Logger;
  /** The request's own EntityManager fork. */
  em(req: Request): EntityManager;
}

/** What a use case is handed for one request. */
export const useCases = (ctx: WebContext, req: Request) => ({
  em: ctx.em(req),
  config: ctx.config,
  temporal: ctx.temporal,
});

/** The state each request carries through the web router (res.locals). */
export interface PageLocals {
  session: Session | null;
  /** The token every form of this response carries (web/csrf.ts). */
  csrfToken: string;
}
