/**
 * The connection's run in Temporal: `connection/<id>`, started once per link and signalled by
 * every command. The Temporal options (task queue, id reuse, search attributes) live here only.
 */
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import type { SearchAttributePair, SignalDefinition } from '@temporalio/common';
import type { ProviderKind } from '../domain/connection.ts';
import type { ConnectionStatus } from '../domain/connection-status.ts';
import type { Config } from '../platform/config.ts';
import { connectionWorkflow } from '../workflows/connection.ts';
import { CalbridgeProvider, CalbridgeStatus, CalbridgeUser } from '../workflows/search-attributes.ts';

export interface ConnectionRun {
  id: string;
  userId: string;
  provider: ProviderKind;
  status: ConnectionStatus;
  workflowId: string;
}

/** What an operator filters on in the Temporal UI. */
function searchAttributes(run: ConnectionRun): SearchAttributePair[] {
  return [
    { key: CalbridgeUser, value: run.userId },
    { key: CalbridgeProvider, value: run.provider },
    { key: CalbridgeStatus, value: run.status },
  ];
}

export async function startConnectionRun(
  temporal: Client,
  config: Config,
  run: ConnectionRun,
): Promise<void> {
  await temporal.workflow.start(connectionWorkflow, {
    workflowId: run.workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ connectionId: run.id }],
    typedSearchAttributes: searchAttributes(run),
  });
}

/** Delivers a signal, starting the run again if it has ended, so no request is lost. */
export async function signalConnectionRun<Args extends unknown[]>(
  temporal: Client,
  config: Config,
  run: ConnectionRun,
  signal: SignalDefinition<Args>,
  ...signalArgs: Args
): Promise<void> {
  const options = {
    workflowId: run.workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [{ connectionId: run.id }],
    signal,
    signalArgs,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: searchAttributes(run),
  };
  // The SDK's option type is conditional on the signal's arity, which a generic Args cannot resolve.
  await temporal.workflow.signalWithStart(connectionWorkflow, options as never);
}
