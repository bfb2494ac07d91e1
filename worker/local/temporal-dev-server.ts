/** Runs `temporal server start-dev` as a child process, with our search attributes registered. */
import { type ChildProcess, spawn } from 'node:child_process';
import { searchAttributeDefinitions } from '../../workflows/search-attributes.ts';
import { waitForPort } from './ports.ts';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number | null;
  /** SQLite file that keeps workflows across restarts; null keeps everything in memory. */
  dbFile: string | null;
  namespace: string;
  logFile?: string;
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
    // Workflow histories hold no secrets, but keep the dev server's own metrics off the network.
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
  ];
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Temporal dev server exited (${code}): ${stderr.trim()}`))),
  );
  try {
    await Promise.race([waitForPort(options.port, '127.0.0.1', 30_000), exited]);
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

/** SIGTERM, then SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
