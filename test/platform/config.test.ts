import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';

const dataDir = () => mkdtempSync(path.join(tmpdir(), 'calbridge-config-'));

describe('configuration', () => {
  it('applies defaults and generates local secrets once per DATA_DIR, then reuses them', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.PORT).toBe(3000);
    expect(first.PUBLIC_URL).toBe('http://localhost:3000');
    expect(first.TEMPORAL_NAMESPACE).toBe('default');
    expect(first.TEMPORAL_UI_PORT).toBe(8233);
    expect(first.ICLOUD_CALDAV_URL).toBe('https://caldav.icloud.com');
    expect(first.encryptionKey).toHaveLength(32);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.ADMIN_TOKEN).toBe(first.ADMIN_TOKEN);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    const stored = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'));
    expect(stored.ADMIN_TOKEN).toBe(first.ADMIN_TOKEN);
  });

  it('lists every bad value with a clear message, and never echoes secrets', () => {
    let error: unknown;
    try {
      loadConfig({
        DATA_DIR: dataDir(),
        PORT: 'abc',
        DATABASE_URL: 'mysql://x',
        ENCRYPTION_KEY: 'short-secret',
        TEMPORAL_ADDRESS: 'nohost',
        PUBLIC_URL: 'ftp://x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/got 'abc'/);
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\//);
    expect(problems.find((p) => p.startsWith('ENCRYPTION_KEY:'))).toMatch(/32 bytes/);
    expect(problems.find((p) => p.startsWith('TEMPORAL_ADDRESS:'))).toMatch(/host:port/);
    expect(problems.find((p) => p.startsWith('PUBLIC_URL:'))).toBeDefined();
    expect((error as Error).message).not.toContain('short-secret');
  });

  it('requires secrets and external services in production instead of generating them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(
      /ADMIN_TOKEN: is required when NODE_ENV=production[\s\S]*ENCRYPTION_KEY: is required/,
    );
  });
});
