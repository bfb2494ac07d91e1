/**
 * An HTTP proxy on loopback that forwards everything to one origin, holding requests of chosen
 * methods for a while first: tests use it to catch a worker in the middle of a provider write.
 * A held request is forwarded even if its client is gone, as a real network would deliver it.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  url: string;
  /** Requests seen, in order (method and path). */
  seen: { method: string; path: string }[];
  delay(methods: string[], ms: number): void;
  stop(): Promise<void>;
}

export async function startDelayProxy(target: string): Promise<DelayProxy> {
  const origin = new URL(target);
  let delayed = new Set<string>();
  let delayMs = 0;
  const seen: DelayProxy['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
      const forward = () => {
        const upstream = httpRequest(
          {
            host: origin.hostname,
            port: origin.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: origin.host },
          },
          (answer) => {
            if (res.destroyed) return void answer.resume();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroyed || res.writeHead(502).end());
        upstream.end(Buffer.concat(chunks));
      };
      if (delayed.has(req.method ?? '')) setTimeout(forward, delayMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    delay(methods, ms) {
      delayed = new Set(methods);
      delayMs = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
