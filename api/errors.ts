/**
 * The middleware that turns anything thrown into the error body of docs/API.md. An AppError
 * (domain/errors.ts) is answered as it says; nothing unexpected ever becomes a 500: it is logged
 * and answered as 503.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorCode } from '../domain/errors.ts';

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

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const body = (status: number, code: ErrorCode, message: string, details?: Record<string, unknown>) => {
    if (res.headersSent) return;
    res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
  };
  if (error instanceof AppError) return body(error.status, error.code, error.message, error.details);
  // body-parser's errors carry a `type`.
  switch ((error as { type?: string }).type) {
    case 'entity.parse.failed':
      return body(400, 'malformed_json', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return body(413, 'payload_too_large', 'The request body is too large.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return body(415, 'unsupported_media_type', 'The request body must be UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return body(400, 'malformed_json', 'The request body could not be read.');
  }
  const log = (req as { log?: { error: (o: object, m: string) => void } }).log;
  log?.error({ err: error }, isDependencyFailure(error) ? 'dependency failure' : 'unexpected error');
  return body(
    503,
    'dependency_unavailable',
    'A service this request depends on is unavailable. Try again shortly.',
  );
};
