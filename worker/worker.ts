/** Builds the Temporal worker: the workflow bundle (built once) and the activities over their deps. */
import path from 'node:path';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { ActivityDeps } from '../activities/deps.ts';
import { createActivities } from '../activities/index.ts';

export const workflowsPath = path.resolve(import.meta.dirname, '../workflows/index.ts');

let runtimeInstalled = false;
/** Quiet the SDK's own logging to warnings; our activities log through pino. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new (class {
        log() {}
        trace() {}
        debug() {}
        info() {}
        warn(message: string, meta?: unknown) {
          console.warn(message, meta ?? '');
        }
        error(message: string, meta?: unknown) {
          console.error(message, meta ?? '');
        }
      })(),
    });
  } catch {
    // Already installed by the host process (tests).
  }
}

export async function buildWorkflowBundle(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
}

export interface WorkerOptions {
  deps: ActivityDeps;
  address: string;
  namespace: string;
  taskQueue: string;
  bundle?: WorkflowBundleOption;
}

export async function createWorker(options: WorkerOptions) {
  installRuntime();
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle ?? (await buildWorkflowBundle()),
    activities: createActivities(options.deps),
    shutdownGraceTime: '5 seconds',
  });
  return { worker, connection };
}
