/**
 * A tiny HTTP server serving iCalendar feeds for tests and benchmarks, on 127.0.0.1 and a free port.
 * It behaves like a well-mannered feed host: strong ETags, Last-Modified, 304 for a matching
 * If-None-Match (or, without one, an If-Modified-Since at or after the last change). A feed can be
 * told to answer any status instead (401, 429 with Retry-After, 500...).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FeedOptions {
  /** Default `text/calendar; charset=utf-8`. */
  contentType?: string;
  /** Answer this status (with `body`) instead of serving the feed; 200 (default) serves it normally. */
  status?: number;
  /** Extra response headers, e.g. `{ 'Retry-After': '30' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering (timeout tests). */
  delayMs?: number;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

export interface IcsServer {
  /** Absolute URL of `path` on this server. */
  url(path: string): string;
  /** A string is served as UTF-8; pass a Buffer to serve other bytes (e.g. a Latin-1 feed). */
  setFeed(path: string, body: string | Buffer, opts?: FeedOptions): void;
  /** Every request received, in order (clear with `requests.length = 0`). */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

interface Feed {
  body: Buffer;
  etag: string;
  /** Whole seconds, as HTTP dates carry. */
  lastModified: number;
  opts: FeedOptions;
}

/** `host`: the loopback address to listen on (default 127.0.0.1; e.g. 127.0.0.2 for a second host). */
export async function startIcsServer(options: { host?: string } = {}): Promise<IcsServer> {
  const host = options.host ?? '127.0.0.1';
  const feeds = new Map<string, Feed>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, headers: req.headers });
    const feed = feeds.get(path) ?? feeds.get(path.split('?')[0] ?? path);
    const answer = () => respond(req.method ?? 'GET', req.headers, res, feed);
    if (feed?.opts.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, feed.opts.delayMs);
      timers.add(timer);
    } else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: (path) => `http://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`,
    setFeed(path, body, opts = {}) {
      const key = path.startsWith('/') ? path : `/${path}`;
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const previous = feeds.get(key);
      // Last-Modified has one-second resolution: keep it strictly increasing so that a change made
      // within the same second is still "modified since" for a client that only sends the date.
      const now = Math.floor(Date.now() / 1000) * 1000;
      const lastModified = previous ? Math.max(now, previous.lastModified + 1000) : now;
      const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
      feeds.set(key, { body: bytes, etag, lastModified, opts });
    },
    requests,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function respond(method: string, headers: IncomingHttpHeaders, res: ServerResponse, feed: Feed | undefined) {
  if (!feed) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such feed');
    return;
  }
  const extra = feed.opts.headers ?? {};
  const status = feed.opts.status ?? 200;
  if (status !== 200) {
    res.writeHead(status, { 'Content-Type': feed.opts.contentType ?? 'text/plain', ...extra });
    res.end(method === 'HEAD' ? undefined : feed.body);
    return;
  }
  const validators = { ETag: feed.etag, 'Last-Modified': new Date(feed.lastModified).toUTCString() };
  if (notModified(headers, feed)) {
    res.writeHead(304, { ...validators, ...extra }).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': feed.opts.contentType ?? 'text/calendar; charset=utf-8',
    'Content-Length': String(feed.body.length),
    ...validators,
    ...extra,
  });
  res.end(method === 'HEAD' ? undefined : feed.body);
}

/** RFC 9110 13.2.2: If-None-Match (weak comparison) decides when present; else If-Modified-Since. */
function notModified(headers: IncomingHttpHeaders, feed: Feed): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
    return (
      ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(feed.etag))
    );
  }
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && feed.lastModified <= since;
  }
  return false;
}
