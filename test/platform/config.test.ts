import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';

const made: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'calbridge-config-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

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

  it('wants an OAuth client id and secret together, and the push and reconcile settings in range', () => {
    const problems = problemsOf({
      DATA_DIR: dataDir(),
      GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
      MICROSOFT_CLIENT_SECRET: 'a-secret-value',
    });
    expect(problems.find((p) => p.startsWith('GOOGLE_CLIENT_SECRET:'))).toMatch(/GOOGLE_CLIENT_ID/);
    expect(problems.find((p) => p.startsWith('MICROSOFT_CLIENT_ID:'))).toMatch(/MICROSOFT_CLIENT_SECRET/);
    expect(problems.join('\n')).not.toContain('a-secret-value');
    const ranges = problemsOf({ DATA_DIR: dataDir(), PUSH_NOTIFICATIONS: 'sometimes', RECONCILE_HOURS: '0' });
    expect(ranges.some((p) => p.startsWith('PUSH_NOTIFICATIONS:'))).toBe(true);
    expect(ranges.some((p) => p.startsWith('RECONCILE_HOURS:'))).toBe(true);
    const configured = loadConfig({
      DATA_DIR: dataDir(),
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
    });
    expect(configured.PUSH_NOTIFICATIONS).toBe('auto');
    expect(configured.RECONCILE_HOURS).toBe(24);
  });

  it('requires secrets and external services in production instead of generating them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(
      /ADMIN_TOKEN: is required when NODE_ENV=production[\s\S]*ENCRYPTION_KEY: is required/,
    );
  });

  it('redacts the password inside a URL it echoes, and keeps the rest readable', () => {
    const problems = problemsOf({
      DATA_DIR: dataDir(),
      DATABASE_URL: 'mysql://calbridge:hunter2-db@db.internal:3306/calbridge',
      SMTP_URL: 'http://mailer:s3cr%40t-mail@smtp.example.com:587',
      // A typo in the scheme, and an unescaped @ in the password, must not leak either.
      PUBLIC_URL: 'ftp//ada:pa@ss/public@example.com',
    });
    const text = problems.join('\n');
    for (const secret of ['hunter2-db', 's3cr%40t-mail', 'pa@ss', 'ss/public'])
      expect(text).not.toContain(secret);
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toContain(
      "got 'mysql://calbridge:***@db.internal:3306/calbridge'",
    );
    expect(problems.find((p) => p.startsWith('SMTP_URL:'))).toContain(
      "got 'http://mailer:***@smtp.example.com:587'",
    );
    expect(problems.find((p) => p.startsWith('PUBLIC_URL:'))).toContain("got 'ftp//ada:***@example.com'");
  });

  it('listens on loopback in development and on every interface in production, unless HOST says', () => {
    const production = {
      NODE_ENV: 'production',
      DATA_DIR: dataDir(),
      ADMIN_TOKEN: 'a'.repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      DATABASE_URL: 'postgres://db/calbridge',
      TEMPORAL_ADDRESS: 'temporal:7233',
      PUBLIC_URL: 'https://calbridge.example.com',
    };
    expect(loadConfig({ DATA_DIR: dataDir() }).HOST).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir() }).HOST).toBe('127.0.0.1');
    expect(loadConfig(production).HOST).toBe('0.0.0.0');
    expect(loadConfig({ ...production, HOST: '10.1.2.3' }).HOST).toBe('10.1.2.3');
    expect(loadConfig({ DATA_DIR: dataDir(), HOST: '::' }).HOST).toBe('::');
    expect(problemsOf({ DATA_DIR: dataDir(), HOST: 'two words' })).toEqual([
      expect.stringMatching(/^HOST: .*address/),
    ]);
  });

  it('tells which secrets it generated, so the launcher shows only those', () => {
    const dir = dataDir();
    expect(loadConfig({ DATA_DIR: dir }).generatedSecrets).toEqual(['ADMIN_TOKEN', 'ENCRYPTION_KEY']);
    const given = loadConfig({ DATA_DIR: dir, ADMIN_TOKEN: 'b'.repeat(30) });
    expect(given.ADMIN_TOKEN).toBe('b'.repeat(30));
    expect(given.generatedSecrets).toEqual(['ENCRYPTION_KEY']);
  });
});
