/**
 * The middleware that turns anything thrown into the error body of docs/API.md. An AppError
 * (domain/errors.ts) is answered as it says; so is a framework error about the request itself
 * (Express, body-parser, http-errors: a 4xx status). Nothing unexpected ever becomes a 500: it is
 * logged and answered as 503.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorCode, validationFailed } from '../domain/errors.ts';

/** Errors that mean PostgreSQL or Temporal is not there (connection refused, pool timeout, gRPC unavailable). */
function isDependencyFailure(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|57P0\d|08\d{3}|Connection terminated|connect|UNAVAILABLE|DEADLINE_EXCEEDED|ServiceError|TransportError|timeout/i.test(
    text,
  );
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'not_found', `No route ${req.method} ${req.path}.`));
};

/**
 * The client error a framework raised about the request, as the API answers it; null for anything
 * else. Only errors shaped by http-errors (`expose`) or the router's own decoding failure count: a
 * library's error that merely carries an upstream `status` (a provider's 401) is not the client's.
 */
export function requestError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  const { status, statusCode, expose, type } = (error ?? {}) as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    type?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status > 499 || statusCode !== status) return null;
  // The router's URIError for a path parameter that is not valid percent-encoded UTF-8 ("%zz").
  if (error instanceof URIError)
    return validationFailed(
      [{ path: 'path', message: 'is not valid percent-encoded UTF-8' }],
      'The request path is not valid percent-encoded UTF-8.',
    );
  if (expose !== true) return null;
  if (type === 'entity.parse.failed')
    return new AppError(400, 'malformed_json', 'The request body is not valid JSON.');
  if (status === 413) return new AppError(413, 'payload_too_large', 'The request body is too large.');
  if (status === 415) return unsupportedMediaType();
  // Anything else body-parser raises means the body could not be read: aborted, its length wrong,
  // or its gzip/deflate/brotli encoding broken. No other framework error reaches here.
  return new AppError(400, 'malformed_json', 'The request body could not be read.');
}

export const unsupportedMediaType = () =>
  new AppError(
    415,
    'unsupported_media_type',
    'The request body must be UTF-8 JSON, sent with Content-Type: application/json.',
  );

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const answer = (status: number, code: ErrorCode, message: string, details?: Record<string, unknown>) => {
    if (res.headersSent) return;
    res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
  };
  const known = requestError(error);
  if (known) return answer(known.status, known.code, known.message, known.details);
  const log = (req as { log?: { error: (o: object, m: string) => void } }).log;
  log?.error({ err: error }, isDependencyFailure(error) ? 'dependency failure' : 'unexpected error');
  return answer(
    503,
    'dependency_unavailable',
    'A service this request depends on is unavailable. Try again shortly.',
  );
};
