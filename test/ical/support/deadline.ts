/** Runs ical-worker.ts with a deadline: past it, the worker is terminated and the promise rejects. */
import { Worker } from 'node:worker_threads';
import type { IcalTask } from './ical-worker.ts';

export interface TimedResult {
  /** CPU time of the operation itself, on the worker's thread. */
  cpuMs: number;
  result: unknown;
}

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

export function runWithDeadline(task: IcalTask, deadlineMs: number): Promise<TimedResult> {
  const worker = new Worker(new URL('./ical-worker.ts', import.meta.url), { workerData: task });
  return new Promise<TimedResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      settle();
      void worker.terminate();
    };
    worker.on('message', (message: { type: 'ready' } | ({ type: 'done' } & TimedResult)) => {
      if (message.type === 'ready') {
        timer = setTimeout(() => {
          finish(() =>
            reject(new DeadlineExceeded(`${task.op} still running after ${deadlineMs} ms: killed`)),
          );
        }, deadlineMs);
      } else {
        finish(() => resolve({ cpuMs: message.cpuMs, result: message.result }));
      }
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`ical worker exited with code ${code}`))));
  });
}
