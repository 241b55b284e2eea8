import type { Principal } from '../auth/principal.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    sessionToken?: string;
  }
}

/** The audit context of a request: its id and the client address (codes only, no PHI). */
export function auditContextOf(req: FastifyRequest): AuditContext {
  return { requestId: req.id, client: req.ip };
}
