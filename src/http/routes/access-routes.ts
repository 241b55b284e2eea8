/**
 * Ask before acting: `POST /v1/access/evaluate` answers, for the caller itself, what the
 * policy would decide for an action, the stated purpose of use and a patient, with the rule
 * and obligations (data view, de-identification, human review). Workflows and the console use
 * it to show only what a person may do. The question is audited like any decision.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AccessControl } from '../../auth/access-control.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { auditEntryOf } from '../../audit/audit-entry-of.js';
import { AUDIT_PURPOSE_PATTERN, auditCodeSchema, auditIdSchema } from '../../audit/audit-entry.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';
import { purposeOf } from '../authenticate.js';

const evaluateBody = z.object({ action: auditCodeSchema, patient: auditIdSchema.optional() }).strict();

export const accessRoutes: FastifyPluginAsync<{ access: AccessControl; audit: AuditLog }> = async (app, opts) => {
  app.post('/v1/access/evaluate', { config: { access: { kind: 'self' } } }, async (req) => {
    const body = parseInput(evaluateBody, req.body);
    const purpose = purposeOf(req);
    const p = req.principal!;
    const { decision, relationship } = await opts.access.evaluate({ principal: p, action: body.action, ...(purpose !== undefined ? { purpose } : {}), ...(body.patient !== undefined ? { patient: body.patient } : {}) });
    await opts.audit.append(auditEntryOf(p, 'access.evaluate', 'success', {
      ...(body.patient !== undefined ? { patient: body.patient } : {}),
      ...(purpose !== undefined && AUDIT_PURPOSE_PATTERN.test(purpose) ? { purpose } : {}),
      // A permit that rests on a break-glass grant is flagged like every decision under it.
      ...(decision.effect === 'permit' && decision.breakGlass !== undefined ? { breakGlass: decision.breakGlass } : {}),
      details: { action: body.action, effect: decision.effect, ...(decision.ruleId !== undefined ? { rule: decision.ruleId } : {}) },
    }, auditContextOf(req)));
    return { ...decision, ...(relationship !== undefined ? { relationship } : {}) };
  });
};
