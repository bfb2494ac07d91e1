/**
 * The outbound client (providers/outbound/fetch.ts) against real servers on loopback: the
 * destination policy on literal IPs, host names, a DNS answer that points inside, and every redirect
 * hop; credentials kept to their origin; bodies capped after decompression (gzip, deflate and
 * brotli bombs, endless streams, an honest Content-Length); one message for every unreachable case.
 *
 * Loopback plays "private": 127.0.0.2 is the allowed host (OUTBOUND_PRIVATE_NETWORKS=127.0.0.2)
 * and 127.0.0.1 the one that must never be reached. No test sends anything beyond loopback.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidDataError, ProviderUnreachableError } from '../../providers/errors.ts';
import { DestinationNotAllowedError, ResponseTooLargeError } from '../../providers/outbound/errors.ts';
import { OutboundClient } from '../../providers/outbound/fetch.ts';
import { DestinationPolicy, parsePrivateNetworks } from '../../providers/outbound/policy.ts';
import { freePort } from '../../worker/local/ports.ts';

interface Recorder {
  url: string;
  origin: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  handle: (path: string, res: ServerResponse) => void;
  server: Server;
}

async function recorder(host: string): Promise<Recorder> {
  const rec = {
    requests: [],
    handle: (_path: string, res: ServerResponse) => res.end('ok'),
  } as unknown as Recorder;
  rec.server = createServer((req, res) => {
    rec.requests.push({ path: req.url ?? '/', headers: req.headers });
    rec.handle(req.url ?? '/', res);
  });
  await new Promise<void>((resolve) => rec.server.listen(0, host, resolve));
  const { port } = rec.server.address() as AddressInfo;
  rec.origin = `http://${host}:${port}`;
  rec.url = `${rec.origin}/`;
  return rec;
}

let inside: Recorder; // 127.0.0.1: never to be reached under `deny`
let allowed: Recorder; // 127.0.0.2: allowed by the allow-list
const clients: OutboundClient[] = [];

const client = (setting: string, options: { trusted?: string[]; resolve?: (h: string) => string } = {}) => {
  const c = new OutboundClient({
    policy: new DestinationPolicy({
      privateNetworks: parsePrivateNetworks(setting).value,
      trustedUrls: options.trusted ?? [],
    }),
    ...(options.resolve
      ? { resolve: async (host: string) => [{ address: options.resolve!(host), family: 4 }] }
      : {}),
  });
  clients.push(c);
  return c;
};
const get = (c: OutboundClient, url: string, extra: Partial<Parameters<OutboundClient['request']>[1]> = {}) =>
  c.request(url, { maxBodyBytes: 1024 * 1024, timeoutMs: 3000, ...extra });

beforeAll(async () => {
  [inside, allowed] = await Promise.all([recorder('127.0.0.1'), recorder('127.0.0.2')]);
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const r of [inside, allowed]) {
    r?.server.closeAllConnections();
    await new Promise((resolve) => r?.server.close(resolve));
  }
});

describe('destination policy', () => {
  it('refuses loopback under deny, in every spelling, before any byte is sent', async () => {
    const deny = client('deny');
    const port = new URL(inside.url).port;
    inside.requests.length = 0;
    for (const url of [
      inside.url,
      `http://localhost:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[::ffff:7f00:1]:${port}/`,
      `http://2130706433:${port}/`, // 127.0.0.1 as one number
      `http://0x7f.1:${port}/`,
    ]) {
      const error = await get(deny, url).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(DestinationNotAllowedError);
      expect((error as Error).message).toMatch(/loopback/);
    }
    expect(inside.requests).toHaveLength(0);
    expect((await get(client('allow'), inside.url)).status).toBe(200);
  });

  it('lets the allow-list through: CIDRs by resolved address, host names by name', async () => {
    inside.requests.length = 0;
    expect((await get(client('127.0.0.2/32'), allowed.url)).status).toBe(200);
    await expect(get(client('127.0.0.2/32'), inside.url)).rejects.toBeInstanceOf(DestinationNotAllowedError);
    const port = new URL(inside.url).port;
    expect((await get(client('localhost'), `http://localhost:${port}/`)).status).toBe(200);
    await expect(get(client('localhost'), inside.url)).rejects.toBeInstanceOf(DestinationNotAllowedError);
    expect(inside.requests).toHaveLength(1);
  });

  it('checks the address a name resolves to when connecting (a DNS answer pointing inside)', async () => {
    const port = new URL(inside.url).port;
    inside.requests.length = 0;
    const rebinding = client('deny', { resolve: () => '127.0.0.1' });
    await expect(get(rebinding, `http://calendar.rebind.test:${port}/`)).rejects.toBeInstanceOf(
      DestinationNotAllowedError,
    );
    expect(inside.requests).toHaveLength(0);
    // The same name, with its address allowed: connected to the address the lookup gave.
    const allowedInside = client('127.0.0.0/8', { resolve: () => '127.0.0.1' });
    expect((await get(allowedInside, `http://calendar.rebind.test:${port}/`)).status).toBe(200);
    expect(inside.requests).toHaveLength(1);
    expect(inside.requests[0]?.headers.host).toBe(`calendar.rebind.test:${port}`);
  });

  it('trusts operator-configured origins whatever they resolve to', async () => {
    const trusted = client('deny', { trusted: [inside.origin] });
    expect((await get(trusted, `${inside.origin}/anything`)).status).toBe(200);
  });

  it('checks every redirect hop: a redirect to loopback is not followed', async () => {
    inside.requests.length = 0;
    allowed.handle = (_path, res) => res.writeHead(302, { Location: `${inside.origin}/metadata` }).end();
    const error = await get(client('127.0.0.2'), allowed.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationNotAllowedError);
    expect(inside.requests).toHaveLength(0);
  });
});

describe('credentials and redirects', () => {
  it('sends Authorization on the same origin only, never across a redirect to another origin', async () => {
    const other = await recorder('127.0.0.2');
    try {
      allowed.handle = (path, res) => {
        if (path === '/start') res.writeHead(301, { Location: '/moved' }).end();
        else if (path === '/moved') res.writeHead(307, { Location: `${other.origin}/elsewhere` }).end();
        else res.end('?');
      };
      allowed.requests.length = 0;
      const response = await get(client('allow'), `${allowed.origin}/start`, {
        method: 'PROPFIND',
        authorization: 'Basic c2VjcmV0',
      });
      expect(response.status).toBe(200);
      expect(response.url).toBe(`${other.origin}/elsewhere`);
      expect(response.authorized).toBe(false);
      expect(allowed.requests.map((r) => r.headers.authorization)).toEqual([
        'Basic c2VjcmV0',
        'Basic c2VjcmV0',
      ]);
      expect(other.requests).toHaveLength(1);
      expect(other.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      other.server.close();
    }
  });

  it('gives up after five redirects', async () => {
    allowed.handle = (path, res) => res.writeHead(302, { Location: `${path}x` }).end();
    await expect(get(client('allow'), allowed.url)).rejects.toThrow(/redirected more than 5 times/);
  });
});

describe('bounded bodies', () => {
  const cap = 256 * 1024;
  const line = Buffer.from(`X-PAD:${'a'.repeat(72)}\r\n`);

  /** `total` bytes of feed-like text, compressed chunk by chunk so the test never holds it whole. */
  async function bomb(coding: 'gzip' | 'deflate' | 'br', total: number): Promise<Buffer> {
    const encoder =
      coding === 'gzip'
        ? zlib.createGzip()
        : coding === 'deflate'
          ? zlib.createDeflate()
          : zlib.createBrotliCompress();
    const chunk = Buffer.concat(Array(Math.ceil(65536 / line.length)).fill(line));
    const out: Buffer[] = [];
    encoder.on('data', (c: Buffer) => out.push(c));
    const done = new Promise((resolve) => encoder.on('end', resolve));
    for (let written = 0; written < total; written += chunk.length) {
      if (!encoder.write(chunk)) await new Promise((resolve) => encoder.once('drain', resolve));
    }
    encoder.end();
    await done;
    return Buffer.concat(out);
  }

  it.each(['gzip', 'deflate', 'br'] as const)(
    'stops a %s bomb at the cap on the decompressed size',
    async (coding) => {
      const body = await bomb(coding, 64 * 1024 * 1024);
      expect(body.length).toBeLessThan(cap); // the compressed body alone is under the cap
      allowed.handle = (_path, res) => res.writeHead(200, { 'Content-Encoding': coding }).end(body);
      const before = process.memoryUsage().rss;
      const error = await get(client('allow'), allowed.url, { maxBodyBytes: cap }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as Error).message).toMatch(/larger than 256 KB/);
      expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
    },
  );

  it('decodes compressed bodies under the cap', async () => {
    const text = 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n';
    for (const [coding, encoded] of [
      ['gzip', zlib.gzipSync(text)],
      ['deflate', zlib.deflateSync(text)],
      ['br', zlib.brotliCompressSync(text)],
      ['identity', Buffer.from(text)],
    ] as const) {
      allowed.handle = (_path, res) => res.writeHead(200, { 'Content-Encoding': coding }).end(encoded);
      const response = await get(client('allow'), allowed.url);
      expect(response.body.toString('utf8'), coding).toBe(text);
    }
  });

  it('refuses a declared Content-Length over the cap, and an endless body once it passes the cap', async () => {
    allowed.handle = (_path, res) => {
      res.writeHead(200, { 'Content-Length': String(cap + 1) });
      res.end(); // the length alone decides: nothing needs to be read
    };
    await expect(get(client('allow'), allowed.url, { maxBodyBytes: cap })).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );

    let sent = 0;
    allowed.handle = (_path, res) => {
      res.writeHead(200, { 'Content-Type': 'text/calendar' });
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += line.length;
          if (!res.write(line)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    const started = Date.now();
    await expect(get(client('allow'), allowed.url, { maxBodyBytes: cap })).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });

  it('downloads no body when the caller wants only the status (readBody: false)', async () => {
    allowed.handle = (_path, res) => {
      res.writeHead(200, { 'Content-Type': 'text/calendar', ETag: '"v2"' });
      // An endless feed: reading it would hit the cap (an error), not answer.
      const pump = () => {
        while (!res.destroyed) if (!res.write(line)) return void res.once('drain', pump);
      };
      pump();
    };
    const started = Date.now();
    const response = await get(client('allow'), allowed.url, { maxBodyBytes: cap, readBody: false });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"v2"');
    expect(response.body.length).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keeps only the start of an error page, and refuses a body that does not decompress', async () => {
    allowed.handle = (_path, res) => res.writeHead(500).end(Buffer.alloc(cap * 4, 'e'));
    const page = await get(client('allow'), allowed.url, { maxBodyBytes: cap });
    expect(page.status).toBe(500);
    expect(page.body.length).toBeLessThanOrEqual(64 * 1024);

    allowed.handle = (_path, res) =>
      res.writeHead(200, { 'Content-Encoding': 'gzip' }).end('not gzip at all');
    await expect(get(client('allow'), allowed.url)).rejects.toBeInstanceOf(InvalidDataError);
    allowed.handle = (_path, res) => res.writeHead(200, { 'Content-Encoding': 'compress' }).end('x');
    await expect(get(client('allow'), allowed.url)).rejects.toBeInstanceOf(InvalidDataError);
  });
});

describe('unreachable servers', () => {
  it('gives one message for a closed port, a dead name and a timeout, with no transport code', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/`;
    allowed.handle = () => undefined; // never answers
    const errors = await Promise.all(
      [closed, 'http://calbridge-test.invalid/', allowed.url].map((url) =>
        get(client('allow'), url, { timeoutMs: 300 }).then(
          () => new Error(`${url} answered`),
          (e: unknown) => e as Error,
        ),
      ),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderUnreachableError);
      expect(error.message).toMatch(/^Could not reach the server at [^ ]+ within 300 ms$/);
      expect(error.message).not.toMatch(/ECONN|ENOTFOUND|EAI_|UND_ERR|socket|refused|timed? ?out/i);
    }
  });
});
