/** Replay of workflow histories against today's workflow bundle, for the workflow tests. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { expect, inject } from 'vitest';

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export const historiesDir = path.join(import.meta.dirname, 'histories');

/** The histories committed in test/workflows/histories whose file names pass `include`. */
export function committedHistories(
  include: (file: string) => boolean,
): { workflowId: string; history: History }[] {
  return readdirSync(historiesDir)
    .filter((file) => file.endsWith('.json') && include(file))
    .map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'))),
    }));
}

/** Every history replays against today's workflow code without non-determinism. */
export async function expectReplays(histories: { workflowId: string; history: History }[]): Promise<void> {
  const results = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: inject('workflowBundlePath') } },
    histories,
  ))
    results.push(result);
  expect(results).toHaveLength(histories.length);
  for (const result of results) expect(result.error, result.workflowId).toBeUndefined();
}
