/**
 * RFC 9457 problem details for every HTTP error. The `code` is Ward's stable dotted code;
 * `requestId` lets an operator find the matching (PHI-free) log line. Unexpected errors
 * become a generic 500 with no message, stack or cause: those may carry PHI or internals.
 */
import { isWardError } from '../shared/ward-error.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId: string;
  [extra: string]: string | number | boolean | undefined;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problem(status: number, code: string, requestId: string, detail?: string, extra: Record<string, string | number | boolean> = {}): ProblemDocument {
  return {
    ...extra,
    type: `urn:ward:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    ...(detail !== undefined ? { detail } : {}),
    code,
    requestId,
  };
}

/** Fastify's own errors (body parsing, validation, payload size) carry a statusCode and a code like FST_ERR_CTP_INVALID_MEDIA_TYPE. */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
}

export function problemFromError(error: unknown, requestId: string): ProblemDocument {
  if (isWardError(error)) {
    const status = error.status;
    // 5xx WardErrors keep their code but not their message: it is for logs, not clients.
    return problem(status, error.code, requestId, status >= 500 ? undefined : error.message, error.extra);
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) return problem(500, 'internal.error', requestId);
  if (e.validation !== undefined) return problem(400, 'request.invalid', requestId, 'the request does not match the expected shape');
  if (status === 415) return problem(415, 'request.unsupported_media_type', requestId, 'send application/json');
  if (status === 413) return problem(413, 'request.too_large', requestId, 'the request body is too large');
  // Body parse errors and the like: a fixed detail, since parser messages can quote input.
  return problem(status, 'request.invalid', requestId, 'the request could not be read');
}
