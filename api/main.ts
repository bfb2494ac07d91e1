/** The API process: `npm run api` (the launcher starts it for you locally). */
import { createOrm } from '../db/orm.ts';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { startApi } from './server.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { generateSecrets: process.env.NODE_ENV !== 'production' });
  const logger = createLogger(config.LOG_LEVEL, 'api');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new ConfigError([
      'DATABASE_URL and TEMPORAL_ADDRESS are required for the API (npm start sets them for you)',
    ]);
  }
  const orm = await createOrm({ databaseUrl: config.DATABASE_URL });
  const api = await startApi({ config, orm, logger, temporalAddress: config.TEMPORAL_ADDRESS }).catch(
    (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new Error(`port ${config.PORT} is already in use: set PORT to a free port`);
      }
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
        throw new Error(`cannot listen on HOST ${config.HOST}: no such address on this machine`);
      }
      throw error;
    },
  );
  logger.info({ url: config.PUBLIC_URL, host: config.HOST, port: config.PORT }, 'api listening');
  process.send?.({ ready: true });
  const stop = async () => {
    await api.close();
    await orm.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `api: ${(error as Error).message}`);
  process.exit(1);
});
