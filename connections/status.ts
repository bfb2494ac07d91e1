/**
 * The one writer of `calendar_connections.status`. The API's commands and the workflow's
 * activities both come here, and the transition table in domain/connection-status.ts decides.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray } from '../db/sql.ts';
import { allowedSources, type ConnectionStatus } from '../domain/connection-status.ts';

export interface StatusChange {
  /** Shown to the user as `statusReason`; cleared when omitted. */
  reason?: string | null;
  /** Narrows the move to these current statuses (e.g. Save moves on only from awaiting_selection). */
  onlyFrom?: readonly ConnectionStatus[];
}

/**
 * Moves the connection to `to` in one conditional UPDATE, so a concurrent writer cannot slip in
 * between a read and the write. Returns the status the connection is in afterwards: `to` when the
 * move was allowed, otherwise the status that refused it (`removed` when the row is gone).
 */
export async function changeConnectionStatus(
  em: EntityManager,
  connectionId: string,
  to: ConnectionStatus,
  change: StatusChange = {},
): Promise<ConnectionStatus> {
  const sources = allowedSources(to).filter((s) => !change.onlyFrom || change.onlyFrom.includes(s));
  const moved = await em.execute<{ status: ConnectionStatus }[]>(
    `update calendar_connections set status = ?, status_reason = ?, updated_at = now(), version = version + 1
      where id = ? and status = any(?::text[])
      returning status`,
    [to, change.reason ?? null, connectionId, pgArray(sources)],
  );
  if (moved[0]) return moved[0].status;
  const [current] = await em.execute<{ status: ConnectionStatus }[]>(
    'select status from calendar_connections where id = ?',
    [connectionId],
  );
  return current?.status ?? 'removed';
}
