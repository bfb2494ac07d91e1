/**
 * A real Xandikos CalDAV server for tests and benchmarks, on 127.0.0.1 and a free port, with its
 * storage (one git repository per collection) in a temporary folder: a second server
 * implementation beside Radicale, with other costs (see providers/caldav/slices.ts).
 *
 * Xandikos is installed once from PyPI into .tools/xandikos (staging folder + rename, like
 * Radicale). Its own `serve` only takes Basic auth over its self-signed TLS, so a small launcher
 * builds the same aiohttp application on plain HTTP with its Basic-auth middleware in front: a wrong
 * password gets a 401, as from any CalDAV server. Xandikos serves one user: the principal is
 * `/<username>/`, calendars live under `/<username>/calendars/`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../worker/local/ports.ts';
import { pipInstallOnce } from '../../worker/local/tools.ts';
import { killChild, waitUntilAnswering } from './child-server.ts';

export const XANDIKOS_REQUIREMENT = 'xandikos==0.4.10';

export interface XandikosUser {
  username: string;
  password: string;
}

export interface Xandikos {
  /** Server root, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  user: XandikosUser;
  /** Replaces the user's password; effective from the next request (the file is re-read on change). */
  setPassword(password: string): void;
  /** MKCALENDAR `/<username>/calendars/<slug>/` (VEVENT only); returns the collection URL. */
  createCalendar(slug: string, props?: { displayName?: string }): Promise<string>;
  /** PUT `<collectionUrl><name>`. */
  putEvent(collectionUrl: string, name: string, icsText: string): Promise<void>;
  /** DELETE `<collectionUrl><name>`; a missing resource is not an error. */
  deleteEvent(collectionUrl: string, name: string): Promise<void>;
  /**
   * Bulk seeding: one git commit of all the files into the collection's repository, which Xandikos
   * reads like any other change. Each PUT is a commit of its own that grows with the collection
   * (2,000 sequential PUTs took ~170 s). Names: letters, digits, `._@-`.
   */
  seedEvents(collectionUrl: string, items: { name: string; ics: string }[]): Promise<void>;
  /** What Xandikos wrote to stderr, for failing-test diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * argv: storage folder, port, principal path, htpasswd file. Exits when its stdin (a pipe from us)
 * closes, so a killed test process leaves no server behind (see test/support/radicale.ts).
 */
const LAUNCHER = `
import logging, os, sys, threading
def watch():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)
threading.Thread(target=watch, daemon=True).start()
logging.basicConfig(level=logging.WARNING)
from aiohttp import web
from xandikos import web as xweb
from xandikos.htpasswd import HtpasswdFile
directory, port, principal, htpasswd = sys.argv[1:5]
backend = xweb.SingleUserFilesystemBackend(directory)
backend.create_principal(principal, create_defaults=False)
dav = xweb.XandikosApp(backend, current_user_principal=principal)
async def handle(request):
    return await dav.aiohttp_handler(request, '/')
app = web.Application(middlewares=[xweb.basic_auth_middleware(HtpasswdFile(htpasswd))])
for well_known in xweb.WELLKNOWN_DAV_PATHS:
    app.router.add_route('*', well_known, xweb.RedirectDavHandler('/').__call__)
app.router.add_route('*', '/{path_info:.*}', handle)
web.run_app(app, host='127.0.0.1', port=int(port), print=None, access_log=None)
`;

/** Reads JSON `{ folder, items: [{ name, ics }] }` from stdin and commits the files in one go. */
const SEEDER = `
import json, os, sys
from dulwich import porcelain
job = json.load(sys.stdin)
folder = job['folder']
for item in job['items']:
    with open(os.path.join(folder, item['name']), 'w', encoding='utf-8', newline='') as f:
        f.write(item['ics'])
porcelain.add(folder, paths=[os.path.join(folder, item['name']) for item in job['items']])
porcelain.commit(folder, message=b'seed', author=b'seed <seed@localhost>', committer=b'seed <seed@localhost>')
`;

let installed: Promise<string> | null = null;

/** The folder Xandikos and its dependencies are installed in (PyPI, once). */
export function resolveXandikos(): Promise<string> {
  installed ??= pipInstallOnce('xandikos', XANDIKOS_REQUIREMENT, 'xandikos/__init__.py');
  installed.catch(() => {
    installed = null;
  });
  return installed;
}

const basic = ({ username, password }: XandikosUser) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

const escapeXml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

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

export async function startXandikos(opts: { user: XandikosUser }): Promise<Xandikos> {
  const pythonPath = [await resolveXandikos(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const env = { ...process.env, PYTHONPATH: pythonPath };
  const dir = mkdtempSync(path.join(tmpdir(), 'calbridge-xandikos-'));
  const storage = path.join(dir, 'data');
  const htpasswd = path.join(dir, 'users');
  let user = { ...opts.user };
  const writeUsers = () => {
    const sha = createHash('sha1').update(user.password, 'utf8').digest('base64');
    writeFileSync(`${htpasswd}.tmp`, `${user.username}:{SHA}${sha}\n`);
    renameSync(`${htpasswd}.tmp`, htpasswd);
  };
  writeUsers();
  const principal = `/${user.username}/`;

  let stderr = '';
  let child: ChildProcess | null = null;
  let url = '';
  // A free port can be taken between our probe and the bind: try a few.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    const port = await freePort();
    const proc = spawn('python3', ['-c', LAUNCHER, storage, String(port), principal, htpasswd], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    trackChild(proc);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    const candidate = `http://127.0.0.1:${port}/`;
    if (await waitUntilAnswering(candidate, proc, 30_000)) {
      child = proc;
      url = candidate;
    } else {
      await killChild(proc);
    }
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Xandikos did not start:\n${stderr}`);
  }
  const proc = child;

  const request = async (
    method: string,
    target: string,
    body?: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(target, {
      method,
      headers: { Authorization: basic(user), ...headers },
      ...(body === undefined ? {} : { body }),
    });
  const collectionFolder = (collectionUrl: string) =>
    path.join(storage, ...new URL(collectionUrl).pathname.split('/').filter(Boolean).map(decodeURIComponent));

  return {
    url,
    get user() {
      return user;
    },
    setPassword(password) {
      user = { ...user, password };
      writeUsers();
    },
    async createCalendar(slug, props = {}) {
      const collection = new URL(`${principal}calendars/${encodeURIComponent(slug)}/`, url).href;
      const name =
        props.displayName === undefined
          ? ''
          : `<D:displayname>${escapeXml(props.displayName)}</D:displayname>`;
      const response = await request(
        'MKCALENDAR',
        collection,
        `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>${name}<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
        { 'Content-Type': 'application/xml; charset=utf-8' },
      );
      if (response.status !== 201) {
        throw new Error(`MKCALENDAR ${collection} answered ${response.status}: ${await response.text()}`);
      }
      return collection;
    },
    async putEvent(collectionUrl, name, icsText) {
      const target = new URL(name, collectionUrl).href;
      const response = await request('PUT', target, icsText, {
        'Content-Type': 'text/calendar; charset=utf-8',
      });
      await response.body?.cancel();
      if (response.status !== 201 && response.status !== 204) {
        throw new Error(`PUT ${target} answered ${response.status}`);
      }
    },
    async deleteEvent(collectionUrl, name) {
      const target = new URL(name, collectionUrl).href;
      const response = await request('DELETE', target);
      await response.body?.cancel();
      if (!response.ok && response.status !== 404)
        throw new Error(`DELETE ${target} answered ${response.status}`);
    },
    async seedEvents(collectionUrl, items) {
      for (const { name } of items) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name)) throw new Error(`Unsupported seed name ${name}`);
      }
      await runPython(SEEDER, env, JSON.stringify({ folder: collectionFolder(collectionUrl), items }));
    },
    log: () => stderr,
    async stop() {
      await killChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runPython(script: string, env: NodeJS.ProcessEnv, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', ['-c', script], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`Xandikos seeding failed (${code}):\n${stderr}`)),
    );
    proc.stdin.end(input);
  });
}
