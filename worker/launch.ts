/**
 * `npm start`: the whole platform on one machine. PostgreSQL (DATABASE_URL, or embedded in
 * DATA_DIR), the Temporal dev server (unless TEMPORAL_ADDRESS names one), migrations, then the worker
 * and the API as child processes. Ctrl-C stops everything, in reverse order, and says so.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createOrm, migrateUp } from '../db/orm.ts';
import { type Config, ConfigError, loadConfig } from '../platform/config.ts';
import { StartError, stopChild } from './local/children.ts';
import { isPortFree } from './local/ports.ts';
import {
  checkDatabase,
  ensureDatabase,
  type RunningPostgres,
  startEmbeddedPostgres,
} from './local/postgres.ts';
import { type DevServer, startTemporalDevServer } from './local/temporal-dev-server.ts';
import { resolveTemporalCli } from './local/tools.ts';

const EMBEDDED_POSTGRES_PORT = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
const TEMPORAL_DEV_PORT = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);

const say = (line: string) => console.log(`calbridge: ${line}`);

async function requireFreePort(port: number, what: string, variable: string): Promise<void> {
  if (!(await isPortFree(port, '0.0.0.0')))
    throw new StartError(
      `port ${port} (${what}) is already in use: stop whatever uses it or set ${variable}`,
    );
}

/** One line for any failure; a stack trace only when LOG_LEVEL asks for debugging. */
function oneLine(error: unknown): string {
  if (error instanceof ConfigError || error instanceof StartError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  const debugging = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
  if (debugging && error instanceof Error && error.stack) console.error(error.stack);
  return `start-up failed: ${message.split('\n')[0]}${debugging ? '' : ' (LOG_LEVEL=debug shows the details)'}`;
}

function adminTokenLine(config: Config): string {
  if (!config.generatedSecrets.includes('ADMIN_TOKEN')) return 'from ADMIN_TOKEN (not shown)';
  return `${config.ADMIN_TOKEN}   (generated once, kept in ${path.join(config.dataDir, 'secrets.json')})`;
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (cleanups.length) say('stopping...');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (code === 0) say('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(0));
  // Whatever slips through (an 'error' event nobody listens to) still ends in one line and a clean stop.
  process.on('uncaughtException', (error) => {
    console.error(`calbridge: ${oneLine(error)}`);
    void shutdown(1);
  });

  try {
    const config = loadConfig(process.env, { generateSecrets: process.env.NODE_ENV !== 'production' });
    await requireFreePort(config.PORT, 'API', 'PORT');

    // PostgreSQL
    let databaseUrl = config.DATABASE_URL;
    let postgres: RunningPostgres | null = null;
    if (databaseUrl) {
      const problem = await checkDatabase(databaseUrl);
      if (problem) throw new StartError(problem);
      say('using PostgreSQL from DATABASE_URL');
    } else {
      await requireFreePort(EMBEDDED_POSTGRES_PORT, 'embedded PostgreSQL', 'EMBEDDED_POSTGRES_PORT');
      say(`starting embedded PostgreSQL in ${path.join(config.dataDir, 'postgres')}`);
      postgres = await startEmbeddedPostgres(config.dataDir, EMBEDDED_POSTGRES_PORT, {
        ownProcessGroup: true,
      });
      cleanups.push(() => postgres!.stop());
      databaseUrl = postgres.url;
    }
    await ensureDatabase(databaseUrl).catch(() => {});

    // Temporal
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let devServer: DevServer | null = null;
    if (temporalAddress) {
      try {
        const connection = await Connection.connect({
          address: temporalAddress,
          connectTimeout: '5 seconds',
        });
        await connection.close();
      } catch (error) {
        throw new StartError(`cannot reach Temporal at ${temporalAddress}: ${(error as Error).message}`);
      }
      say(`using Temporal at ${temporalAddress}`);
    } else {
      await requireFreePort(TEMPORAL_DEV_PORT, 'Temporal gRPC', 'TEMPORAL_DEV_PORT');
      await requireFreePort(config.TEMPORAL_UI_PORT, 'Temporal UI', 'TEMPORAL_UI_PORT');
      const cliPath = await resolveTemporalCli(process.env, say);
      say('starting the Temporal dev server');
      devServer = await startTemporalDevServer({
        cliPath,
        port: TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: path.join(config.dataDir, 'temporal.sqlite'),
        namespace: config.TEMPORAL_NAMESPACE,
        ownProcessGroup: true,
      });
      cleanups.push(() => devServer!.stop());
      temporalAddress = devServer.address;
    }

    // Migrations
    const orm = await createOrm({ databaseUrl });
    const applied = await migrateUp(orm);
    await orm.close();
    say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

    // Worker and API
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      ADMIN_TOKEN: config.ADMIN_TOKEN,
      ENCRYPTION_KEY: config.encryptionKey.toString('base64'),
      DATA_DIR: config.dataDir,
    };
    const startChild = async (name: string, script: string): Promise<ChildProcess> => {
      const child = fork(path.resolve(import.meta.dirname, '..', script), [], { env, stdio: 'inherit' });
      cleanups.push(() => stopChild(child));
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new StartError(`${name} exited during start-up (code ${code})`)));
      });
      child.once('exit', (code) => {
        if (!stopping) {
          say(`${name} exited unexpectedly (code ${code})`);
          void shutdown(1);
        }
      });
      return child;
    };
    await startChild('worker', 'worker/main.ts');
    await startChild('api', 'api/main.ts');

    say('ready');
    console.log(`
  Web pages    ${config.PUBLIC_URL}/   (administrator: ${config.PUBLIC_URL}/admin/sign-in with the admin token)
  API          ${config.PUBLIC_URL}/v1   (OpenAPI: ${config.PUBLIC_URL}/openapi.json, health: ${config.PUBLIC_URL}/healthz)
  Temporal UI  ${devServer?.uiUrl ?? '(the UI of your Temporal cluster)'}
  Admin token  ${adminTokenLine(config)}
  Data         ${config.dataDir}
  Press Ctrl-C to stop.
`);
  } catch (error) {
    console.error(`calbridge: ${oneLine(error)}`);
    await shutdown(1);
  }
}

void main();
