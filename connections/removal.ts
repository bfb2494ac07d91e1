/** The end of a connection: everything imported through it goes, and so do its credentials. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { changeConnectionStatus } from './status.ts';

/** Idempotent: a retried removal finds nothing left to delete and the status already `removed`. */
export async function removeConnectionData(em: EntityManager, connectionId: string): Promise<void> {
  await em.transactional(async (tx) => {
    await tx.execute(
      'delete from imported_events where calendar_id in (select id from provider_calendars where connection_id = ?)',
      [connectionId],
    );
    await tx.execute('delete from provider_calendars where connection_id = ?', [connectionId]);
    await tx.execute('update calendar_connections set credentials = null where id = ?', [connectionId]);
    await changeConnectionStatus(tx, connectionId, 'removed');
  });
}
