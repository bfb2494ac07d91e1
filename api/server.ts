/** Starts the HTTP server around real dependencies; used by api/main.ts and by the tests. */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { createApp } from './app.ts';

export async function startApi(options: {
  config: Config;
  orm: Orm;
  logger: Logger;
  port?: number;
  temporalAddress: string;
}) {
  // Lazy: the API starts (and /healthz reports 503) even while Temporal is down.
  const connection = Connection.lazy({ address: options.temporalAddress });
  const temporal = new Client({ connection, namespace: options.config.TEMPORAL_NAMESPACE });
  const { app } = createApp({ config: options.config, orm: options.orm, temporal, logger: options.logger });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? options.config.PORT, '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    temporal,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
    },
  };
}
