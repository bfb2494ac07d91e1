/**
 * `npm test`: type-check, lint, then the whole vitest suite against real PostgreSQL, Temporal and
 * Radicale (the harness starts or installs what is missing), and Chromium for the browser tests
 * (installed from Debian's packages before vitest when missing: scripts/chromium.ts). Exits non-zero
 * at the first failure and ends with one plain "N passed, N failed" line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureChromium } from './chromium.ts';

const report = '.test-data/vitest-report.json';
mkdirSync('.test-data', { recursive: true });
rmSync(report, { force: true });

const steps: [string, string[]][] = [
  ['typecheck', ['tsc', '--noEmit', '-p', '.']],
  ['lint', ['biome', 'check', '.']],
  [
    'tests',
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...process.argv.slice(2),
    ],
  ],
];

for (const [name, [command, ...args]] of steps) {
  if (name === 'tests') ensureChromium();
  console.log(`\n== ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command!, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    summarise();
    console.error(`\n== ${name} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  console.log(`== ${name} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
summarise();

function summarise(): void {
  if (!existsSync(report)) return;
  const r = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
  );
}
