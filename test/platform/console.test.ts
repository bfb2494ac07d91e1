/**
 * What a newcomer's console shows: the Temporal SDK's own messages as single pino JSON lines (no
 * multi-line object dumps), request logs that leave the start banner readable in development, and
 * benchmarks whose stdout is JSON Lines and nothing else.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { repoRoot } from '../../worker/local/tools.ts';
import { sdkLogger } from '../../worker/sdk-logger.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

function capture(level: string) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

describe("the Temporal SDK's logger", () => {
  it('writes one JSON line per message, errors and nested metadata included', () => {
    const { logger, lines } = capture('info');
    const failure = new Error('activity failed\nsecond line of the message');
    sdkLogger(logger).warn('Activity failed', {
      sdkComponent: 'worker',
      error: failure,
      activity: { type: 'syncCalendar', attempt: 3, details: { pages: [1, 2, 3] } },
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      level: 40,
      component: 'temporal-sdk',
      sdkComponent: 'worker',
      msg: 'Activity failed',
      error: { type: 'Error', message: 'activity failed\nsecond line of the message' },
      activity: { type: 'syncCalendar', attempt: 3, details: { pages: [1, 2, 3] } },
    });
    expect(line.error.stack).toContain('activity failed');
  });

  it('keeps its lifecycle chatter out of an info console, and shows it when LOG_LEVEL is debug', () => {
    const info = capture('info');
    sdkLogger(info.logger).info('Worker state changed', { state: 'RUNNING' });
    sdkLogger(info.logger).error('Worker failed', {});
    expect(info.lines.map((l) => JSON.parse(l).msg)).toEqual(['Worker failed']);

    const debug = capture('debug');
    sdkLogger(debug.logger).info('Worker state changed', { state: 'RUNNING' });
    sdkLogger(debug.logger).debug('Activation', {});
    expect(debug.lines.map((l) => JSON.parse(l).msg)).toEqual(['Worker state changed', 'Activation']);
  });
});

describe('request logs by environment', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ worker: false });
  });
  afterAll(() => platform?.stop());

  async function requestLevels(nodeEnv: 'development' | 'production') {
    const { logger, lines } = capture('debug');
    const { app } = createApp({
      config: { ...platform.config, NODE_ENV: nodeEnv },
      orm: platform.orm,
      temporal: platform.temporal,
      logger,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
      expect((await fetch(`${base}/v1/connections`)).status).toBe(401);
      expect((await fetch(`${base}/v1/no-such-route`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    return Object.fromEntries(
      lines
        .map((l) => JSON.parse(l))
        .filter((l) => l.req)
        .map((l) => [l.req.url, l.level]),
    );
  }

  it('logs successful requests at debug in development; 4xx stay visible at warn', async () => {
    expect(await requestLevels('development')).toEqual({
      '/openapi.json': 20,
      '/v1/connections': 40,
      '/v1/no-such-route': 40,
    });
  });

  it('logs successful requests at info in production', async () => {
    expect(await requestLevels('production')).toMatchObject({ '/openapi.json': 30 });
  });
});

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bench/run.ts'), ...args], {
      cwd: repoRoot,
      // The run's PostgreSQL server: the bench makes and drops its own database there.
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench', () => {
  it('prints one JSON object per benchmark and line on stdout, and its progress on stderr', async () => {
    const { code, stdout, stderr } = await runBench(['ics_parse_and_import']);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(2);
    const result = JSON.parse(lines[0]!);
    expect(result).toMatchObject({ benchmark: 'ics_parse_and_import', feedEvents: 5000 });
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    expect(stderr).toContain('bench: ics_parse_and_import: running');
  }, 120_000);

  it('names the benchmarks there are when asked for one that is not, with nothing on stdout', async () => {
    const { code, stdout, stderr } = await runBench(['no_such_bench']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /unknown benchmark no_such_bench; there are ics_parse_and_import, caldav_backfill_radicale/,
    );
  });
});
