/**
 * `npm run -s bench`: every benchmark, or those named as arguments (`npm run -s bench --
 * ics_parse_and_import`). Stdout carries one JSON object per benchmark and line and nothing else,
 * so it pipes into jq or a .jsonl file; progress goes to stderr. README.md ("Benchmarks") says what
 * each line's fields mean. Exits 1 when a benchmark failed (its line then has `error`), 2 on an
 * unknown name.
 */
import { benchBooking } from './booking.ts';
import { benchCalDavBackfill } from './caldav-backfill.ts';
import { benchGoogleBackfill } from './google-backfill.ts';
import { benchIcsFleet } from './ics-fleet.ts';
import { benchIcsImport } from './ics-import.ts';
import { benchMicrosoftBackfill } from './microsoft-backfill.ts';
import { benchPushLatency } from './push-latency.ts';
import { benchSlotsCompute } from './slots-compute.ts';

// Results only: anything else that writes to stdout while a benchmark runs (a library's console.log)
// goes to stderr.
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const emit = (result: object) =>
  new Promise<void>((resolve) => writeStdout(`${JSON.stringify(result)}\n`, () => resolve()));
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

const benches: Record<string, () => Promise<object>> = {
  ics_parse_and_import: () => benchIcsImport(5000),
  caldav_backfill_radicale: () => benchCalDavBackfill('radicale', 2000),
  caldav_backfill_xandikos: () => benchCalDavBackfill('xandikos', 2000),
  google_backfill: () => benchGoogleBackfill(10_000),
  microsoft_backfill: () => benchMicrosoftBackfill(10_000),
  push_latency: () => benchPushLatency({ changes: 40 }),
  ics_fleet: () => benchIcsFleet({ connections: 1000 }),
  slots_compute: () => benchSlotsCompute(),
  booking: () => benchBooking(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length) {
  progress(`unknown benchmark ${unknown.join(', ')}; there are ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

for (const [name, run] of Object.entries(benches)) {
  if (wanted.length && !wanted.includes(name)) continue;
  progress(`${name}: running`);
  const started = performance.now();
  try {
    await emit({ benchmark: name, ...(await run()) });
    progress(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await emit({ benchmark: name, error: (error as Error).message });
    progress(`${name}: failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
