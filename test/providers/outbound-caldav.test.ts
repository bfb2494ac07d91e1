/**
 * The outbound rules as the CalDAV and ICS adapters meet them, against scripted servers on
 * loopback: the multistatus and feed caps from the ProviderContext, credentials that follow the
 * account's own answers (a calendar home on another host, as iCloud's partition hosts) but never a
 * redirect to another origin, a well-known redirect elsewhere that discovery steps around, and
 * calendars listed on another origin that are not offered.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createCalDavProvider } from '../../providers/caldav/adapter.ts';
import type { ProviderContext } from '../../providers/contract.ts';
import { createIcsProvider } from '../../providers/ics/adapter.ts';
import type { Outbound } from '../../providers/outbound/context.ts';
import { ResponseTooLargeError } from '../../providers/outbound/errors.ts';
import { OutboundClient } from '../../providers/outbound/fetch.ts';
import { DestinationPolicy } from '../../providers/outbound/policy.ts';

const servers: Server[] = [];
const client = new OutboundClient({ policy: DestinationPolicy.allowAll() });
afterAll(() => {
  client.close();
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

const context = (limits: Partial<Outbound> = {}): ProviderContext => ({
  requestTimeoutMs: 3000,
  userAgent: 'Calbridge-test/1.0',
  outbound: { client, maxFeedBytes: 1024 * 1024, maxMultistatusBytes: 1024 * 1024, ...limits },
});

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

async function server(handle: (req: Seen, res: ServerResponse) => void) {
  const requests: Seen[] = [];
  const http = createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    requests.push(seen);
    req.resume();
    req.on('end', () => handle(seen, res));
  });
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, requests };
}

const multistatus = (body: string) =>
  `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">${body}</d:multistatus>`;
const response = (href: string, props: string) =>
  `<d:response><d:href>${href}</d:href><d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
const calendarType = '<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>';
const AUTH = `Basic ${Buffer.from('ada:pw').toString('base64')}`;

/** Principal at /principal/ naming `home` (absolute, maybe elsewhere); answers only with our credentials. */
function accountRoutes(home: string) {
  return (req: Seen, res: ServerResponse): boolean => {
    if (req.headers.authorization !== AUTH) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="dav"' }).end();
      return true;
    }
    const xml = (body: string) =>
      res.writeHead(207, { 'Content-Type': 'application/xml' }).end(multistatus(body));
    if (req.path === '/' || req.path === '/dav/') {
      xml(
        response(
          req.path,
          '<d:current-user-principal><d:href>/principal/</d:href></d:current-user-principal>',
        ),
      );
      return true;
    }
    if (req.path === '/principal/') {
      xml(response('/principal/', `<c:calendar-home-set><d:href>${home}</d:href></c:calendar-home-set>`));
      return true;
    }
    return false;
  };
}

const caldav = (serverUrl: string, ctx = context()) =>
  createCalDavProvider(
    { provider: 'caldav', serverUrl, credentials: { username: 'ada', password: 'pw' } },
    ctx,
  );

describe('CalDAV credentials', () => {
  it('sends them to a calendar home the account names on another host, and to its calendars', async () => {
    const partition = await server((req, res) => {
      if (req.headers.authorization !== AUTH) return void res.writeHead(401).end();
      res
        .writeHead(207, { 'Content-Type': 'application/xml' })
        .end(
          multistatus(
            response('/home/', '<d:resourcetype><d:collection/></d:resourcetype>') +
              response('/home/work/', `${calendarType}<d:displayname>Work</d:displayname>`) +
              response(
                'http://127.0.0.2:9/elsewhere/',
                `${calendarType}<d:displayname>Elsewhere</d:displayname>`,
              ),
          ),
        );
    });
    const front = await server((req, res) => {
      if (req.path.startsWith('/.well-known/')) return void res.writeHead(301, { Location: '/' }).end();
      if (!accountRoutes(`${partition.origin}/home/`)(req, res)) res.writeHead(404).end();
    });
    const calendars = await caldav(`${front.origin}/`).listCalendars();
    // The calendar listed on a third origin is not a member of this home: not offered.
    expect(calendars.map((c) => [c.name, c.externalId])).toEqual([
      ['Work', `${partition.origin}/home/work/`],
    ]);
    expect(partition.requests.every((r) => r.headers.authorization === AUTH)).toBe(true);
  });

  it('steps around a well-known redirect to another host, which never sees the credentials', async () => {
    const elsewhere = await server((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic' }).end());
    const own = await server((req, res) => {
      if (req.path.startsWith('/.well-known/')) {
        return void res.writeHead(301, { Location: `${elsewhere.origin}/dav/` }).end();
      }
      if (!accountRoutes('/home/')(req, res)) {
        res.writeHead(207, { 'Content-Type': 'application/xml' }).end(multistatus(response('/home/', '')));
      }
    });
    const provider = caldav(`${own.origin}/dav/`);
    expect(await provider.verifyAccess()).toEqual({ accountEmail: 'ada' });
    expect(elsewhere.requests.length).toBeGreaterThan(0);
    expect(elsewhere.requests.map((r) => r.headers.authorization)).toEqual(
      elsewhere.requests.map(() => undefined),
    );
  });
});

describe('body caps from the provider context', () => {
  it('refuses a CalDAV response over MAX_MULTISTATUS_BYTES, compressed or not', async () => {
    const huge = multistatus(
      Array.from({ length: 600 }, (_, i) =>
        response(`/home/c${i}/`, `${calendarType}<d:displayname>${'x'.repeat(100)}</d:displayname>`),
      ).join(''),
    );
    for (const encoding of ['identity', 'gzip']) {
      const dav = await server((req, res) => {
        if (accountRoutes('/home/')(req, res)) return;
        const body = encoding === 'gzip' ? zlib.gzipSync(huge) : Buffer.from(huge);
        res.writeHead(207, { 'Content-Type': 'application/xml', 'Content-Encoding': encoding }).end(body);
      });
      const small = caldav(`${dav.origin}/`, context({ maxMultistatusBytes: 64 * 1024 }));
      await expect(small.listCalendars(), encoding).rejects.toBeInstanceOf(ResponseTooLargeError);
      // The default cap reads the same listing.
      expect(await caldav(`${dav.origin}/`).listCalendars()).toHaveLength(600);
    }
  });

  it('refuses an ICS feed over MAX_FEED_BYTES', async () => {
    const feed = `BEGIN:VCALENDAR\r\n${'X-PAD:aaaaaaaa\r\n'.repeat(10_000)}END:VCALENDAR\r\n`;
    const host = await server((_req, res) =>
      res
        .writeHead(200, { 'Content-Type': 'text/calendar', 'Content-Encoding': 'gzip' })
        .end(zlib.gzipSync(feed)),
    );
    const ics = (ctx: ProviderContext) =>
      createIcsProvider(
        { provider: 'ics', serverUrl: null, credentials: { url: `${host.origin}/f.ics` } },
        ctx,
      );
    await expect(ics(context({ maxFeedBytes: 64 * 1024 })).verifyAccess()).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    expect(await ics(context()).verifyAccess()).toEqual({ accountEmail: null });
  });
});
