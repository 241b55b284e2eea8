/**
 * Every route declares who may reach it, in its Fastify `config.access`; a route without a
 * declaration is refused when the server is built, so nothing is reachable by omission.
 *
 * - `public`: no credential (health checks, sign-in).
 * - `self`: any authenticated principal acting on its own account (sign-out, password,
 *   second factor); `pending` lets an account that must still change its one-time password or
 *   enroll a factor through; `sessionOnly` restricts the route to people with a session.
 * - `policy`: the policy file decides `action` for the principal, the stated purpose of use
 *   and, when the route concerns a patient, that patient (the `patient` extractor).
 */
import type { FastifyRequest } from 'fastify';

export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'self'; pending?: boolean; sessionOnly?: boolean }
  | { kind: 'policy'; action: string; patient?: (req: FastifyRequest) => string | undefined };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** The header a caller states its purpose of use in (HL7 v3 PurposeOfUse code). */
export const PURPOSE_HEADER = 'x-purpose-of-use';

/** A patient id given in a query string or JSON body field `patient`, for `policy` routes. */
export function patientField(container: unknown): string | undefined {
  const p = (container as Record<string, unknown> | undefined)?.patient;
  return typeof p === 'string' && p !== '' ? p : undefined;
}
