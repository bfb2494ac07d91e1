/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self and total time per function and self time
 * per file, optionally only for samples inside a span of the monotonic clock (µs, as the `ics_fleet`
 * benchmark prints in `profileSpanMicros` when run with a profile directory).
 *
 *   node bench/cpuprofile-summary.ts FILE.cpuprofile [START_US END_US] [--top N]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  byFileSelf: [string, number][];
  byFunctionSelf: [string, number][];
  byFunctionTotal: [string, number][];
}

export function summariseProfile(profile: Profile, span?: { start: number; end: number }): ProfileSummary {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const shortUrl = (url: string) =>
    url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, 'node_modules/')
      .replace(/.*\/work\/main\//, '') || '(native/vm)';
  const fn = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const fileSelf = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let time = profile.startTime;
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    // A sample's weight is the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (span && (time < span.start || time > span.end)) continue;
    const node = byId.get(profile.samples[i] as number);
    if (!node) continue;
    sampled += weight;
    if (node.callFrame.functionName === '(idle)') continue;
    add(fileSelf, shortUrl(node.callFrame.url), weight);
    add(fnSelf, fn(node), weight);
    const seen = new Set<string>();
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
      const key = fn(byId.get(at) as ProfileNode);
      if (seen.has(key)) continue;
      seen.add(key);
      add(fnTotal, key, weight);
    }
  }
  const top = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, Math.round(us / 100) / 10] as [string, number]);
  return {
    sampledMs: Math.round(sampled / 1000),
    byFileSelf: top(fileSelf),
    byFunctionSelf: top(fnSelf),
    byFunctionTotal: top(fnTotal),
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const n = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 40;
  const [file, start, end] = args;
  if (!file) {
    console.error('usage: node bench/cpuprofile-summary.ts FILE.cpuprofile [START_US END_US] [--top N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const summary = summariseProfile(
    profile,
    start && end ? { start: Number(start), end: Number(end) } : undefined,
  );
  const print = (title: string, rows: [string, number][]) => {
    console.log(`\n== ${title} (ms)`);
    for (const [key, ms] of rows.slice(0, n)) console.log(`${ms.toFixed(1).padStart(10)}  ${key}`);
  };
  console.log(`sampled: ${summary.sampledMs} ms (idle included)`);
  print('self time by file', summary.byFileSelf);
  print('self time by function', summary.byFunctionSelf);
  print('total time by function', summary.byFunctionTotal);
}
