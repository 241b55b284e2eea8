/**
 * Break-glass over HTTP: open emergency access to one patient (purpose ETREAT or BTG, a
 * written reason), and the review queue privacy officers work through. Both are policy
 * routes: who may open, and who may review, is written in the policy file.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { BreakGlassService } from '../../auth/break-glass-service.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { auditEntryOf } from '../../audit/audit-entry-of.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';
import { patientField } from '../route-access.js';

const openBody = z.object({ patient: z.string().min(1).max(128), reason: z.string().max(4000), minutes: z.number().int().positive().optional() }).strict();
const reviewBody = z.object({ disposition: z.string().min(1).max(32), note: z.string().max(4000).optional() }).strict();
const queueQuery = z.object({ status: z.enum(['pending', 'closed']).optional() }).strict();
const idParams = z.object({ id: z.string().regex(/^bg_[A-Za-z0-9_-]{1,64}$/) }).strict();

export const breakGlassRoutes: FastifyPluginAsync<{ breakGlass: BreakGlassService; audit: AuditLog }> = async (app, opts) => {
  app.post('/v1/break-glass', { config: { access: { kind: 'policy', action: 'break-glass.open', patient: (req) => patientField(req.body) } } }, async (req, reply) => {
    const body = parseInput(openBody, req.body);
    const permit = req.permit!;
    const grant = await opts.breakGlass.open(
      { principal: req.principal!, patient: body.patient, purpose: permit.auditFields.purpose ?? 'ETREAT', reason: body.reason, ...(body.minutes !== undefined ? { minutes: body.minutes } : {}) },
      { rule: permit.decision.ruleId, policy: permit.decision.policyVersion },
      auditContextOf(req),
    );
    return reply.status(201).send({ id: grant.id, patient: grant.patient, purpose: grant.purpose, expiresAt: grant.expiresAt });
  });

  app.get('/v1/break-glass/reviews', { config: { access: { kind: 'policy', action: 'break-glass.review' } } }, async (req) => {
    const q = parseInput(queueQuery, req.query, 'query parameters');
    const items = await opts.breakGlass.queue(q.status !== undefined ? { status: q.status } : {});
    // Reading the queue discloses reasons (free text) to the reviewer: audited with ids only,
    // one entry per grant shown (its patient and id), before the response leaves.
    const p = req.principal!;
    const context = auditContextOf(req);
    await opts.audit.transact(async (_trx, record) => {
      record(auditEntryOf(p, 'break-glass.queue', 'success', { ...req.permit!.auditFields, details: { results: items.length, status: q.status ?? 'pending' } }, context));
      for (const item of items) {
        record(auditEntryOf(p, 'break-glass.reason_read', 'success', { ...req.permit!.auditFields, patient: item.patientId, breakGlass: item.id, resource: { type: 'BreakGlass', id: item.id } }, context));
      }
    });
    return { items };
  });

  app.post('/v1/break-glass/reviews/:id', { config: { access: { kind: 'policy', action: 'break-glass.review' } } }, async (req) => {
    const { id } = parseInput(idParams, req.params, 'path');
    const body = parseInput(reviewBody, req.body);
    return opts.breakGlass.review(id, req.principal!, { disposition: body.disposition, ...(body.note !== undefined ? { note: body.note } : {}) }, auditContextOf(req));
  });
};
