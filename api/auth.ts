/** Bearer-token authentication: the admin token, or a user token looked up by its SHA-256 hash. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request } from 'express';
import { AppError } from '../domain/errors.ts';
import { constantTimeEqual, hashToken } from '../platform/crypto.ts';

export type Caller = { kind: 'anonymous' } | { kind: 'admin' } | { kind: 'user'; userId: string };

export function createAuthenticator(adminToken: string, em: (req: Request) => EntityManager) {
  return async (req: Request): Promise<Caller> => {
    const header = req.headers.authorization;
    if (!header) return { kind: 'anonymous' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError(401, 'unauthorized', 'The Authorization header must be "Bearer <token>".');
    const token = match[1]!;
    if (constantTimeEqual(token, adminToken)) return { kind: 'admin' };
    const rows = await em(req)
      .getConnection()
      .execute<{ user_id: string }[]>(
        // lastUsedAt is kept to the minute: a busy client does not write a row on every request.
        `with token as (select id, user_id, last_used_at from api_tokens where token_hash = ?),
              touched as (
                update api_tokens t set last_used_at = now() from token
                 where t.id = token.id
                   and (token.last_used_at is null or token.last_used_at < now() - interval '1 minute'))
         select user_id from token`,
        [hashToken(token)],
      );
    const row = rows[0];
    if (!row) throw new AppError(401, 'unauthorized', 'The bearer token is not valid.');
    return { kind: 'user', userId: row.user_id };
  };
}

/** The user the caller acts for; admins must name one. */
export function requireUser(caller: Caller): string {
  if (caller.kind === 'user') return caller.userId;
  throw new AppError(403, 'forbidden', "This route acts for a user: call it with that user's token.");
}

/** True when the caller may see `userId`'s resources (admins see all). Others get 404, never 403. */
export function canSee(caller: Caller, userId: string): boolean {
  return caller.kind === 'admin' || (caller.kind === 'user' && caller.userId === userId);
}
