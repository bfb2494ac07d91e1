/**
 * The application's one error type: a code from the API contract (docs/API.md), the HTTP status
 * that code travels with, and a sentence for a person. Use cases throw it; the API's error
 * middleware and the web pages render it. Anything else thrown is unexpected and never shown.
 */

export type ErrorCode =
  | 'validation_failed'
  | 'malformed_json'
  | 'invalid_oauth_state'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'already_exists'
  | 'slot_unavailable'
  | 'invalid_state'
  | 'link_used'
  | 'link_revoked'
  | 'invalid_credentials'
  | 'provider_unreachable'
  | 'invalid_feed'
  | 'destination_not_allowed'
  | 'provider_not_configured'
  | 'no_availability_source'
  | 'rate_limited'
  | 'dependency_unavailable';

export interface FieldProblem {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found.`);

export const validationFailed = (fields: FieldProblem[], message = 'The request is not valid.') =>
  new AppError(400, 'validation_failed', message, { fields });

export const invalidState = (message: string) => new AppError(409, 'invalid_state', message);

/**
 * Field problems from a schema library's issues (zod's shape, taken structurally so this module
 * stays free of imports). `prefix` names where the fields live, e.g. "path" for URL parameters.
 */
export function toFieldProblems(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  prefix?: string,
): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}
