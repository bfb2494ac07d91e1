/**
 * Once per test run: a real Temporal dev server (in memory, our search attributes registered), a
 * fresh PostgreSQL database with every migration applied, and the workflow bundle built once. Each
 * suite then starts its own worker and API against them (test/harness/platform.ts).
 *
 * PostgreSQL: DATABASE_URL's server if set, else 127.0.0.1:5432 if it answers, else an embedded one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createOrm, migrateUp } from '../../db/orm.ts';
import { freePort } from '../../worker/local/ports.ts';
import { checkDatabase, startEmbeddedPostgres } from '../../worker/local/postgres.ts';
import { startTemporalDevServer } from '../../worker/local/temporal-dev-server.ts';
import { repoRoot, resolveTemporalCli } from '../../worker/local/tools.ts';
import { buildWorkflowBundle } from '../../worker/worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
    runDir: string;
  }
}

async function serverUrl(): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!(await checkDatabase(local))) return { url: local };
  const embedded = await startEmbeddedPostgres(
    path.join(repoRoot, '.test-data', 'embedded'),
    await freePort(),
  );
  return { url: embedded.url, stop: embedded.stop };
}

export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const runDir = path.join(repoRoot, '.test-data', `run-${runId}`);
  mkdirSync(runDir, { recursive: true });
  // Every temporary file of the run (tests, Radicale, PostgreSQL, the Temporal CLI) lands in the run's
  // folder, which teardown removes: a run leaves nothing in /tmp, even from a test that forgets.
  // Test workers are forked after this and inherit it.
  const previousTmpdir = process.env.TMPDIR;
  const tmp = path.join(runDir, 'tmp');
  mkdirSync(tmp);
  process.env.TMPDIR = tmp;

  const [cliPath, server] = await Promise.all([resolveTemporalCli(), serverUrl()]);
  const temporal = await startTemporalDevServer({
    cliPath,
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    namespace: 'default',
  });

  // A fresh database per run.
  const databaseName = `calbridge_test_${runId}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`create database ${databaseName}`);
  await admin.end();
  const databaseUrl = Object.assign(new URL(server.url), { pathname: `/${databaseName}` }).toString();
  const orm = await createOrm({ databaseUrl });
  await migrateUp(orm);
  await orm.close();

  const bundle = await buildWorkflowBundle();
  const workflowBundlePath = path.join(runDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  project.provide('databaseUrl', databaseUrl);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('runDir', runDir);

  return async () => {
    await temporal.stop();
    const cleanup = new pg.Client({ connectionString: server.url });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${databaseName} with (force)`).catch(() => {});
    await cleanup.end();
    await server.stop?.();
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    if (!process.env.KEEP_TEST_DATA) rmSync(runDir, { recursive: true, force: true });
  };
}
