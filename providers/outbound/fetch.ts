/**
 * HTTP to user-supplied URLs (ICS feeds, CalDAV servers), the one way adapters reach them:
 *
 * - every hop, redirects included, goes through the destination policy, checked on the resolved
 *   address at connect time (connect.ts);
 * - bodies are read under a byte cap on their decompressed size (body.ts);
 * - redirects are followed here, keeping the method (a /.well-known PROPFIND must stay one) and
 *   sending `authorization` only while the hop is on the origin it was given for;
 * - everything that keeps us from an answer (refused, reset, DNS, TLS, timeout) is one
 *   ProviderUnreachableError with one message, so the errors a user sees map no ports.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { InvalidDataError, TransientProviderError } from '../errors.ts';
import { transportError } from '../http-errors.ts';
import { ACCEPT_ENCODING, readBody } from './body.ts';
import { checkLiteral, guardedLookup, type Resolver, systemResolver } from './connect.ts';
import { DestinationNotAllowedError } from './errors.ts';
import type { DestinationPolicy } from './policy.ts';

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** An Authorization header value, sent only to the origin of the URL asked for. */
  authorization?: string | null;
  /** Cap on the decompressed body of a 2xx answer; other answers are cut there silently. */
  maxBodyBytes: number;
  /**
   * False: the status and headers are all the caller wants (e.g. "is it still 304?"), so a body is
   * not downloaded at all; the connection is closed instead. Default true.
   */
  readBody?: boolean;
  /** For the whole exchange: every hop and the body. */
  timeoutMs: number;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  body: Buffer;
  /** Whether the request that got this answer carried `authorization`. */
  authorized: boolean;
}

const MAX_REDIRECTS = 5;
/** Error pages are read for their first bytes only (e.g. a DAV:valid-sync-token precondition). */
const ERROR_BODY_BYTES = 64 * 1024;
const NO_BODY_STATUSES = new Set([204, 205, 304]);

export class OutboundClient {
  readonly #policy: DestinationPolicy;
  readonly #lookup: ReturnType<typeof guardedLookup>;
  // Kept-alive connections, separate for trusted origins (never checked) and everything else.
  readonly #agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
  };
  readonly #trustedAgents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 4000 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 4000 }),
  };

  constructor(options: { policy: DestinationPolicy; resolve?: Resolver }) {
    this.#policy = options.policy;
    this.#lookup = guardedLookup(options.policy, options.resolve ?? systemResolver);
  }

  async request(url: string | URL, init: OutboundRequest): Promise<OutboundResponse> {
    const signal = AbortSignal.timeout(init.timeoutMs);
    const first = new URL(url);
    let target = first;
    let method = init.method ?? 'GET';
    let body = init.body;
    for (let hop = 0; ; hop++) {
      const authorization = init.authorization && target.origin === first.origin ? init.authorization : null;
      const response = await this.#send(
        target,
        { method, headers: init.headers, body, authorization },
        init,
        signal,
      );
      const location = response.headers.location;
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && location) {
        response.destroy();
        if (hop >= MAX_REDIRECTS) {
          throw new TransientProviderError(
            `The server at ${first.host} redirected more than ${MAX_REDIRECTS} times`,
          );
        }
        const next = redirectTarget(location, target);
        if (init.authorization && target.protocol === 'https:' && next.protocol !== 'https:') {
          // Credentials are in play: the rest of the exchange stays encrypted.
          throw new InvalidDataError(
            `The server at ${target.host} redirected from https to an unencrypted address`,
          );
        }
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        target = next;
        continue;
      }
      const ok = status >= 200 && status < 300;
      let bytes: Buffer = Buffer.alloc(0);
      if (method === 'HEAD' || NO_BODY_STATUSES.has(status)) response.resume();
      else if (init.readBody === false) response.destroy();
      else {
        try {
          bytes = await readBody(
            response,
            ok
              ? { maxBytes: init.maxBodyBytes, truncate: false }
              : { maxBytes: Math.min(init.maxBodyBytes, ERROR_BODY_BYTES), truncate: true },
            target.host,
            signal,
          );
        } catch (error) {
          // Too large, not decodable: the answer's fault. Anything else broke the transfer.
          if (error instanceof InvalidDataError) throw error;
          throw transportError(error, `the server at ${target.host}`, init.timeoutMs);
        }
      }
      return {
        status,
        headers: toHeaders(response),
        url: target.href,
        body: bytes,
        authorized: authorization !== null,
      };
    }
  }

  /** One request; resolves with the response head. A kept-alive socket the server closed is retried once. */
  async #send(
    url: URL,
    request: {
      method: string;
      headers?: Record<string, string>;
      body?: string;
      authorization: string | null;
    },
    init: OutboundRequest,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidDataError(`Only http(s) addresses can be fetched, not ${url.protocol}`);
    }
    const trusted = this.#policy.isTrusted(url);
    if (!trusted) checkLiteral(this.#policy, url.hostname);
    const headers: Record<string, string> = { 'Accept-Encoding': ACCEPT_ENCODING, ...request.headers };
    delete headers.authorization;
    delete headers.Authorization;
    if (request.authorization) headers.Authorization = request.authorization;
    const payload = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    if (payload) headers['Content-Length'] = String(payload.length);
    const protocol = url.protocol as 'http:' | 'https:';
    const transport = protocol === 'https:' ? https : http;
    const agent = (trusted ? this.#trustedAgents : this.#agents)[protocol];

    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<IncomingMessage>((resolve, reject) => {
          const req = transport.request(url, {
            method: request.method,
            headers,
            agent,
            signal,
            ...(trusted || this.#policy.allowsEverything ? {} : { lookup: this.#lookup }),
          });
          req.once('response', resolve);
          req.once('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
          req.end(payload);
        });
      } catch (error) {
        if (error instanceof DestinationNotAllowedError) throw error;
        const { code, reusedSocket } = error as { code?: string; reusedSocket?: boolean };
        if (attempt === 0 && reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && !signal.aborted) {
          continue;
        }
        throw transportError(error, `the server at ${url.host}`, init.timeoutMs);
      }
    }
  }

  /** Closes kept-alive connections (shutdown, tests). */
  close(): void {
    for (const agent of [...Object.values(this.#agents), ...Object.values(this.#trustedAgents)])
      agent.destroy();
  }
}

function redirectTarget(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new InvalidDataError(`The server at ${base.host} redirected to an address that is not a URL`);
  }
}

function toHeaders(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      try {
        headers.append(name, one);
      } catch {
        // A header Headers cannot hold is one we have no use for.
      }
    }
  }
  return headers;
}
