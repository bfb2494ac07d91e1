/**
 * Configuration: one zod schema over the environment, parsed once at start-up. Everything else
 * receives the typed `Config`. In development missing secrets are generated once into DATA_DIR and
 * reused; in production (NODE_ENV=production) they are required.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const seconds = z.coerce.number().int().min(1);
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    PORT: port.default(3000),
    PUBLIC_URL: optional(url),
    DATA_DIR: z.string().min(1).default('.data'),
    DATABASE_URL: optional(
      z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
    ),
    TEMPORAL_ADDRESS: optional(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_UI_PORT: port.default(8233),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('calbridge'),
    WORKFLOW_BUNDLE_PATH: optional(z.string().min(1)),
    ADMIN_TOKEN: optional(z.string().min(24, 'must be at least 24 characters')),
    ENCRYPTION_KEY: optional(
      z
        .string()
        .refine(
          (v) => decodeKey(v) !== null,
          'must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32)',
        ),
    ),
    SMTP_URL: optional(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')),
    EMAIL_FROM: z.string().min(3).default('Calbridge <no-reply@calbridge.localhost>'),
    GOOGLE_API_URL: url.default('https://www.googleapis.com'),
    GOOGLE_OAUTH_URL: optional(url),
    MICROSOFT_GRAPH_URL: url.default('https://graph.microsoft.com'),
    MICROSOFT_AUTHORITY: url.default('https://login.microsoftonline.com/common'),
    ICLOUD_CALDAV_URL: url.default('https://caldav.icloud.com'),
    SYNC_WINDOW_PAST_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
    SYNC_WINDOW_FUTURE_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
    CALDAV_POLL_SECONDS: seconds.default(300),
    ICS_POLL_SECONDS: seconds.default(900),
    PROVIDER_TIMEOUT_SECONDS: seconds.max(120).default(15),
    SYNC_HEARTBEAT_SECONDS: seconds.max(600).default(30),
    WORKFLOW_HISTORY_LIMIT: z.coerce.number().int().min(20).max(50_000).default(5000),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    for (const key of [
      'ADMIN_TOKEN',
      'ENCRYPTION_KEY',
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'PUBLIC_URL',
    ] as const) {
      if (!env[key])
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required when NODE_ENV=production' });
    }
  });

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends Omit<RawConfig, 'ADMIN_TOKEN' | 'ENCRYPTION_KEY' | 'PUBLIC_URL'> {
  PUBLIC_URL: string;
  ADMIN_TOKEN: string;
  /** The 32-byte AES-256-GCM key. */
  encryptionKey: Buffer;
  /** DATA_DIR resolved to an absolute path. */
  dataDir: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function decodeKey(value: string): Buffer | null {
  const hex = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : null;
  if (hex) return hex;
  const b64 = Buffer.from(value, 'base64');
  return b64.length === 32 ? b64 : null;
}

interface LoadOptions {
  /** Base directory for a relative DATA_DIR (defaults to the process's cwd). */
  cwd?: string;
  /** Generate missing secrets into DATA_DIR/secrets.json (development and test only). */
  generateSecrets?: boolean;
}

/** Parses the environment; throws ConfigError listing every bad or missing value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const got =
          typeof env[key] === 'string' && !/TOKEN|KEY|SECRET|PASSWORD/.test(key)
            ? ` (got '${env[key]}')`
            : '';
        return `${key}: ${issue.message}${got}`;
      }),
    );
  }
  const raw = parsed.data;
  const dataDir = path.resolve(options.cwd ?? process.cwd(), raw.DATA_DIR);
  let adminToken = raw.ADMIN_TOKEN;
  let encryptionKey = raw.ENCRYPTION_KEY;
  if ((!adminToken || !encryptionKey) && options.generateSecrets !== false) {
    const generated = localSecrets(dataDir);
    adminToken ??= generated.ADMIN_TOKEN;
    encryptionKey ??= generated.ENCRYPTION_KEY;
  }
  if (!adminToken || !encryptionKey) {
    throw new ConfigError([
      ...(adminToken ? [] : ['ADMIN_TOKEN: is required']),
      ...(encryptionKey ? [] : ['ENCRYPTION_KEY: is required']),
    ]);
  }
  return {
    ...raw,
    PUBLIC_URL: (raw.PUBLIC_URL ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, ''),
    ADMIN_TOKEN: adminToken,
    encryptionKey: decodeKey(encryptionKey)!,
    dataDir,
  };
}

/** Secrets generated once per DATA_DIR for local development, so data encrypted yesterday still decrypts. */
function localSecrets(dataDir: string): { ADMIN_TOKEN: string; ENCRYPTION_KEY: string } {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    const secrets = {
      ADMIN_TOKEN: `cbadm_${randomBytes(24).toString('base64url')}`,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
      return secrets;
    } catch {
      // Another process created it first: use theirs.
      return JSON.parse(readFileSync(file, 'utf8'));
    }
  }
}
