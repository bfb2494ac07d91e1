/**
 * The browser tests drive Chromium from Debian's `chromium` package (no browser download: playwright-core
 * only). `npm test` calls ensureChromium() before vitest so that a fresh machine, CI's included, installs
 * it; test/harness/browser.ts reads the same path and hint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const defaultChromiumPath = '/usr/bin/chromium';

/** The Chromium executable the browser tests launch: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || defaultChromiumPath;
}

export const chromiumInstallHint =
  "install Debian's package (sudo apt-get install -y --no-install-recommends chromium; npm test does this " +
  'itself when it can) or set CHROMIUM_PATH to a Chromium or Chrome executable';

/**
 * Installs Debian's chromium when the executable is missing. Never throws: when it cannot install, it
 * prints why and how, and the browser tests then fail with the same hint (they do not skip).
 */
export function ensureChromium(): void {
  const executable = chromiumPath();
  if (existsSync(executable)) return;
  if (executable !== defaultChromiumPath) {
    console.error(
      `calbridge: CHROMIUM_PATH=${executable} does not exist; the browser tests will fail: ${fix()}`,
    );
    return;
  }
  const sudo = sudoPrefix();
  if (sudo === null || !onPath('apt-get')) {
    const why = sudo === null ? 'not root and no passwordless sudo' : 'no apt-get on this machine';
    console.error(`calbridge: cannot install Chromium (${why}); the browser tests will fail: ${fix()}`);
    return;
  }
  console.log("calbridge: installing Chromium from Debian's packages (browser tests)");
  const started = Date.now();
  // Through env(1): sudo drops the caller's environment.
  const [command, ...prefix] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  const aptGet = (...args: string[]) =>
    spawnSync(command!, [...prefix, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // Wait for another apt (unattended upgrades) rather than fail on its lock.
  const install = () =>
    aptGet('-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '-q', '--no-install-recommends', 'chromium');
  // The package lists are usually there already; refresh them only when the install cannot do without.
  let result = install();
  if (result.status !== 0) {
    const update = aptGet('-o', 'DPkg::Lock::Timeout=120', 'update', '-q');
    result = update.status === 0 ? install() : update;
  }
  if (result.status !== 0 || !existsSync(executable)) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`.trim();
    const tail = output.split('\n').slice(-5).join('\n');
    console.error(
      `calbridge: installing Chromium failed (exit ${result.status ?? result.signal}); the browser tests will ` +
        `fail: ${fix()}${tail ? `\n${tail}` : ''}`,
    );
    return;
  }
  console.log(`calbridge: Chromium installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function fix(): string {
  return `to run them, ${chromiumInstallHint}`;
}

/** [] as root, ['sudo', '-n'] when passwordless sudo works, null otherwise. */
function sudoPrefix(): string[] | null {
  if (process.getuid?.() === 0) return [];
  if (!onPath('sudo')) return null;
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : null;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
