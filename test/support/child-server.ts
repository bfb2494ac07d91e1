/** Running a test server as a child process (Radicale, Xandikos): wait until it answers, stop it. */
import type { ChildProcess } from 'node:child_process';

/** True once `url` answers (any status); false if the process died or `timeoutMs` passed. */
export async function waitUntilAnswering(
  url: string,
  proc: ChildProcess,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    try {
      const response = await fetch(url, { method: 'OPTIONS', signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
export function killChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill('SIGKILL'), 3000);
    proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
