/**
 * Runs parseICalendarFeed in a child process whose host time zone is `hostZone`, so that a test can
 * compare hosts: the TZ a Node process starts with is the one its Date functions keep.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ICalendarOptions } from '../../../ical/normalize.ts';

export interface ZoneRun {
  /** Occurrence starts (ISO), by UID. */
  starts: Record<string, string[]>;
  floatingTimeZone: string;
  problems: unknown[];
}

const child = fileURLToPath(new URL('./expand-child.ts', import.meta.url));

export function expandInZone(
  hostZone: string,
  text: string,
  window: { start: string; end: string },
  options?: ICalendarOptions,
): Promise<ZoneRun> {
  return new Promise((resolve, reject) => {
    const proc = execFile(
      process.execPath,
      [child],
      { env: { ...process.env, TZ: hostZone }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as ZoneRun);
      },
    );
    proc.stdin?.end(JSON.stringify({ text, window, options }));
  });
}
