/**
 * HTTP for the CalDAV adapter: Basic auth up front (iCloud's 401 challenge is not a plain Basic one,
 * so waiting for the challenge never works there), our User-Agent and the per-request timeout, all
 * through the outbound client (providers/outbound/: destination policy on every hop, capped bodies,
 * redirects); the statuses that mean the same thing whatever the request (401, 429, 5xx) become
 * typed errors here. tsdav builds and parses the WebDAV XML but hands back raw statuses, so
 * context-dependent statuses (403, 404, 412...) are left to callers.
 *
 * The credentials go to the origins this client trusts: the server URL's, and the ones an answer
 * that came back to our credentials names (the principal and calendar home, e.g. iCloud's partition
 * host, and so the calendars listed there). A redirect never carries them to another origin.
 */
import { type DAVResponse, davRequest } from 'tsdav';
import {
  CredentialsRejectedError,
  InvalidDataError,
  type ProviderError,
  RateLimitedError,
  TransientProviderError,
} from '../errors.ts';
import { retryAfterMs } from '../http-errors.ts';
import { type Outbound, unrestrictedOutbound } from '../outbound/context.ts';
import { type MultistatusResponse, parseMultistatus } from './multistatus.ts';

export interface DavClientOptions {
  username: string;
  password: string;
  timeoutMs: number;
  userAgent: string;
  /** The URL the credentials were given for; its origin receives them. */
  serverUrl?: string | null;
  /** Absent: no destination policy, default body cap (adapters built without configuration). */
  outbound?: Outbound | undefined;
}

/** A fully read response (the timeout covers the body too) and the URL it finally came from. */
export interface Exchange {
  status: number;
  headers: Headers;
  url: string;
  body: string;
  /** Whether the answer was to a request that carried our credentials. */
  authorized: boolean;
}

export interface DavResult {
  status: number;
  headers: Headers;
  /** Where the answer came from after redirects: relative hrefs in it resolve against this. */
  url: string;
  /** For a 207, one entry per <response> that has an href; empty otherwise. */
  responses: DAVResponse[];
  /** The multistatus root (sync-token lives there) for a 207, else the raw body text. */
  raw: unknown;
  /** Whether the answer was to a request that carried our credentials (only such answers are trusted to name hosts). */
  authorized: boolean;
}

/** A multistatus read by multistatus.ts: the object listings (calendar-query, calendar-multiget). */
export interface ObjectsResult {
  status: number;
  /** Where the answer came from after redirects: relative hrefs in it resolve against this. */
  url: string;
  /** For a 207, its responses that have an href; empty otherwise. */
  responses: MultistatusResponse[];
  /** The body text when the status is not 207. */
  raw: string;
}

export interface DavRequestInit {
  method: string;
  depth?: '0' | '1';
  /** xml-js compact form, as tsdav takes it. */
  body: unknown;
  /** Default namespace prefix for unprefixed element names (tsdav: 'd' DAV:, 'c' CalDAV). */
  namespace?: string;
  headers?: Record<string, string>;
}

/**
 * The server asked for credentials on an origin they are not sent to (after a redirect to another
 * host, typically): not a rejection of the credentials, and the user can fix it by naming that host.
 */
export class CredentialsWithheldError extends InvalidDataError {}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export class DavClient {
  readonly username: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #outbound: Outbound;
  readonly #credentialOrigins = new Set<string>();

  constructor(options: DavClientOptions) {
    this.username = options.username;
    this.#authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}`;
    this.#timeoutMs = options.timeoutMs;
    this.#userAgent = options.userAgent;
    this.#outbound = options.outbound ?? unrestrictedOutbound();
    if (options.serverUrl) this.trustOrigin(options.serverUrl);
  }

  /**
   * Sends the credentials to `url`'s origin from now on. For origins the account's own answers
   * name (principal, calendar home, calendars listed there); never for a redirect target.
   */
  trustOrigin(url: string): this {
    try {
      this.#credentialOrigins.add(new URL(url).origin);
    } catch {
      // Not a URL: nothing to trust; the request to it fails on its own.
    }
    return this;
  }

  /** One HTTP exchange; redirects are followed by the outbound client, keeping method and body. */
  async exchange(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<Exchange> {
    const host = hostOf(url);
    const headers: Record<string, string> = { ...init.headers, 'User-Agent': this.#userAgent };
    if (init.body === undefined) {
      for (const name of Object.keys(headers))
        if (name.toLowerCase() === 'content-type') delete headers[name];
    }
    const response = await this.#outbound.client.request(url, {
      method: init.method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      authorization: this.#credentialOrigins.has(originOf(url)) ? this.#authorization : null,
      maxBodyBytes: this.#outbound.maxMultistatusBytes,
      timeoutMs: this.#timeoutMs,
    });
    if (response.status === 401 && !response.authorized) throw withheld(url, response.url);
    const failure = statusError(response.status, response.headers, init.method, hostOf(response.url) || host);
    if (failure) throw failure;
    return {
      status: response.status,
      headers: response.headers,
      url: response.url,
      body: response.body.toString('utf8'),
      authorized: response.authorized,
    };
  }

  /**
   * A REPORT whose XML body the caller wrote and whose multistatus multistatus.ts reads: the large
   * object listings, where tsdav's generic XML reading cost more than the rest of the client's work.
   */
  async report(url: string, body: string): Promise<ObjectsResult> {
    const exchange = await this.exchange(url, {
      method: 'REPORT',
      headers: { Depth: '1', 'Content-Type': 'text/xml;charset=UTF-8' },
      body,
    });
    if (exchange.status !== 207) {
      return { status: exchange.status, url: exchange.url, responses: [], raw: exchange.body };
    }
    if (!/xml/i.test(exchange.headers.get('content-type') ?? '')) {
      throw new InvalidDataError(`CalDAV REPORT at ${hostOf(exchange.url)} answered 207 without XML`);
    }
    return { status: 207, url: exchange.url, responses: parseMultistatus(exchange.body), raw: '' };
  }

  /** A WebDAV request whose XML body tsdav writes and whose multistatus answer tsdav parses. */
  async dav(url: string, init: DavRequestInit): Promise<DavResult> {
    let last: Exchange | null = null;
    // tsdav calls fetch once; we answer with the already-read exchange so that it parses what we read.
    const viaExchange = async (
      input: string | URL | Request,
      requestInit?: RequestInit,
    ): Promise<Response> => {
      const headers: Record<string, string> = {};
      new Headers(requestInit?.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const exchange = await this.exchange(target, {
        method: requestInit?.method ?? 'GET',
        headers,
        ...(typeof requestInit?.body === 'string' ? { body: requestInit.body } : {}),
      });
      last = exchange;
      return new Response(NULL_BODY_STATUSES.has(exchange.status) ? null : exchange.body, {
        status: exchange.status,
        headers: exchange.headers,
      });
    };
    const responses = await davRequest({
      url,
      init: {
        method: init.method as 'PROPFIND',
        namespace: init.namespace ?? 'd',
        headers: { ...(init.depth ? { Depth: init.depth } : {}), ...init.headers },
        body: init.body,
      },
      fetch: viaExchange,
    });
    const exchange = last as Exchange | null;
    if (!exchange) throw new TransientProviderError(`CalDAV request to ${hostOf(url)} was not sent`);
    if (exchange.status !== 207) {
      return {
        status: exchange.status,
        headers: exchange.headers,
        url: exchange.url,
        responses: [],
        raw: exchange.body,
        authorized: exchange.authorized,
      };
    }
    const first = responses[0];
    const multistatus =
      first && typeof first.raw === 'object' && first.raw !== null
        ? (first.raw as { multistatus?: unknown }).multistatus
        : undefined;
    return {
      status: 207,
      headers: exchange.headers,
      url: exchange.url,
      // An empty multistatus comes back from tsdav as one entry without href.
      responses: responses.filter((r) => typeof r.href === 'string' && r.href !== ''),
      raw: multistatus ?? exchange.body,
      authorized: exchange.authorized,
    };
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function withheld(asked: string, answered: string): CredentialsWithheldError {
  const from = hostOf(asked);
  const to = hostOf(answered);
  if (from !== to || originOf(asked) !== originOf(answered)) {
    return new CredentialsWithheldError(
      `The CalDAV server at ${from} redirected to another host; the credentials are only sent to the server they were given for, so enter the address it redirects to as the server URL`,
    );
  }
  return new CredentialsWithheldError(
    `The CalDAV server at ${to} asks for credentials, which are only sent to the server they were given for`,
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The statuses whose meaning does not depend on the request; null for the others. */
function statusError(status: number, headers: Headers, method: string, host: string): ProviderError | null {
  const what = `CalDAV ${method} at ${host} answered ${status}`;
  if (status === 401) return new CredentialsRejectedError(`${what}: the username or password was rejected`);
  if (status === 429 || status === 503) {
    const retryAfter = retryAfterMs(headers.get('retry-after'));
    if (status === 429 || retryAfter !== null) return new RateLimitedError(`${what}: slow down`, retryAfter);
    return new TransientProviderError(what);
  }
  if (status === 408 || (status >= 500 && status <= 599)) return new TransientProviderError(what);
  return null;
}

/** The DAV and CalDAV namespace prefixes our REPORT bodies use. */
export const CALDAV_NS = { 'xmlns:d': 'DAV:', 'xmlns:c': 'urn:ietf:params:xml:ns:caldav' };

/** XML text content: `&`, `<` and `>` escaped (for hrefs in a REPORT body). */
export function xmlText(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

// ---------------------------------------------------------------------------------------------
// Reading tsdav's parsed XML. Element names arrive namespace-less and camelCased; text goes through
// tsdav's nativeType, so "2024" arrives as a number and must be turned back into text.

export function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    const node = value as { _cdata?: unknown; _text?: unknown };
    if (node._cdata !== undefined) return textOf(node._cdata);
    if (node._text !== undefined) return textOf(node._text);
  }
  return null;
}

export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The texts of the `<href>` children of a property element. */
export function hrefsOf(property: unknown): string[] {
  if (!property || typeof property !== 'object') return [];
  return asArray((property as { href?: unknown }).href)
    .map(textOf)
    .filter((h): h is string => h !== null);
}

/** Names of the child elements of a property element (resourcetype, privilege, report...). */
export function childNames(property: unknown): string[] {
  if (!property || typeof property !== 'object') return [];
  return Object.keys(property).filter((k) => !k.startsWith('_'));
}

/** A collection URL always ends with '/', so that relative names resolve inside it. */
export function asCollectionUrl(url: string): string {
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed.href;
}

/** Object key: the href's absolute path, as the server spells it (WHATWG URL keeps its escapes). */
export function pathOf(href: string, base: string): string {
  return new URL(href, base).pathname;
}

/** Path identity across spellings (`%40` vs `@`, trailing slash). */
export function samePath(a: string, b: string): boolean {
  return comparablePath(a) === comparablePath(b);
}

export function comparablePath(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  try {
    return decodeURIComponent(trimmed);
  } catch {
    return trimmed;
  }
}
