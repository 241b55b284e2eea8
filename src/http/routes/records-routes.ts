/**
 * Records over HTTP (FHIR-shaped JSON): find a patient by identifier or by name and birth
 * date, and read a patient's data through the data view the policy's permit names. Every
 * route states its purpose of use (`X-Purpose-Of-Use`); the decision and then the
 * disclosure (view and elements) are audited before anything is returned.
 *
 * Search terms are PHI, so search is a POST with a JSON body (like FHIR's
 * `POST [base]/Patient/_search`): names and record numbers never sit in a URL, where
 * proxies and browsers keep them.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RecordsService, ReadContext, ViewResult } from '../../records/records-service.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';

const searchBody = z.union([
  z.object({ identifier: z.object({ system: z.string().min(1).max(512).optional(), value: z.string().min(1).max(256) }).strict() }).strict(),
  z.object({ family: z.string().min(1).max(256), given: z.string().min(1).max(256), birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD') }).strict(),
]);
const patientParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id') }).strict();

function readContextOf(req: FastifyRequest): ReadContext {
  const permit = req.permit!;
  return { who: req.principal!, permit: permit.decision, auditFields: permit.auditFields, context: auditContextOf(req) };
}

/** A FHIR R4 searchset Bundle; Ward's own view metadata rides in `meta.tag`. */
function bundleOf(result: ViewResult, type: 'searchset' | 'collection'): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type,
    ...(type === 'searchset' ? { total: result.resources.filter((r) => r.resourceType === 'Patient').length } : {}),
    meta: { tag: [{ system: 'urn:ward:data-view', code: result.view }] },
    entry: result.resources.map((resource) => ({
      fullUrl: `${resource.resourceType}/${resource.id ?? ''}`,
      resource,
      ...(type === 'searchset' ? { search: { mode: 'match' } } : {}),
    })),
  };
}

export const recordsRoutes: FastifyPluginAsync<{ records: RecordsService }> = async (app, opts) => {
  app.post('/v1/patients/_search', { config: { access: { kind: 'policy', action: 'patient.search' } } }, async (req, reply) => {
    const body = parseInput(searchBody, req.body);
    const query = 'identifier' in body
      ? { identifier: { value: body.identifier.value, ...(body.identifier.system !== undefined ? { system: body.identifier.system } : {}) } }
      : { name: { family: body.family, given: body.given, birthDate: body.birthDate } };
    const result = await opts.records.findPatients(query, readContextOf(req));
    return reply.type('application/fhir+json').send(bundleOf(result, 'searchset'));
  });

  app.get('/v1/patients/:id/records', { config: { access: { kind: 'policy', action: 'patient.read', patient: (req) => (req.params as { id?: string }).id } } }, async (req, reply) => {
    const { id } = parseInput(patientParams, req.params, 'path');
    const result = await opts.records.readPatient(id, readContextOf(req));
    return reply.type('application/fhir+json').send(bundleOf(result, 'collection'));
  });
};
