/**
 * `npm test`: type-check, lint, then the whole vitest suite against real PostgreSQL, Temporal and
 * Radicale (the harness starts or installs what is missing). Exits non-zero at the first failure.
 */
import { spawnSync } from 'node:child_process';

const steps: [string, string[]][] = [
  ['typecheck', ['tsc', '--noEmit', '-p', '.']],
  ['lint', ['biome', 'check', '.']],
  ['tests', ['vitest', 'run', ...process.argv.slice(2)]],
];

for (const [name, [command, ...args]] of steps) {
  console.log(`\n== ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command!, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n== ${name} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  console.log(`== ${name} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
