/** The worker process: `npm run worker` (the launcher starts it for you locally). */

import path from 'node:path';
import { createOrm } from '../db/orm.ts';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { createMailer } from '../platform/mailer.ts';
import { createWorker } from './worker.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { generateSecrets: process.env.NODE_ENV !== 'production' });
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new ConfigError([
      'DATABASE_URL and TEMPORAL_ADDRESS are required for the worker (npm start sets them for you)',
    ]);
  }
  const orm = await createOrm({ databaseUrl: config.DATABASE_URL });
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, mailDir: path.join(config.dataDir, 'mail') });
  const { worker, connection, run } = await createWorker({
    deps: { orm, config, mailer, logger },
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...(config.WORKFLOW_BUNDLE_PATH ? { bundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
  process.send?.({ ready: true });
  await run();
  await connection.close();
  mailer.close();
  await orm.close();
  logger.info('worker stopped');
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `worker: ${(error as Error).message}`);
  process.exit(1);
});
