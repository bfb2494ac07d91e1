/**
 * Configuration: one zod schema over the environment, parsed once at start-up. Everything else
 * receives the typed `Config`. In development missing secrets are generated once into DATA_DIR and
 * reused; in production (NODE_ENV=production) they are required.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
    // Unset: 127.0.0.1 outside production, so a development API is not reachable from the network.
    HOST: optional(z.string().regex(/^[\w.:-]+$/, 'must be an IP address or host name to listen on')),
    TRUST_PROXY: z
      .string()
      .regex(
        /^[\w.:/, -]+$/,
        'must be Express "trust proxy" values: loopback, a hop count, or addresses/CIDRs',
      )
      .default('loopback'),
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
    // OAuth clients; a provider without both answers 422 "not configured on this server".
    GOOGLE_CLIENT_ID: optional(z.string().min(1).max(512)),
    GOOGLE_CLIENT_SECRET: optional(z.string().min(1).max(512)),
    MICROSOFT_CLIENT_ID: optional(z.string().min(1).max(512)),
    MICROSOFT_CLIENT_SECRET: optional(z.string().min(1).max(512)),
    // auto: push notifications (Google watch channels, Graph subscriptions) only when PUBLIC_URL is https.
    PUSH_NOTIFICATIONS: z.enum(['auto', 'on', 'off']).default('auto'),
    // Full re-listing of every calendar of a connection, repairing what an incremental cursor missed.
    RECONCILE_HOURS: z.coerce
      .number()
      .min(0.001)
      .max(24 * 30)
      .default(24),
    ICLOUD_CALDAV_URL: url.default('https://caldav.icloud.com'),
    SYNC_WINDOW_PAST_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
    SYNC_WINDOW_FUTURE_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
    CALDAV_POLL_SECONDS: seconds.default(300),
    ICS_POLL_SECONDS: seconds.default(900),
    // Feeds the worker's poll loop asks at once (connections/watched-polls.ts).
    POLL_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
    PROVIDER_TIMEOUT_SECONDS: seconds.max(120).default(15),
    SYNC_HEARTBEAT_SECONDS: seconds.max(600).default(30),
    WORKFLOW_HISTORY_LIMIT: z.coerce.number().int().min(20).max(50_000).default(5000),
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(100),
    // Unset: deny in production, allow otherwise (providers/outbound/context.ts).
    OUTBOUND_PRIVATE_NETWORKS: optional(
      z
        .string()
        .refine(
          isPrivateNetworksSetting,
          "must be 'allow', 'deny' or a comma-separated list of CIDRs and host names",
        ),
    ),
    MAX_FEED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(10 * 1024 * 1024),
    MAX_MULTISTATUS_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(20 * 1024 * 1024),
    CONNECT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
    PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    BOOKING_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  })
  .superRefine((env, ctx) => {
    for (const [id, secret] of [
      ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
      ['MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET'],
    ] as const) {
      const missing = !env[id] ? id : !env[secret] ? secret : null;
      if (missing && (env[id] || env[secret]))
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: `is required with ${missing === id ? secret : id} (an OAuth client is an id and a secret)`,
        });
    }
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

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i;

/** The syntax of OUTBOUND_PRIVATE_NETWORKS; providers/outbound/policy.ts gives it its meaning. */
function isPrivateNetworksSetting(value: string): boolean {
  if (/^\s*(allow|deny)\s*$/i.test(value)) return true;
  return value.split(',').every((entry) => {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0) return prefix === undefined && HOST_NAME.test(address.replace(/\.$/, ''));
    const bits = family === 4 ? 32 : 128;
    return (
      extra === undefined && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))
    );
  });
}

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends Omit<RawConfig, 'ADMIN_TOKEN' | 'ENCRYPTION_KEY' | 'PUBLIC_URL' | 'HOST'> {
  PUBLIC_URL: string;
  /** The address the API listens on. */
  HOST: string;
  ADMIN_TOKEN: string;
  /** Secrets that came from DATA_DIR/secrets.json (generated there once), not from the environment. */
  generatedSecrets: ('ADMIN_TOKEN' | 'ENCRYPTION_KEY')[];
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
            ? ` (got '${redactUrlPassword(env[key])}')`
            : '';
        return `${key}: ${issue.message}${got}`;
      }),
    );
  }
  const raw = parsed.data;
  const dataDir = path.resolve(options.cwd ?? process.cwd(), raw.DATA_DIR);
  let adminToken = raw.ADMIN_TOKEN;
  let encryptionKey = raw.ENCRYPTION_KEY;
  const generatedSecrets: Config['generatedSecrets'] = [];
  if (!adminToken && options.generateSecrets !== false) generatedSecrets.push('ADMIN_TOKEN');
  if (!encryptionKey && options.generateSecrets !== false) generatedSecrets.push('ENCRYPTION_KEY');
  if (generatedSecrets.length) {
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
    HOST: raw.HOST ?? (raw.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    ADMIN_TOKEN: adminToken,
    generatedSecrets,
    encryptionKey: decodeKey(encryptionKey)!,
    dataDir,
  };
}

/**
 * `scheme://user:password@host` → `scheme://user:***@host`, also when the value is no valid URL
 * (a missing colon after the scheme, an unescaped @ or / in the password): everything from the
 * first colon after the user up to the last @ goes, even if that hides more than the password.
 */
export function redactUrlPassword(value: string): string {
  return value.replace(
    /^((?:[a-z][\w+.-]*:)?\/\/|[a-z][\w+.-]*\/\/)?([^:/@]*):.*@/i,
    (_, scheme = '', user) => `${scheme}${user}:***@`,
  );
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
