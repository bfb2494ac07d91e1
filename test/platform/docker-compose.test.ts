/**
 * The scale-out stack cannot be started here (no Docker engine), so this reads docker-compose.yml
 * and the Dockerfile the way Compose and Docker would and checks the wiring between them and the
 * code: service names, commands, dependencies, and that the environment is a valid production config.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../platform/config.ts';
import { searchAttributeDefinitions } from '../../workflows/search-attributes.ts';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

type Scalar = string | number | boolean | null;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | { target?: number; published?: string | number; host_ip?: string })[];
  volumes?: string[];
  container_name?: string;
  healthcheck?: { test?: string | string[] };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
};

/** The environment as written (before interpolation), in either of Compose's two forms. */
function rawEnv(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(
      s.environment.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, v == null ? '' : String(v)]),
  );
}

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, hostEnv: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (match, name: string | undefined, colon: string, op: string | undefined, arg: string) => {
      if (match === '$$') return '$';
      const set = hostEnv[name!];
      const missing = colon ? !set : set === undefined;
      if (!op || !missing) return set ?? '';
      if (op === '-') return arg;
      throw new Error(`required variable ${name} is missing: ${arg}`);
    },
  );
}

/** The host address a published port binds: Compose's short syntax `[IP:]HOST:CONTAINER`, or long syntax. */
function hostAddress(port: NonNullable<Service['ports']>[number]): string {
  if (typeof port === 'object') return port.host_ip ?? '0.0.0.0';
  const parts = String(port).split(':');
  return parts.length === 3 ? parts[0]! : '0.0.0.0';
}

const env = (s: Service, hostEnv: Record<string, string | undefined> = {}) =>
  Object.fromEntries(Object.entries(rawEnv(s)).map(([k, v]) => [k, interpolate(v, hostEnv)]));

const commandLine = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');

function dependsOn(s: Service): Record<string, string> {
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(s.depends_on ?? {}).map(([d, spec]) => [d, spec.condition ?? 'service_started']),
  );
}

const build = (s: Service) =>
  typeof s.build === 'string' ? { context: s.build, dockerfile: 'Dockerfile' } : s.build;

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile as stages of instructions, continuation lines joined and comments dropped. */
function dockerfileStages(text: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = args.split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs[arg] ?? '');
      stages.push({ from, name, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [argName = '', argDefault = ''] = args.split('=');
      globalArgs[argName] = argDefault;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

const dockerfile = dockerfileStages(read('Dockerfile'));
const finalStage = dockerfile.at(-1)!;
const finalOf = (keyword: string) => finalStage.instructions.filter((i) => i.keyword === keyword);
const execForm = (args: string): string =>
  args.startsWith('[') ? (JSON.parse(args) as string[]).join(' ') : args;
const imageCmd = execForm(finalOf('CMD').at(-1)?.args ?? '');

const secrets = {
  ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};
const appServices = ['api', 'worker', 'migrate'] as const;

describe('docker-compose.yml', () => {
  it('defines the whole scale-out stack', () => {
    for (const name of [
      'postgres',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'migrate',
      'api',
      'worker',
    ]) {
      expect(services, name).toHaveProperty([name]);
    }
  });

  it('builds api, worker and migrate from the Dockerfile at the repository root', () => {
    for (const name of appServices) {
      const b = build(service(name));
      expect(path.resolve(root, b?.context ?? '/nowhere'), name).toBe(root);
      expect(b?.dockerfile, name).toBe('Dockerfile');
    }
    expect(existsSync(path.join(root, 'Dockerfile'))).toBe(true);
  });

  it('runs the API by default, the worker and the migrations by command, all files that exist', () => {
    const apiCommand = commandLine(service('api').command) || imageCmd;
    expect(apiCommand).toBe('node api/main.ts');
    expect(commandLine(service('worker').command)).toBe('node worker/main.ts');
    expect(commandLine(service('migrate').command)).toBe('node db/migrate.ts');
    for (const file of ['api/main.ts', 'worker/main.ts', 'db/migrate.ts']) {
      expect(existsSync(path.join(root, file)), file).toBe(true);
    }
  });

  it('points the app at the postgres and temporal services, with one password everywhere', () => {
    const postgresEnv = env(service('postgres'));
    const temporalEnv = env(service('temporal'));
    for (const name of appServices) {
      const e = env(service(name), secrets);
      const url = new URL(e.DATABASE_URL ?? '');
      expect(url.protocol, name).toBe('postgres:');
      expect(url.hostname, name).toBe('postgres');
      expect(url.port || '5432', name).toBe('5432');
      expect(url.pathname, name).toBe('/calbridge');
      expect(decodeURIComponent(url.username), name).toBe(postgresEnv.POSTGRES_USER);
      expect(decodeURIComponent(url.password), name).toBe(postgresEnv.POSTGRES_PASSWORD);
      expect(e.TEMPORAL_ADDRESS, name).toBe('temporal:7233');
      expect(e.TEMPORAL_NAMESPACE, name).toBe('default');
      expect(e.NODE_ENV, name).toBe('production');
    }
    expect(temporalEnv.POSTGRES_USER).toBe(postgresEnv.POSTGRES_USER);
    expect(temporalEnv.POSTGRES_PWD).toBe(postgresEnv.POSTGRES_PASSWORD);
  });

  it('refuses to start without ADMIN_TOKEN and ENCRYPTION_KEY from the host environment', () => {
    for (const name of appServices) {
      const raw = rawEnv(service(name));
      for (const key of ['ADMIN_TOKEN', 'ENCRYPTION_KEY'] as const) {
        expect(raw[key], `${name} ${key}`).toMatch(new RegExp(`^\\$\\{${key}:\\?[^}]+\\}$`));
        expect(() => env(service(name), { ...secrets, [key]: undefined }), `${name} ${key}`).toThrow(key);
        expect(() => env(service(name), { ...secrets, [key]: '' }), `${name} ${key}`).toThrow(key);
      }
    }
  });

  it('gives api and worker only variables the config schema knows, forming a valid production config', () => {
    const known = Object.keys(configSchema.shape);
    for (const name of appServices) {
      expect(known, name).toEqual(expect.arrayContaining(Object.keys(rawEnv(service(name)))));
      const config = loadConfig(env(service(name), secrets), { generateSecrets: false });
      expect(config.NODE_ENV, name).toBe('production');
      expect(config.ADMIN_TOKEN, name).toBe(secrets.ADMIN_TOKEN);
      expect(config.SMTP_URL, name).toBeUndefined();
    }
  });

  it('persists Temporal in the postgres service, into databases the init script creates', () => {
    const temporal = service('temporal');
    const e = env(temporal);
    expect(temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(e.DB).toBe('postgres12');
    expect(e.POSTGRES_SEEDS).toBe('postgres');
    expect(String(temporal.ports)).toContain('7233:7233');

    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:16/);
    expect(commandLine(postgres.healthcheck?.test)).toContain('pg_isready');
    expect(postgres.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    const init = postgres.volumes?.find((v) => v.includes(':/docker-entrypoint-initdb.d/'));
    const initFile = path.join(root, init?.split(':')[0] ?? '/nowhere');
    expect(existsSync(initFile)).toBe(true);
    const created = [...readFileSync(initFile, 'utf8').matchAll(/create\s+database\s+"?(\w+)"?/gi)].map(
      (m) => m[1],
    );
    // auto-setup only creates databases itself when SKIP_DB_CREATE is off.
    const temporalDatabases = [e.DBNAME ?? 'temporal', e.VISIBILITY_DBNAME ?? 'temporal_visibility'];
    expect(created).toEqual(
      expect.arrayContaining(['calbridge', ...(e.SKIP_DB_CREATE === 'true' ? temporalDatabases : [])]),
    );
  });

  it('loads the dynamic configuration the dev server gets too: eager activities on', () => {
    const temporal = service('temporal');
    const file = env(temporal).DYNAMIC_CONFIG_FILE_PATH ?? '';
    // auto-setup resolves the path against its working directory, /etc/temporal.
    const mount = temporal.volumes?.find((v) => v.split(':')[1] === path.posix.join('/etc/temporal', file));
    expect(mount, `a volume mounted at /etc/temporal/${file}`).toBeDefined();
    const config = parse(read(mount!.split(':')[0]!)) as Record<string, { value: unknown }[]>;
    expect(config['system.enableActivityEagerExecution']).toEqual([{ value: true }]);
  });

  it('points the Temporal UI at temporal:7233 on host port 8233', () => {
    const ui = service('temporal-ui');
    expect(ui.image).toMatch(/^temporalio\/ui:/);
    expect(env(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(String(ui.ports)).toContain('8233:8080');
  });

  it('registers exactly the search attributes the workflows use, against temporal:7233', () => {
    const setup = service('temporal-setup');
    expect(setup.image).toMatch(/^temporalio\/admin-tools:/);
    const script = `${commandLine(setup.entrypoint)} ${commandLine(setup.command)}`.replace(/\\\n/g, ' ');
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toMatch(/--address[= ]temporal:7233/);
    expect(script).toMatch(/--namespace[= ]default/);
    const registered = Object.fromEntries(
      [...script.matchAll(/--name[= ](\w+)\s+--type[= ](\w+)/g)].map((m) => [m[1], m[2]]),
    );
    expect(registered).toEqual(searchAttributeDefinitions);
  });

  it('starts each service only once what it needs is ready', () => {
    expect(dependsOn(service('temporal'))).toMatchObject({ postgres: 'service_healthy' });
    expect(dependsOn(service('migrate'))).toMatchObject({ postgres: 'service_healthy' });
    expect(dependsOn(service('temporal-setup'))).toHaveProperty('temporal');
    expect(dependsOn(service('temporal-ui'))).toHaveProperty('temporal');
    for (const name of ['api', 'worker']) {
      expect(dependsOn(service(name)), name).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-setup': 'service_completed_successfully',
      });
    }
    expect(service('postgres').healthcheck?.test).toBeDefined();
  });

  it('only depends on services that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dependency of Object.keys(dependsOn(s))) {
        expect(Object.keys(services), `${name} -> ${dependency}`).toContain(dependency);
      }
    }
  });

  it('publishes Temporal gRPC and its UI, which have no authentication, on loopback only', () => {
    for (const name of ['temporal', 'temporal-ui']) {
      const published = (service(name).ports ?? []).map(hostAddress);
      for (const address of published) expect(address, name).toBe('127.0.0.1');
    }
    // Still reachable from the host itself, as the comments and README say.
    expect(service('temporal').ports?.map(String)).toContain('127.0.0.1:7233:7233');
    expect(service('temporal-ui').ports?.map(String)).toContain('127.0.0.1:8233:8080');
  });

  it('makes the API listen on every interface inside its container, and publishes it', () => {
    for (const name of appServices) expect(env(service(name), secrets).HOST, name).toBe('0.0.0.0');
    expect(loadConfig(env(service('api'), secrets), { generateSecrets: false }).HOST).toBe('0.0.0.0');
    expect(service('api').ports?.map(hostAddress)).toEqual(['0.0.0.0']);
  });

  it('lets the worker scale: no fixed container name, no host ports', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(String(service('api').ports)).toContain('3000:3000');
  });

  it('declares every named volume it mounts', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes ?? {}), `${name}: ${volume}`).toContain(source);
        }
      }
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage on node:24-bookworm-slim', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile) expect(stage.from).toBe('node:24-bookworm-slim');
  });

  it('installs production dependencies only, with npm install (npm ci rejects this lock file)', () => {
    const runs = dockerfile.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
    const install = dockerfile.find((s) =>
      s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm install\b.*--omit=dev/.test(i.args)),
    );
    expect(install).toBeDefined();
    expect(runs.some((r) => /\bnpm ci\b/.test(r.args))).toBe(false);
    // The final stage must take its node_modules from that install, not from the build context.
    expect(
      finalOf('COPY').some(
        (c) => c.args.includes(`--from=${install?.name}`) && c.args.includes('node_modules'),
      ),
    ).toBe(true);
  });

  it('runs the API as a non-root user in production mode', () => {
    const envs = finalOf('ENV').map((i) => i.args);
    expect(envs.some((args) => /(^|\s)NODE_ENV[= ]"?production"?(\s|$)/.test(args))).toBe(true);
    const user = finalOf('USER').at(-1)?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(imageCmd).toBe('node api/main.ts');
    expect(finalOf('EXPOSE').map((i) => i.args)).toContain('3000');
  });

  it('keeps local state and installed modules out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim().replace(/^\/|\/$/g, ''));
    expect(ignored).toEqual(
      expect.arrayContaining(['node_modules', '.tools', '.data', '.test-data', '.git']),
    );
  });
});
