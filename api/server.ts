/** Starts the HTTP server around real dependencies; used by api/main.ts and by the tests. */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { createApp } from './app.ts';

/** Where this machine reaches a server listening on `host`: loopback for the wildcard addresses. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

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
    const s = app.listen(options.port ?? options.config.PORT, options.config.HOST, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    url: `http://${reachableHost(options.config.HOST)}:${port}`,
    temporal,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
    },
  };
}
