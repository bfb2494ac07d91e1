/** Runs `temporal server start-dev` as a child process, with our search attributes registered. */
import type { ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { searchAttributeDefinitions } from '../../workflows/search-attributes.ts';
import { lastLine, StartError, spawnChecked, stopChild } from './children.ts';
import { waitForPort } from './ports.ts';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number | null;
  /** SQLite file that keeps workflows across restarts; null keeps everything in memory. */
  dbFile: string | null;
  namespace: string;
  logFile?: string;
  /**
   * Run in its own process group, so a Ctrl-C on the terminal reaches only the caller, which then
   * stops the server after the worker is done with it (the launcher). Off for the test harness,
   * where a Ctrl-C should end the server with everything else.
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...Object.entries(searchAttributeDefinitions).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type}`,
    ]),
    // Off by default in older dev servers; kept on whichever CLI is found.
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    // An activity scheduled by a workflow task goes straight back to the worker that completed it,
    // instead of through the task queue: one round trip less per activity (a booking's invite).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ];
  const child = await spawnChecked(options.cliPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new StartError(`the Temporal dev server exited (${code}): ${lastLine(stderr)}`)),
    ),
  );
  try {
    await Promise.race([waitForPort(options.port, '127.0.0.1', 30_000), exited]);
    // The port opens before the frontend serves: a worker connecting then is told "Frontend is not
    // healthy yet" (seen on a loaded 2-core machine).
    await Promise.race([waitUntilServing(`127.0.0.1:${options.port}`, 30_000), exited]);
    if (options.uiPort) await Promise.race([waitForPort(options.uiPort, '127.0.0.1', 30_000), exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => {});
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://localhost:${options.uiPort}` : null,
    process: child,
    stop: () => stopChild(child),
  };
}

async function waitUntilServing(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 5_000 });
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new StartError(`the Temporal dev server did not start serving: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
