/**
 * The test run itself: every temporary file lands in the run's folder under .test-data, which the
 * global teardown removes, so `npm test` leaves nothing in /tmp (test/harness/global-setup.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';

describe('a test run', () => {
  it("keeps its temporary files, and its children's, in the run's folder", () => {
    const runTmp = path.join(inject('runDir'), 'tmp');
    expect(tmpdir()).toBe(runTmp);
    expect(path.dirname(mkdtempSync(path.join(tmpdir(), 'calbridge-probe-')))).toBe(runTmp);
    // Child processes (Radicale, PostgreSQL, the Temporal CLI) inherit it.
    const child = spawnSync('sh', ['-c', 'mktemp -d'], { encoding: 'utf8' });
    expect(path.dirname(child.stdout.trim())).toBe(runTmp);
  });
});
