/**
 * The one error type for unexpected outcomes. Expected outcomes (a policy decision, a verify
 * verdict) are values; a WardError carries a stable dotted code (`audit.write_failed`) that
 * clients, logs and runbooks can key on. Its message must never contain PHI: it may reach a
 * log line or an HTTP response (as the problem `detail`).
 */
export type ErrorCode = `${string}.${string}`;

export interface WardErrorOptions {
  /** HTTP status to use when this error reaches the HTTP edge. */
  status?: number;
  cause?: unknown;
  /** Extra machine-readable fields (ids and codes only) for the problem document. */
  extra?: Record<string, string | number | boolean>;
}

export class WardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extra: Record<string, string | number | boolean>;

  constructor(code: ErrorCode, message: string, options: WardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WardError';
    this.code = code;
    this.status = options.status ?? 500;
    this.extra = options.extra ?? {};
  }
}

export function isWardError(e: unknown): e is WardError {
  return e instanceof WardError;
}
