/**
 * The one place a CalDAV adapter reads provider bytes with its own patterns: the CALDAV:no-uid-conflict
 * error body of a PUT (providers/caldav/writes.ts). A server's body there must cost linear time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCalDavProvider } from '../../providers/caldav/adapter.ts';
import { unrestrictedOutbound } from '../../providers/outbound/context.ts';

let server: Server;
let base: string;
// Error bodies are read up to 64 KiB: fill them with "</", each of which restarts the search for the
// closing tag over the rest of the body.
const HOSTILE = `<C:no-uid-conflict>${'</'.repeat(32_000)}`;

/** What a conforming server answers: the element names the resource that holds the UID. */
const CONFORMING = `<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:no-uid-conflict><D:href>/calendars/u/work/renamed%20event.ics</D:href></C:no-uid-conflict>
</D:error>`;

const ETAG_OF_RENAMED = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>/calendars/u/work/renamed%20event.ics</D:href>
<D:propstat><D:prop><D:getetag>"renamed-1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
</D:response></D:multistatus>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    const conforming = req.url?.startsWith('/calendars/u/conforming/') || req.url?.includes('renamed');
    if (req.method === 'PROPFIND') {
      res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' });
      res.end(ETAG_OF_RENAMED);
      return;
    }
    res.writeHead(409, { 'content-type': 'application/xml; charset=utf-8' });
    res.end(conforming ? CONFORMING : HOSTILE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const event = {
  id: 'e3b0c442-98fc-4c14-9afb-f4c8996fb924',
  title: 'Call',
  start: new Date('2025-03-05T10:00:00Z'),
  end: new Date('2025-03-05T11:00:00Z'),
  timeZone: 'UTC',
  sequence: 0,
};

function provider() {
  return createCalDavProvider(
    { provider: 'caldav', serverUrl: base, credentials: { username: 'u', password: 'p' } },
    { requestTimeoutMs: 10_000, userAgent: 'calbridge-test', outbound: unrestrictedOutbound() },
  );
}

it('takes the resource a conforming no-uid-conflict names as the event already created', async () => {
  const ref = await provider().createEvent({ externalId: `${base}/calendars/u/conforming/` }, event);
  expect(ref).toEqual({ externalId: '/calendars/u/work/renamed%20event.ics', etag: '"renamed-1"' });
});

it('reads a hostile no-uid-conflict body of a refused create in linear time', async () => {
  const started = performance.now();
  await expect(provider().createEvent({ externalId: `${base}/calendars/u/work/` }, event)).rejects.toThrow(
    /409/,
  );
  expect(performance.now() - started).toBeLessThan(1_000);
});
