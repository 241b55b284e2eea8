/**
 * Audit search for privacy officers (45 CFR 164.308(a)(1)(ii)(D) information system activity
 * review). The search itself is audited, and the entry is written before any result leaves:
 * if the audit write fails, the caller gets 503 and no data (fail closed).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../../storage/schema.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { auditEntryOf } from '../../audit/audit-entry-of.js';
import type { SessionService } from '../../auth/session-service.js';
import { auditSearchSchema, searchAuditEntries } from '../../audit/audit-search.js';
import { WardError } from '../../shared/ward-error.js';
import { authenticate, requireRole } from '../authenticate.js';
import { auditContextOf } from '../http-context.js';

export const auditRoutes: FastifyPluginAsync<{ db: Kysely<WardSchema>; audit: AuditLog; sessions: SessionService }> = async (app, opts) => {
  app.get('/v1/audit/entries', { preHandler: authenticate({ sessions: opts.sessions }) }, async (req) => {
    await requireRole(req, opts.audit, ['privacy-officer'], 'audit.search');
    const parsed = auditSearchSchema.safeParse(req.query);
    if (!parsed.success) {
      throw new WardError('request.invalid', `invalid search parameters: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`, { status: 400 });
    }
    const s = parsed.data;
    const result = await searchAuditEntries(opts.db, s);
    const p = req.principal!;
    const details = {
      results: result.entries.length,
      byPatient: s.patient !== undefined,
      byPrincipal: s.principal !== undefined,
      byAction: s.action !== undefined,
      byTime: s.from !== undefined || s.to !== undefined,
    };
    await opts.audit.append(auditEntryOf(p, 'audit.search', 'success', { ...(s.patient !== undefined ? { patient: s.patient } : {}), details }, auditContextOf(req)));
    return result;
  });
};
