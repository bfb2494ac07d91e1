/** `npm run bench`: every benchmark, one JSON document per line. */
import { benchCalDavBackfill } from './caldav-backfill.ts';
import { benchIcsImport } from './ics-import.ts';

const benches: [string, () => Promise<unknown>][] = [
  ['ics_parse_and_import', () => benchIcsImport(5000)],
  ['caldav_backfill_radicale', () => benchCalDavBackfill(2000)],
];
for (const [name, run] of benches) {
  try {
    console.log(JSON.stringify(await run()));
  } catch (error) {
    console.log(JSON.stringify({ benchmark: name, error: (error as Error).message }));
    process.exitCode = 1;
  }
}
