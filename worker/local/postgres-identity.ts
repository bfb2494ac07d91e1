/**
 * Who runs the embedded PostgreSQL. PostgreSQL refuses to run as root, so as root it needs another
 * identity that still reaches the binaries in node_modules and the data directory, both of which
 * may sit in a directory only root can enter (root's home is 0700 on Debian, and so is `mktemp -d`).
 *
 * - Not root: the user itself.
 * - Root, and the cluster already belongs to another user (an earlier version ran it as the OS user
 *   `postgres`): that user, as before.
 * - Root: a user namespace (`unshare --user --map-user`). Inside it PostgreSQL has an unprivileged
 *   uid, while the kernel still sees root's uid, so it reaches exactly what root owns: no permission
 *   change anywhere, no system user, no copy of the binaries, and the cluster stays owned by the
 *   user who ran `npm start`.
 * - Root where user namespaces are unavailable (e.g. a container whose seccomp profile forbids
 *   them): the OS user `postgres` (created if missing), which is given the data directory. When it
 *   cannot enter the directories above the binaries or the data, a StartError says what to do.
 */
import { chownSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { runToEnd, StartError } from './children.ts';

export interface PostgresIdentity {
  /** For messages: who PostgreSQL runs as. */
  description: string;
  /** How to run `file args` as this identity. */
  command(file: string, args: string[]): { file: string; args: string[]; uid?: number; gid?: number };
  /** Hands a file or directory that we created over to this identity. */
  own(target: string): void;
}

interface UnixUser {
  name: string;
  uid: number;
  gid: number;
}

const self: PostgresIdentity = {
  description: 'the current user',
  command: (file, args) => ({ file, args }),
  own: () => {},
};

function lookupUser(match: (user: UnixUser) => boolean): UnixUser | null {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  for (const line of passwd.split('\n')) {
    const [name = '', , uid, gid] = line.split(':');
    const user = { name, uid: Number(uid), gid: Number(gid) };
    if (name && Number.isInteger(user.uid) && Number.isInteger(user.gid) && match(user)) return user;
  }
  return null;
}

function osUser(user: UnixUser): PostgresIdentity {
  return {
    description: `the OS user '${user.name}'`,
    command: (file, args) => ({ file, args, uid: user.uid, gid: user.gid }),
    own: (target) => chownSync(target, user.uid, user.gid),
  };
}

function userNamespace(inside: UnixUser): PostgresIdentity {
  const wrap = ['--user', `--map-user=${inside.uid}`, `--map-group=${inside.gid}`, '--'];
  return {
    description: 'an unprivileged user in a user namespace',
    command: (file, args) => ({ file: 'unshare', args: [...wrap, file, ...args] }),
    own: () => {},
  };
}

/** True when `initdb --version` runs in a user namespace: the kernel allows them and `unshare` can map ids. */
async function userNamespaceWorks(identity: PostgresIdentity, initdb: string): Promise<boolean> {
  const { file, args } = identity.command(initdb, ['--version']);
  try {
    return (await runToEnd(file, args)).code === 0;
  } catch {
    return false;
  }
}

async function ensurePostgresUser(): Promise<UnixUser> {
  const existing = lookupUser((u) => u.name === 'postgres');
  if (existing) return existing;
  for (const [command, args] of [
    ['groupadd', ['--system', 'postgres']],
    [
      'useradd',
      ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
    ],
  ] as const) {
    const result = await runToEnd(command, [...args]).catch((error: Error) => ({
      code: 1,
      stderr: error.message,
    }));
    if (result.code !== 0)
      throw new StartError(
        `the embedded PostgreSQL cannot run as root and no OS user 'postgres' exists (${command} failed: ${result.stderr.trim()}): run npm start as a non-root user, or set DATABASE_URL to an existing PostgreSQL`,
      );
  }
  return lookupUser((u) => u.name === 'postgres')!;
}

/** The first of `directories` the user cannot enter, or null. Asked of the kernel, so ACLs count. */
async function firstUnreachable(user: UnixUser, directories: string[]): Promise<string | null> {
  const script = 'for d in "$@"; do [ -x "$d" ] || { printf %s "$d"; exit 1; }; done';
  const result = await runToEnd('sh', ['-c', script, 'sh', ...directories], { uid: user.uid, gid: user.gid });
  return result.code === 0 ? null : result.stdout || directories[0]!;
}

const withParents = (dir: string): string[] => {
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === path.dirname(d)) return chain;
  }
};

export async function choosePostgresIdentity(options: {
  binDir: string;
  databaseDir: string;
  /** Skip the user namespace (tests of the fallback). */
  withoutUserNamespace?: boolean;
}): Promise<PostgresIdentity> {
  if (process.getuid?.() !== 0) return self;

  let existingOwner: number | null = null;
  try {
    existingOwner = statSync(path.join(options.databaseDir, 'PG_VERSION')).uid;
  } catch {}
  let user: UnixUser;
  let why: string;
  if (existingOwner !== null && existingOwner !== 0) {
    why = `the cluster in ${options.databaseDir} belongs to it`;
    user = lookupUser((u) => u.uid === existingOwner) ?? {
      name: String(existingOwner),
      uid: existingOwner,
      gid: statSync(options.databaseDir).gid,
    };
  } else {
    if (!options.withoutUserNamespace) {
      // Inside the namespace PostgreSQL needs a uid that has a name (initdb looks it up).
      const inside = lookupUser((u) => u.name === 'nobody') ?? { name: 'nobody', uid: 65534, gid: 65534 };
      const namespaced = userNamespace(inside);
      if (await userNamespaceWorks(namespaced, path.join(options.binDir, 'initdb'))) return namespaced;
    }
    user = await ensurePostgresUser();
    why = 'PostgreSQL refuses root, and user namespaces are not available';
  }

  const blocked = await firstUnreachable(user, [
    ...withParents(options.binDir),
    ...withParents(path.dirname(options.databaseDir)),
  ]);
  if (blocked)
    throw new StartError(
      `the embedded PostgreSQL runs as the OS user '${user.name}' here (${why}), and that user cannot enter ${blocked}: run npm start as a non-root user, move the project and DATA_DIR below a directory '${user.name}' can enter, or set DATABASE_URL to an existing PostgreSQL`,
    );
  return osUser(user);
}
