/**
 * Child processes of the local stack (PostgreSQL, the Temporal dev server, installers). A child that
 * cannot start becomes a StartError with one line saying what to do, never an unhandled 'error'
 * event: Node prints those as a stack trace and exits.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/** A start-up failure whose message is the whole story, shown to the user as it is. */
export class StartError extends Error {}

/** One line for a failed spawn: which program, and why it could not run. */
export function describeSpawnFailure(file: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `cannot run ${file}: it does not exist (or is not on PATH)`;
    case 'EACCES':
    case 'EPERM':
      return `cannot run ${file}: permission denied (the file must be executable and every directory above it enterable)`;
    default:
      return `cannot run ${file}: ${error.message}`;
  }
}

/**
 * spawn() whose start failure is a rejected promise instead of an 'error' event: resolves once the
 * process exists, with the child.
 */
export function spawnChecked(
  file: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    child.once('error', (error) => reject(new StartError(describeSpawnFailure(file, error))));
    child.once('spawn', () => resolve(child));
  });
}

export interface Completed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end and collects its output; rejects only when it cannot start. */
export async function runToEnd(file: string, args: string[], options: SpawnOptions = {}): Promise<Completed> {
  const child = await spawnChecked(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  return new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** `signal` (SIGTERM unless told), then SIGKILL after `graceMs`; resolves once the child is gone. */
export function stopChild(
  child: ChildProcess,
  graceMs = 5000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** The last non-empty line of a program's output, for a one-line error message. */
export const lastLine = (text: string): string =>
  text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1) ?? '';
