/** A real worker process (worker/main.ts) for crash tests, which kill it with SIGKILL. */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../worker/local/tools.ts';

/** Starts a worker with `env` and resolves once it is polling; the caller kills it. */
export async function startWorkerProcess(
  env: Record<string, string>,
  started: ChildProcess[],
): Promise<ChildProcess> {
  const child = fork(path.join(repoRoot, 'worker/main.ts'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  started.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`worker exited during start-up (${code})`)));
  });
  return child;
}
