import type { Principal } from '../auth/principal.js';
import type { AccessPermit } from '../auth/access-control.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The bearer credential of the request, when it is a session token (for sign-out). */
    sessionToken?: string;
    /** Set on `policy` routes once the policy has permitted the request. */
    permit?: AccessPermit;
  }
}

/** The audit context of a request: its id and the client address (codes only, no PHI). */
export function auditContextOf(req: FastifyRequest): AuditContext {
  return { requestId: req.id, client: req.ip };
}
