/**
 * Runs one iCalendar operation on hostile input inside a worker thread, so that a test can kill it
 * when it runs away (a backtracking regex cannot be interrupted from the same thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseContentLine } from '../../../ical/content-lines.ts';
import { parseICalendarFeed } from '../../../ical/normalize.ts';

export type IcalTask =
  | { op: 'parseContentLine'; line: string }
  | { op: 'parseICalendarFeed'; text: string; window: { start: string; end: string } };

export interface FeedSummary {
  /** Occurrences kept, by UID. */
  objects: Record<string, number>;
  /** First and last kept start, by UID (objects with occurrences only). */
  spans: Record<string, [string, string]>;
  problems: unknown[];
}

const task = workerData as IcalTask;
const port = parentPort;
if (!port) throw new Error('ical-worker.ts runs only as a worker thread');

// Module loading (node-ical, its zone tables) is not what is timed: the parent starts its clock here.
port.postMessage({ type: 'ready' });
// This thread's CPU time, not wall time: other test files share the machine's cores.
const started = process.threadCpuUsage();
let result: unknown;
if (task.op === 'parseContentLine') {
  const line = parseContentLine(task.line);
  result = line && {
    name: line.name,
    params: Object.fromEntries(line.params),
    valueLength: line.value.length,
  };
} else {
  const window = { start: new Date(task.window.start), end: new Date(task.window.end) };
  const feed = parseICalendarFeed(task.text, window);
  const spans: FeedSummary['spans'] = {};
  for (const [uid, { occurrences }] of feed.objects) {
    const first = occurrences[0];
    const last = occurrences.at(-1);
    if (first && last) spans[uid] = [first.start.toISOString(), last.start.toISOString()];
  }
  result = {
    objects: Object.fromEntries([...feed.objects].map(([uid, o]) => [uid, o.occurrences.length])),
    spans,
    problems: feed.problems,
  } satisfies FeedSummary;
}
const used = process.threadCpuUsage(started);
port.postMessage({ type: 'done', cpuMs: (used.user + used.system) / 1000, result });
