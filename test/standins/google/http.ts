/** Request and response plumbing shared by the stand-in's OAuth and Calendar API handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A handled request: the parsed URL and the raw body, read once. */
export interface StandinRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

const MAX_BODY_BYTES = 1 << 20;

export async function readRequest(req: IncomingMessage, origin: string): Promise<StandinRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', origin),
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** Thrown by handlers; the server answers it in the Calendar API's error shape. */
export class HttpFailure extends Error {
  readonly status: number;
  /** Google's `errors[0].reason`. */
  readonly reason: string;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, reason = 'invalid', headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.headers = headers;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** `{ error: { errors: [{ domain, reason, message }], code, message } }`, as the Calendar API answers. */
export function sendApiError(res: ServerResponse, failure: HttpFailure): void {
  const domain = failure.reason === 'rateLimitExceeded' && failure.status === 403 ? 'usageLimits' : 'global';
  sendJson(
    res,
    failure.status,
    {
      error: {
        errors: [{ domain, reason: failure.reason, message: failure.message }],
        code: failure.status,
        message: failure.message,
      },
    },
    failure.headers,
  );
}

/** `{ error, error_description }`, as the OAuth endpoints answer. */
export function sendOAuthError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
): void {
  sendJson(res, status, { error, error_description: description });
}

/** The JSON body of an API write; anything else is a 400 as Google answers it. */
export function jsonBody(request: StandinRequest): Record<string, unknown> {
  if (!request.body) return {};
  try {
    const value: unknown = JSON.parse(request.body);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Answered by the 400 below.
  }
  throw new HttpFailure(400, 'Parse Error', 'parseError');
}

export function bearerToken(request: StandinRequest): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}
