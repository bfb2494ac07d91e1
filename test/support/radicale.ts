/**
 * A real Radicale CalDAV server for tests, on 127.0.0.1 and a free port, with its own htpasswd file
 * and storage in a temporary folder.
 *
 * Radicale comes from PATH (`radicale`), else from the Python path (`import radicale`), else it is
 * installed once from PyPI into .tools/radicale (staging folder + rename, so parallel test workers
 * never see a half-installed tree).
 *
 * The htpasswd file is read on every request (Radicale's default `htpasswd_cache = False`), so
 * `setPassword` takes effect without a restart; `auth.delay` is 0 so that rejected logins answer at
 * once instead of after Radicale's anti-brute-force pause. The config sticks to options Radicale
 * 3.1 (Debian's package, if that is the one on PATH) knows too: it refuses unknown ones.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../worker/local/ports.ts';
import { pipInstallOnce, toolsDir } from '../../worker/local/tools.ts';
import { killChild, waitUntilAnswering } from './child-server.ts';

const run = promisify(execFile);

export const RADICALE_REQUIREMENT = 'radicale==3.9.0';

export interface RadicaleUser {
  username: string;
  password: string;
}

export interface CalendarProps {
  displayName?: string;
  /** `#RRGGBB` or `#RRGGBBAA`, stored as the Apple `calendar-color` property. */
  color?: string;
}

export interface Radicale {
  /** Server root, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  /** Rewrites the user's htpasswd line (adds the user if new); effective from the next request. */
  setPassword(username: string, password: string): Promise<void>;
  /** MKCALENDAR `/<username>/<slug>/` (VEVENT only); returns the collection URL with a trailing slash. */
  createCalendar(username: string, password: string, slug: string, props?: CalendarProps): Promise<string>;
  /** PUT `<collectionUrl><name>` (name as given: with or without `.ics`). */
  putEvent(
    collectionUrl: string,
    username: string,
    password: string,
    name: string,
    icsText: string,
  ): Promise<void>;
  /** DELETE `<collectionUrl><name>`; a missing resource is not an error. */
  deleteEvent(collectionUrl: string, username: string, password: string, name: string): Promise<void>;
  /**
   * Bulk seeding: writes the objects straight into Radicale's storage folder, for tests that need
   * thousands of events. Radicale 3.9's PUT costs O(collection size) (2,000 sequential PUTs took
   * ~90 s), while these files cost nothing and Radicale reads them like any other item (they count
   * as changes for ctag and sync-collection). Names: letters, digits, `._@-`.
   */
  seedEvents(collectionUrl: string, items: { name: string; ics: string }[]): Promise<void>;
  /**
   * Makes Radicale forget every sync-token it issued for the collection (its token states live in
   * the collection's cache folder), as a server does when tokens expire.
   */
  forgetSyncTokens(collectionUrl: string): Promise<void>;
  /** What Radicale wrote to stderr (warnings and errors), for failing-test diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

interface Launcher {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

let launcherPromise: Promise<Launcher> | null = null;

/**
 * `python3 -m radicale`, plus a thread that exits the process when its stdin (a pipe from us)
 * closes: a test worker killed outright (SIGKILL, a vitest timeout) runs no exit hook, and Linux does
 * not take children down with their parent, so this is what keeps Radicale from outliving it.
 */
const WATCHDOG = [
  'import os, runpy, sys, threading',
  'def watch():',
  '    try:',
  '        sys.stdin.buffer.read()',
  '    finally:',
  '        os._exit(0)',
  'threading.Thread(target=watch, daemon=True).start()',
  "sys.argv = ['radicale'] + sys.argv[1:]",
  "runpy.run_module('radicale', run_name='__main__', alter_sys=True)",
].join('\n');

/** How to run Radicale here: PATH, the Python path, or a one-time install into .tools/radicale. */
export function resolveRadicale(): Promise<Launcher> {
  launcherPromise ??= (async () => {
    const onPath = await run('sh', ['-c', 'command -v radicale'])
      .then((r) => r.stdout.trim())
      .catch(() => '');
    if (onPath) return { command: onPath, args: [], env: {} };
    const importable = await run('python3', ['-c', 'import radicale'])
      .then(() => true)
      .catch(() => false);
    if (importable) return { command: 'python3', args: ['-c', WATCHDOG], env: {} };
    const dir = existsSync(path.join(toolsDir, 'radicale', 'radicale', '__init__.py'))
      ? path.join(toolsDir, 'radicale')
      : await pipInstallOnce('radicale', RADICALE_REQUIREMENT, 'radicale/__init__.py');
    const pythonPath = [dir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    return { command: 'python3', args: ['-c', WATCHDOG], env: { PYTHONPATH: pythonPath } };
  })();
  launcherPromise.catch(() => {
    launcherPromise = null;
  });
  return launcherPromise;
}

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

const escapeXml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

// Children still running when the test process exits are killed, so an aborted run leaves nothing.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

export async function startRadicale(opts: { users: RadicaleUser[] }): Promise<Radicale> {
  const launcher = await resolveRadicale();
  const dir = mkdtempSync(path.join(tmpdir(), 'calbridge-radicale-'));
  const htpasswd = path.join(dir, 'users');
  const passwords = new Map(opts.users.map((u) => [u.username, u.password]));

  const writeUsers = () => {
    // Written beside and renamed over, so Radicale never reads a half-written file.
    const staging = `${htpasswd}.tmp`;
    writeFileSync(staging, [...passwords].map(([u, p]) => `${u}:${p}\n`).join(''));
    renameSync(staging, htpasswd);
  };
  writeUsers();

  let stderr = '';
  let child: ChildProcess | null = null;
  let url = '';
  // A free port can be taken between our probe and Radicale's bind: try a few.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'config');
    writeFileSync(
      config,
      [
        '[server]',
        `hosts = 127.0.0.1:${port}`,
        '[auth]',
        'type = htpasswd',
        `htpasswd_filename = ${htpasswd}`,
        // Plain needs no extra Python package (bcrypt would need the `bcrypt` module).
        'htpasswd_encryption = plain',
        'delay = 0',
        '[rights]',
        'type = owner_only',
        '[storage]',
        `filesystem_folder = ${path.join(dir, 'collections')}`,
        '[logging]',
        'level = warning',
        '[web]',
        'type = none',
        '',
      ].join('\n'),
    );
    const proc = spawn(launcher.command, [...launcher.args, '--config', config], {
      env: { ...process.env, ...launcher.env },
      // stdin stays open (and unwritten) for the watchdog; it closes when this process dies.
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    trackChild(proc);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    const candidate = `http://127.0.0.1:${port}/`;
    if (await waitUntilAnswering(candidate, proc, 20_000)) {
      child = proc;
      url = candidate;
    } else {
      await killChild(proc);
    }
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Radicale did not start:\n${stderr}`);
  }
  const proc = child;

  // Radicale serialises writes behind a storage lock that concurrent writers poll for: 30 parallel
  // PUTs took ~6x as long as the same 30 in sequence. So our own writes go one at a time.
  let writes: Promise<unknown> = Promise.resolve();
  const request = (
    method: string,
    target: string,
    username: string,
    password: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const send = () =>
      fetch(target, {
        method,
        headers: { Authorization: basic(username, password), ...headers },
        ...(body === undefined ? {} : { body }),
      });
    // Radicale has finished a write when it sends the status line: no need to wait for the body.
    const result = writes.then(send, send);
    writes = result.catch(() => undefined);
    return result;
  };
  const collectionFolder = (collectionUrl: string) =>
    path.join(
      dir,
      'collections',
      'collection-root',
      ...new URL(collectionUrl).pathname.split('/').filter(Boolean).map(decodeURIComponent),
    );

  return {
    url,
    async setPassword(username, password) {
      passwords.set(username, password);
      writeUsers();
    },
    async createCalendar(username, password, slug, props = {}) {
      const collection = new URL(`/${encodeURIComponent(username)}/${encodeURIComponent(slug)}/`, url).href;
      const set = [
        props.displayName === undefined
          ? ''
          : `<D:displayname>${escapeXml(props.displayName)}</D:displayname>`,
        props.color === undefined ? '' : `<A:calendar-color>${escapeXml(props.color)}</A:calendar-color>`,
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>',
      ].join('');
      const response = await request(
        'MKCALENDAR',
        collection,
        username,
        password,
        `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>${set}</D:prop></D:set></C:mkcalendar>`,
        { 'Content-Type': 'application/xml; charset=utf-8' },
      );
      if (response.status !== 201) {
        throw new Error(`MKCALENDAR ${collection} answered ${response.status}: ${await response.text()}`);
      }
      return collection;
    },
    async putEvent(collectionUrl, username, password, name, icsText) {
      const target = new URL(name, collectionUrl).href;
      const response = await request('PUT', target, username, password, icsText, {
        'Content-Type': 'text/calendar; charset=utf-8',
      });
      if (response.status !== 201 && response.status !== 204) {
        throw new Error(`PUT ${target} answered ${response.status}: ${await response.text()}`);
      }
    },
    async deleteEvent(collectionUrl, username, password, name) {
      const target = new URL(name, collectionUrl).href;
      const response = await request('DELETE', target, username, password);
      await response.body?.cancel();
      if (!response.ok && response.status !== 404) {
        throw new Error(`DELETE ${target} answered ${response.status}`);
      }
    },
    async seedEvents(collectionUrl, items) {
      const folder = collectionFolder(collectionUrl);
      if (!existsSync(folder)) throw new Error(`No collection folder at ${folder}`);
      for (const { name, ics } of items) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name)) throw new Error(`Unsupported seed name ${name}`);
        // Dot-files are invisible to Radicale: write beside, then rename into place.
        const staging = path.join(folder, `.seed-${name}`);
        writeFileSync(staging, ics);
        renameSync(staging, path.join(folder, name));
      }
    },
    async forgetSyncTokens(collectionUrl) {
      const cache = path.join(collectionFolder(collectionUrl), '.Radicale.cache', 'sync-token');
      if (!existsSync(cache)) throw new Error(`No sync-token cache at ${cache}`);
      rmSync(cache, { recursive: true, force: true });
    },
    log: () => stderr,
    async stop() {
      await killChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
