/**
 * Audit search for privacy officers (45 CFR 164.308(a)(1)(ii)(D) information system activity
 * review). The policy decides who may search and for which purposes; the search itself is
 * audited, and the entry is written before any result leaves: if the audit write fails, the
 * caller gets 503 and no data (fail closed).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../../storage/schema.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { auditEntryOf } from '../../audit/audit-entry-of.js';
import { auditSearchSchema, searchAuditEntries } from '../../audit/audit-search.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';
import { patientField } from '../route-access.js';

export const auditRoutes: FastifyPluginAsync<{ db: Kysely<WardSchema>; audit: AuditLog }> = async (app, opts) => {
  app.get('/v1/audit/entries', { config: { access: { kind: 'policy', action: 'audit.search', patient: (req) => patientField(req.query) } } }, async (req) => {
    const s = parseInput(auditSearchSchema, req.query, 'search parameters');
    const result = await searchAuditEntries(opts.db, s);
    const details = {
      results: result.entries.length,
      byPatient: s.patient !== undefined,
      byPrincipal: s.principal !== undefined,
      byAction: s.action !== undefined,
      byTime: s.from !== undefined || s.to !== undefined,
    };
    await opts.audit.append(auditEntryOf(req.principal!, 'audit.search', 'success', { ...req.permit!.auditFields, details }, auditContextOf(req)));
    return result;
  });
};
