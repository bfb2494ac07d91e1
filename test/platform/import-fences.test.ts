/**
 * The import fences in biome.json (style/noRestrictedImports, one override per top-level folder):
 * every case lints a one-import probe file with the real Biome binary and the repository's real
 * biome.json, and checks that the wrong-way imports are rejected and the right-way ones accepted,
 * so this fails when a fence is too loose as well as when it is too strict.
 *
 * Why the probe is a real file in a scratch copy: in `--stdin-file-path` mode Biome prints the code
 * back and never prints diagnostics (by design), so it cannot show which rule fired. A probe written
 * into the real domain/ would be seen by a concurrent `biome check .` or `git status`, and would stay
 * behind if the run were killed. So the probe lives in a temporary folder holding a byte copy of
 * biome.json and .gitignore: override `includes` are relative to the configuration file, so
 * `<scratch>/domain/x.ts` gets exactly the rules that `domain/x.ts` gets in the repository. The
 * paired cases ('zod' rejected in domain/, accepted in providers/) show that the folder overrides
 * really apply.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const biomeBin = path.join(repoRoot, 'node_modules', '.bin', 'biome');

interface FenceCase {
  /** Where the probe sits, relative to the repository root. */
  file: string;
  source: string;
  verdict: 'rejected' | 'accepted';
  /** For rejected cases: the rule that must fire (default noRestrictedImports). */
  rule?: string;
  /** For rejected cases: a fragment of the fence's message, so the right fence is the one that fired. */
  says?: string;
}

const DOMAIN = 'domain/ is the shared vocabulary and imports nothing outside domain/';
const ICAL = 'ical/ may import only ical/ siblings, domain/';
const SCHEDULING = 'scheduling/ is pure date logic';
const PROVIDERS = 'providers/ may import only domain/, ical/, platform/, providers/';
const DB = 'db/ (entities, migrations, SQL) may import only domain/, platform/, db/';
const PLATFORM = 'platform/ (config, logging, crypto, mail) may import only domain/, platform/';
const FEATURES = 'may import the layers below them but never api/, worker/ or web/';
const WORKFLOWS_ONLY = 'workflows/ may import only workflows/ siblings, domain/, types from activities/';
const WORKFLOWS_NODE = 'Workflows are deterministic: no Node APIs';
const WORKFLOWS_IO = 'Workflows do no I/O';
const WORKFLOWS_ACTIVITIES = 'workflows/ may only `import type` from activities/';
const API = 'api/ may import any lower layer, and web/ (the HTTP server serves the pages), but not worker/';
const WEB = 'web/ may import the layers below it but never api/ or worker/';
const WORKER = 'worker/ may import any lower layer but not api/ or web/';
const TOP = 'nothing imports them except test/, bench/ and scripts/';

const cases: Record<string, FenceCase> = {
  // Wrong-way imports: each must be rejected by its folder's fence.
  'domain → platform': {
    file: 'domain/probe.ts',
    source: "import { loadConfig } from '../platform/config.ts';\nexport const probe = loadConfig;\n",
    verdict: 'rejected',
    says: DOMAIN,
  },
  'domain → npm zod': {
    file: 'domain/probe.ts',
    source: "import { z } from 'zod';\nexport const probe = z;\n",
    verdict: 'rejected',
    says: DOMAIN,
  },
  'domain → node:crypto': {
    file: 'domain/probe.ts',
    source: "import { randomUUID } from 'node:crypto';\nexport const probe = randomUUID;\n",
    verdict: 'rejected',
    says: DOMAIN,
  },
  'ical → providers': {
    file: 'ical/probe.ts',
    source: "import { NotFoundError } from '../providers/errors.ts';\nexport const probe = NotFoundError;\n",
    verdict: 'rejected',
    says: ICAL,
  },
  'scheduling → npm zod': {
    file: 'scheduling/probe.ts',
    source: "import { z } from 'zod';\nexport const probe = z;\n",
    verdict: 'rejected',
    says: SCHEDULING,
  },
  'providers (nested) → db': {
    file: 'providers/caldav/probe.ts',
    source: "import { createOrm } from '../../db/orm.ts';\nexport const probe = createOrm;\n",
    verdict: 'rejected',
    says: PROVIDERS,
  },
  'providers → connections': {
    file: 'providers/probe.ts',
    source:
      "import { linkConnection } from '../connections/commands.ts';\nexport const probe = linkConnection;\n",
    verdict: 'rejected',
    says: PROVIDERS,
  },
  'db → connections': {
    file: 'db/probe.ts',
    source:
      "import { linkConnection } from '../connections/commands.ts';\nexport const probe = linkConnection;\n",
    verdict: 'rejected',
    says: DB,
  },
  'platform → db': {
    file: 'platform/probe.ts',
    source: "import { createOrm } from '../db/orm.ts';\nexport const probe = createOrm;\n",
    verdict: 'rejected',
    says: PLATFORM,
  },
  'workflows → @mikro-orm/core': {
    file: 'workflows/probe.ts',
    source: "import { MikroORM } from '@mikro-orm/core';\nexport const probe = MikroORM;\n",
    verdict: 'rejected',
    says: WORKFLOWS_IO,
  },
  'workflows → node:fs/promises': {
    file: 'workflows/probe.ts',
    source: "import { readFile } from 'node:fs/promises';\nexport const probe = readFile;\n",
    verdict: 'rejected',
    says: WORKFLOWS_NODE,
  },
  // Workflow-safe: Temporal's own workflow code takes search-attribute keys and failures from it.
  'workflows → @temporalio/common': {
    file: 'workflows/probe.ts',
    source:
      "import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';\nexport const probe = WorkflowExecutionAlreadyStartedError;\n",
    verdict: 'accepted',
  },
  'workflows → npm zod': {
    file: 'workflows/probe.ts',
    source: "import { z } from 'zod';\nexport const probe = z;\n",
    verdict: 'rejected',
    says: WORKFLOWS_ONLY,
  },
  'workflows → providers': {
    file: 'workflows/probe.ts',
    source:
      "import { providerModule } from '../providers/registry.ts';\nexport const probe = providerModule;\n",
    verdict: 'rejected',
    says: WORKFLOWS_ONLY,
  },
  'workflows → value import from activities': {
    file: 'workflows/probe.ts',
    source:
      "import { createActivities } from '../activities/index.ts';\nexport const probe = createActivities;\n",
    verdict: 'rejected',
    says: WORKFLOWS_ACTIVITIES,
  },
  'workflows → namespace import from activities': {
    file: 'workflows/probe.ts',
    source: "import * as activities from '../activities/index.ts';\nexport const probe = activities;\n",
    verdict: 'rejected',
    says: WORKFLOWS_ACTIVITIES,
  },
  'workflows → side-effect import of activities': {
    file: 'workflows/probe.ts',
    source: "import '../activities/index.ts';\n",
    verdict: 'rejected',
    says: WORKFLOWS_ACTIVITIES,
  },
  // A type imported without `type` would load activities/ at runtime (verbatimModuleSyntax keeps the
  // import); noRestrictedImports sees only names, so useImportType (an error in workflows/) catches it.
  'workflows → type imported without `type` from activities': {
    file: 'workflows/probe.ts',
    source: "import { Activities } from '../activities/index.ts';\nexport type Probe = Activities;\n",
    verdict: 'rejected',
    rule: 'useImportType',
  },
  'connections → api': {
    file: 'connections/probe.ts',
    source: "import { createApp } from '../api/app.ts';\nexport const probe = createApp;\n",
    verdict: 'rejected',
    says: FEATURES,
  },
  'activities (nested) → worker': {
    file: 'activities/providers/probe.ts',
    source:
      "import { buildWorkflowBundle } from '../../worker/worker.ts';\nexport const probe = buildWorkflowBundle;\n",
    verdict: 'rejected',
    says: FEATURES,
  },
  'api → worker': {
    file: 'api/routes/probe.ts',
    source:
      "import { buildWorkflowBundle } from '../../worker/worker.ts';\nexport const probe = buildWorkflowBundle;\n",
    verdict: 'rejected',
    says: API,
  },
  'web → api': {
    file: 'web/probe.ts',
    source: "import { createApp } from '../api/app.ts';\nexport const probe = createApp;\n",
    verdict: 'rejected',
    says: WEB,
  },
  'users → web': {
    file: 'users/probe.ts',
    source: "import { createWebRouter } from '../web/app.ts';\nexport const probe = createWebRouter;\n",
    verdict: 'rejected',
    says: FEATURES,
  },
  'worker → api': {
    file: 'worker/probe.ts',
    source: "import { createApp } from '../api/app.ts';\nexport const probe = createApp;\n",
    verdict: 'rejected',
    says: WORKER,
  },
  'a root-level file → api': {
    file: 'probe.ts',
    source: "import { createApp } from './api/app.ts';\nexport const probe = createApp;\n",
    verdict: 'rejected',
    says: TOP,
  },
  'a file in an unfenced folder → worker': {
    file: 'deploy/probe.ts',
    source:
      "import { buildWorkflowBundle } from '../worker/worker.ts';\nexport const probe = buildWorkflowBundle;\n",
    verdict: 'rejected',
    says: TOP,
  },

  // Right-way imports: each must pass, or the fences are too strict.
  'domain → domain sibling': {
    file: 'domain/probe.ts',
    source: "import { notFound } from './errors.ts';\nexport const probe = notFound;\n",
    verdict: 'accepted',
  },
  'ical → domain': {
    file: 'ical/probe.ts',
    source: "import type { Occurrence } from '../domain/calendar.ts';\nexport type Probe = Occurrence;\n",
    verdict: 'accepted',
  },
  'ical → node-ical and luxon': {
    file: 'ical/probe.ts',
    source:
      "import { DateTime } from 'luxon';\nimport ical from 'node-ical';\nexport const probe = [DateTime, ical];\n",
    verdict: 'accepted',
  },
  'scheduling → domain and luxon': {
    file: 'scheduling/probe.ts',
    source:
      "import { DateTime } from 'luxon';\nimport { notFound } from '../domain/errors.ts';\nexport const probe = [DateTime, notFound];\n",
    verdict: 'accepted',
  },
  'providers → domain': {
    file: 'providers/probe.ts',
    source: "import { notFound } from '../domain/errors.ts';\nexport const probe = notFound;\n",
    verdict: 'accepted',
  },
  'providers (nested) → ical, platform and providers': {
    file: 'providers/ics/probe.ts',
    source: [
      "import { parseICalendarFeed } from '../../ical/normalize.ts';",
      "import { decodeKey } from '../../platform/config.ts';",
      "import { NotFoundError } from '../errors.ts';",
      'export const probe = [parseICalendarFeed, decodeKey, NotFoundError];',
      '',
    ].join('\n'),
    verdict: 'accepted',
  },
  'providers → npm zod': {
    file: 'providers/probe.ts',
    source: "import { z } from 'zod';\nexport const probe = z;\n",
    verdict: 'accepted',
  },
  'db → domain and platform': {
    file: 'db/entities/probe.ts',
    source:
      "import { notFound } from '../../domain/errors.ts';\nimport { decodeKey } from '../../platform/config.ts';\nexport const probe = [notFound, decodeKey];\n",
    verdict: 'accepted',
  },
  'connections → providers': {
    file: 'connections/probe.ts',
    source:
      "import { providerModule } from '../providers/registry.ts';\nexport const probe = providerModule;\n",
    verdict: 'accepted',
  },
  'activities → connections and db': {
    file: 'activities/probe.ts',
    source:
      "import { linkConnection } from '../connections/commands.ts';\nimport { createOrm } from '../db/orm.ts';\nexport const probe = [linkConnection, createOrm];\n",
    verdict: 'accepted',
  },
  'workflows → `import type` from activities': {
    file: 'workflows/probe.ts',
    source:
      "import type { Activities } from '../activities/index.ts';\nimport type { SyncTarget } from '../activities/connection.ts';\nexport type Probe = [Activities, SyncTarget];\n",
    verdict: 'accepted',
  },
  'workflows → @temporalio/workflow, domain and siblings': {
    file: 'workflows/probe.ts',
    source: [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import { notFound } from '../domain/errors.ts';",
      "import { emailWorkflowId } from './ids.ts';",
      'export const probe = [proxyActivities, notFound, emailWorkflowId];',
      '',
    ].join('\n'),
    verdict: 'accepted',
  },
  'api → connections and db': {
    file: 'api/routes/probe.ts',
    source:
      "import { linkConnection } from '../../connections/commands.ts';\nimport { createOrm } from '../../db/orm.ts';\nexport const probe = [linkConnection, createOrm];\n",
    verdict: 'accepted',
  },
  'web → users, connections and bookings': {
    file: 'web/pages/probe.ts',
    source:
      "import { createUser } from '../../users/accounts.ts';\nimport { linkConnection } from '../../connections/commands.ts';\nimport { requestBooking } from '../../bookings/commands.ts';\nexport const probe = [createUser, linkConnection, requestBooking];\n",
    verdict: 'accepted',
  },
  'api → web': {
    file: 'api/probe.ts',
    source: "import { createWebRouter } from '../web/app.ts';\nexport const probe = createWebRouter;\n",
    verdict: 'accepted',
  },
  'worker → activities, workflows and worker': {
    file: 'worker/local/probe.ts',
    source: [
      "import { createActivities } from '../../activities/index.ts';",
      "import { emailWorkflowId } from '../../workflows/ids.ts';",
      "import { buildWorkflowBundle } from '../worker.ts';",
      'export const probe = [createActivities, emailWorkflowId, buildWorkflowBundle];',
      '',
    ].join('\n'),
    verdict: 'accepted',
  },
  'test → api and worker': {
    file: 'test/api/probe.ts',
    source:
      "import { createApp } from '../../api/app.ts';\nimport { buildWorkflowBundle } from '../../worker/worker.ts';\nexport const probe = [createApp, buildWorkflowBundle];\n",
    verdict: 'accepted',
  },
};

interface Diagnostic {
  file: string;
  category: string;
  message: string;
}

/** Reads the default reporter's output: `path:line:col lint/group/rule ━━━`, a blank line, `× message`. */
function parseDiagnostics(output: string): Diagnostic[] {
  const headers = [...output.matchAll(/^(\S+):\d+:\d+ (lint\/\S+)/gm)];
  return headers.map((header, i) => {
    const start = (header.index ?? 0) + header[0].length;
    const end = headers[i + 1]?.index ?? output.length;
    const body = output.slice(start, end).replace(/^[^\n]*\n/, '');
    const message = (body.trim().split(/\n\s*\n/)[0] ?? '').replace(/^[×!i]\s*/, '').replace(/\s+/g, ' ');
    return { file: header[1] ?? '', category: header[2] ?? '', message };
  });
}

let scratch = '';

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'calbridge-import-fences-'));
  copyFileSync(path.join(repoRoot, 'biome.json'), path.join(scratch, 'biome.json'));
  // vcs.useIgnoreFile needs an ignore file next to the configuration.
  copyFileSync(path.join(repoRoot, '.gitignore'), path.join(scratch, '.gitignore'));
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

let probeCount = 0;

function lintProbe(file: string, source: string) {
  // A fresh name per probe, so one case can never see another's file.
  const probe = path.posix.join(path.posix.dirname(file), `__fence_probe_${++probeCount}.ts`);
  const absolute = path.join(scratch, probe);
  mkdirSync(path.dirname(absolute), { recursive: true });
  writeFileSync(absolute, source);
  try {
    const run = spawnSync(biomeBin, ['lint', '--colors=off', '--max-diagnostics=none', probe], {
      cwd: scratch,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (run.error) throw run.error;
    const output = `${run.stdout}\n${run.stderr}`;
    return { probe, status: run.status, output, diagnostics: parseDiagnostics(output) };
  } finally {
    rmSync(absolute, { force: true });
  }
}

describe('import fences (biome.json, style/noRestrictedImports)', () => {
  it.each(Object.entries(cases))('%s', (_name, fence) => {
    const { probe, status, output, diagnostics } = lintProbe(fence.file, fence.source);
    const report = `biome lint ${probe} exited ${status}:\n${output}`;

    // The probe really was linted with a valid configuration (a broken biome.json also exits 1).
    expect(output, report).not.toMatch(/configuration resulted in errors/);
    expect(output, report).toMatch(/Checked 1 file/);

    const fences = diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports');
    if (fence.verdict === 'accepted') {
      expect(fences, report).toEqual([]);
      expect(status, report).toBe(0);
      return;
    }

    const rule = fence.rule ?? 'noRestrictedImports';
    expect(status, report).toBe(1);
    expect(output, report).toContain(rule);
    const fired = diagnostics.filter((d) => d.file === probe && d.category === `lint/style/${rule}`);
    expect(fired.length, report).toBeGreaterThan(0);
    if (fence.says) {
      expect(
        fired.map((d) => d.message),
        report,
      ).toContainEqual(expect.stringContaining(fence.says));
    }
  });
});
