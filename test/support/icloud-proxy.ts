/**
 * An iCloud-shaped front for a Radicale server, to test what is special about iCloud's CalDAV:
 *
 * - two hosts: the discovery host ("caldav.icloud.com", `url`) only answers /.well-known/caldav
 *   (a redirect to /), the current-user-principal on /, and the principal, whose calendar-home-set
 *   is an ABSOLUTE URL on the partition host ("p42-caldav.icloud.com", `partitionUrl`) — a client
 *   that resolves the home or the calendars against the first host gets 404s;
 * - the partition host reverse-proxies to Radicale (paths unchanged);
 * - both reject requests without up-front Basic credentials with a 401 whose challenge is not Basic
 *   (`X-MobileMe-AuthToken realm="Newcastle"`), as iCloud does;
 * - optionally, like iCloud, REPORT answers list the collection itself among its members.
 *
 * Test knobs on the partition host: `noSyncCollection` (a server without RFC 6578: sync-collection
 * left out of supported-report-set, no sync-token, the report answered 403), `readOnly` (a read-only
 * share), `failNext` (answer the next requests with a status, e.g. 429 + Retry-After), `delayMs`
 * (for timeouts), a scheduling inbox naming a default calendar, and a log of every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  host: 'front' | 'partition';
  method: string;
  path: string;
  depth: string | null;
  body: string;
}

export interface FailureSpec {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** How many requests get this answer (default 1). */
  count?: number;
  /** Only requests with this method (e.g. 'REPORT'). */
  method?: string;
}

export interface ICloudProxy {
  /** The discovery host, e.g. `http://127.0.0.1:PORT/` (what ICLOUD_CALDAV_URL would be). */
  url: string;
  /** The partition host, e.g. `http://127.0.0.1:PORT2/`. */
  partitionUrl: string;
  /** Every request received by either host, in order (clear with `requests.length = 0`). */
  requests: ProxiedRequest[];
  noSyncCollection: boolean;
  listCollectionInReports: boolean;
  /** Delay every partition answer by this much. */
  delayMs: number;
  /** Path (on the partition host) of the calendar the scheduling inbox names as default; null: no inbox. */
  defaultCalendarPath: string | null;
  /** A read-only share: privileges reduced to read, PUT/DELETE answered 403. */
  readOnly: boolean;
  failNext(spec: FailureSpec): void;
  stop(): Promise<void>;
}

const CHALLENGE = 'X-MobileMe-AuthToken realm="Newcastle"';
const INBOX_PREFIX = '/__inbox/';

export async function startICloudProxy(opts: { upstream: string }): Promise<ICloudProxy> {
  const upstream = new URL(opts.upstream);
  const requests: ProxiedRequest[] = [];
  const failures: FailureSpec[] = [];
  const dsids = new Map<string, string>();
  const dsidOf = (user: string) => {
    let dsid = dsids.get(user);
    if (!dsid) {
      dsid = String(10_000_000 + dsids.size * 7919);
      dsids.set(user, dsid);
    }
    return dsid;
  };
  const userOfDsid = (dsid: string) => [...dsids].find(([, d]) => d === dsid)?.[0] ?? null;

  let partitionUrl = '';
  const state = {
    noSyncCollection: false,
    listCollectionInReports: false,
    delayMs: 0,
    defaultCalendarPath: null as string | null,
    readOnly: false,
  };

  /** The Basic user, once Radicale accepted the credentials; null after a 401 was sent. */
  const authenticate = async (req: IncomingMessage, res: ServerResponse): Promise<string | null> => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const user = match
      ? Buffer.from(match[1] ?? '', 'base64')
          .toString('utf8')
          .split(':')[0]
      : undefined;
    if (!match || !user) {
      unauthorized(res);
      return null;
    }
    const check = await fetch(new URL(`/${encodeURIComponent(user)}/`, upstream), {
      method: 'PROPFIND',
      headers: { Authorization: header, Depth: '0' },
    });
    await check.body?.cancel();
    if (check.status === 401) {
      unauthorized(res);
      return null;
    }
    return user;
  };

  const front = createServer((req, res) => {
    void handle(req, res, 'front', async (body) => {
      const path = new URL(req.url ?? '/', 'http://front').pathname;
      if (path.startsWith('/.well-known/caldav')) {
        res.writeHead(301, { Location: '/' }).end();
        return;
      }
      const user = await authenticate(req, res);
      if (!user) return;
      if (req.method !== 'PROPFIND') {
        res.writeHead(405).end();
        return;
      }
      const principal = `/${dsidOf(user)}/principal/`;
      if (path === '/') {
        multistatus(res, path, `<current-user-principal><href>${principal}</href></current-user-principal>`);
        return;
      }
      const dsid = /^\/(\d+)\/principal\/$/.exec(path)?.[1];
      if (dsid && userOfDsid(dsid) === user) {
        const home = new URL(`/${encodeURIComponent(user)}/`, partitionUrl).href;
        const inbox =
          state.defaultCalendarPath !== null && /schedule-inbox-URL/i.test(body)
            ? `<C:schedule-inbox-URL><href>${new URL(`${INBOX_PREFIX}${encodeURIComponent(user)}/`, partitionUrl).href}</href></C:schedule-inbox-URL>`
            : '';
        multistatus(
          res,
          path,
          `<current-user-principal><href>${principal}</href></current-user-principal><C:calendar-home-set><href>${home}</href></C:calendar-home-set>${inbox}`,
        );
        return;
      }
      res.writeHead(404).end();
    });
  });

  const partition = createServer((req, res) => {
    void handle(req, res, 'partition', async (body) => {
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      if (res.destroyed) return;
      const failure = failures.find((f) => !f.method || f.method === req.method);
      if (failure) {
        failure.count = (failure.count ?? 1) - 1;
        if (failure.count <= 0) failures.splice(failures.indexOf(failure), 1);
        res.writeHead(failure.status, failure.headers ?? {}).end(failure.body ?? '');
        return;
      }
      if (!/^Basic\s+/i.test(req.headers.authorization ?? '')) {
        unauthorized(res);
        return;
      }
      const path = new URL(req.url ?? '/', 'http://partition').pathname;
      if (path.startsWith(INBOX_PREFIX)) {
        const user = await authenticate(req, res);
        if (!user) return;
        const target = state.defaultCalendarPath;
        multistatus(
          res,
          path,
          target
            ? `<C:schedule-default-calendar-URL><href>${target}</href></C:schedule-default-calendar-URL>`
            : '',
        );
        return;
      }
      if (state.noSyncCollection && req.method === 'REPORT' && /sync-collection/.test(body)) {
        res
          .writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8' })
          .end('<?xml version="1.0" encoding="utf-8"?><error xmlns="DAV:"><supported-report/></error>');
        return;
      }
      if (state.readOnly && (req.method === 'PUT' || req.method === 'DELETE' || req.method === 'PROPPATCH')) {
        res
          .writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8' })
          .end('<?xml version="1.0" encoding="utf-8"?><error xmlns="DAV:"><need-privileges/></error>');
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of [
        'authorization',
        'depth',
        'content-type',
        'if-match',
        'if-none-match',
        'user-agent',
      ]) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(new URL(req.url ?? '/', upstream), {
        method: req.method ?? 'GET',
        headers,
        redirect: 'manual',
        ...(body === '' || req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
      });
      let text = await answer.text();
      if (answer.status === 207 && req.method === 'PROPFIND' && state.noSyncCollection) {
        text = text
          .replace(/<supported-report><report><sync-collection\s*\/><\/report><\/supported-report>/g, '')
          .replace(/<sync-token>[^<]*<\/sync-token>/g, '');
      }
      if (answer.status === 207 && req.method === 'PROPFIND' && state.readOnly) {
        text = text.replace(
          /<current-user-privilege-set>[\s\S]*?<\/current-user-privilege-set>/g,
          '<current-user-privilege-set><privilege><read /></privilege></current-user-privilege-set>',
        );
      }
      if (answer.status === 207 && req.method === 'REPORT' && state.listCollectionInReports) {
        const collection = path.endsWith('/') ? path : `${path}/`;
        text = text.replace(
          /(<multistatus[^>]*>)/,
          `$1<response><href>${collection}</href><propstat><prop><getetag>"collection"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>`,
        );
      }
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (
          !['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(
            name,
          )
        ) {
          out[name] = value;
        }
      });
      res.writeHead(answer.status, out).end(text);
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    host: ProxiedRequest['host'],
    work: (body: string) => Promise<void>,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({
      host,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      depth: typeof req.headers.depth === 'string' ? req.headers.depth : null,
      body,
    });
    try {
      await work(body);
    } catch (error) {
      if (!res.headersSent) res.writeHead(502).end(String(error));
    }
  }

  const listen = (server: Server) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const frontPort = await listen(front);
  const partitionPort = await listen(partition);
  partitionUrl = `http://127.0.0.1:${partitionPort}/`;

  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    url: `http://127.0.0.1:${frontPort}/`,
    partitionUrl,
    requests,
    get noSyncCollection() {
      return state.noSyncCollection;
    },
    set noSyncCollection(value: boolean) {
      state.noSyncCollection = value;
    },
    get listCollectionInReports() {
      return state.listCollectionInReports;
    },
    set listCollectionInReports(value: boolean) {
      state.listCollectionInReports = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get defaultCalendarPath() {
      return state.defaultCalendarPath;
    },
    set defaultCalendarPath(value: string | null) {
      state.defaultCalendarPath = value;
    },
    get readOnly() {
      return state.readOnly;
    },
    set readOnly(value: boolean) {
      state.readOnly = value;
    },
    failNext(spec) {
      failures.push({ ...spec });
    },
    async stop() {
      await Promise.all([close(front), close(partition)]);
    },
  };
}

function unauthorized(res: ServerResponse): void {
  res.writeHead(401, { 'WWW-Authenticate': CHALLENGE, 'Content-Type': 'text/plain' }).end('Unauthorized');
}

function multistatus(res: ServerResponse, href: string, props: string): void {
  res
    .writeHead(207, { 'Content-Type': 'text/xml; charset=utf-8' })
    .end(
      `<?xml version="1.0" encoding="utf-8"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>${href}</href><propstat><prop>${props}</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`,
    );
}
