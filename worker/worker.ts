/**
 * Builds the Temporal worker: the workflow bundle (built once) and the activities over their deps,
 * with the poll loop of watched feeds (connections/watched-polls.ts) that runs beside it.
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
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
import { startPollLoop } from '../connections/watched-polls.ts';
import type { Logger } from '../platform/logger.ts';
import { coreLogFilter, sdkLogger } from './sdk-logger.ts';

export const workflowsPath = path.resolve(import.meta.dirname, '../workflows/index.ts');

let runtimeInstalled = false;
/** Once per process: the SDK's own messages, and the native core's, go through our pino logger. */
function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: sdkLogger(logger),
      telemetryOptions: { logging: { forward: {}, filter: coreLogFilter(logger) } },
    });
  } catch {
    // Already installed by the host process (tests).
  }
}

/** Bundling problems are logged through `logger` when given, else printed as errors. */
export async function buildWorkflowBundle(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    logger: logger
      ? sdkLogger(logger)
      : { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
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
  installRuntime(options.deps.logger);
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle ?? (await buildWorkflowBundle(options.deps.logger)),
    activities: createActivities(options.deps),
    // Each cached run holds its workflow state in memory; a run evicted from the cache is replayed
    // from its (bounded) history at its next poll instead.
    maxCachedWorkflows: options.deps.config.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTime: '5 seconds',
  });
  /** Runs the worker and, beside it, the poll loop of watched feeds, until `worker.shutdown()`. */
  const run = async () => {
    const temporal = new Client({ connection, namespace: options.namespace });
    const polls = startPollLoop({ ...options.deps, temporal });
    try {
      await worker.run();
    } finally {
      await polls.stop();
    }
  };
  return { worker, connection, run };
}
