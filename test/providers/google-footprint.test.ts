/**
 * googleapis' package root loads every Google API (about 100 MB of RSS in each API and worker
 * process); the Google adapter loads the Calendar API's own entry point only.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

describe('Google provider footprint', () => {
  it('loads the Calendar API of googleapis, and no other Google API', async () => {
    await import('../../providers/registry.ts');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const apis = new Set(
      loaded.flatMap((file) => /googleapis\/build\/src\/apis\/([^/]+)\//.exec(file)?.[1] ?? []),
    );
    expect([...apis]).toEqual(['calendar']);
  });
});
