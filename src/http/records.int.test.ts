/**
 * Records over HTTP on every database: a scheduler finds a patient and reads them through the
 * `scheduling` view; the response holds only that view's elements, the read is audited with
 * the view and the elements disclosed, and no search term or record value reaches a log line
 * or the audit log. Refusals are problem+json with stable codes.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { audited, everythingWritten, expectProblem } from './testing/http-assertions.js';
import { PURPOSE_HEADER } from './route-access.js';
import { readImportSource } from '../records/import/read-import-source.js';
import { SYNTHEA_BULK } from '../records/testing/records-world.js';

const ALICE = '7bc002fa-dc52-17d6-1563-fd8901826f7d'; // Champlin946 An125, born 1978-05-12
const BOB = 'ca15b832-01e4-41dd-6a52-97bd3e5510cb';
const AFTER_DATA = new Date('2023-04-01T00:00:00.000Z');
const CANARIES = ['Champlin946', 'An125', '999-59-5908', 'Jast432', 'Corrin41'];

interface Bundle { resourceType: string; type: string; total?: number; meta?: { tag?: Array<{ code: string }> }; entry: Array<{ resource: Record<string, unknown> }> }

describe.each(testDialects())('records over HTTP on $name', (dialect: TestDialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  async function world(): Promise<{ w: HttpWorld; scheduler: { token: string; id: string }; coder: { token: string; id: string } }> {
    const hw = await createHttpWorld(dialect);
    w = hw;
    hw.clock.set(AFTER_DATA);
    const report = await hw.importer.import(readImportSource(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz')), { atomic: false, who: SYSTEM_ACTOR });
    expect(report.stored).toBe(13);
    await hw.importer.import(readImportSource(join(SYNTHEA_BULK, 'Encounter.000.ndjson.gz')), { atomic: false, who: SYSTEM_ACTOR });
    await hw.importer.import(readImportSource(join(SYNTHEA_BULK, 'Condition.000.ndjson.gz')), { atomic: false, who: SYSTEM_ACTOR });
    const scheduler = await hw.userWithToken('sched', ['scheduler']);
    const coder = await hw.userWithToken('coder', ['coder']);
    await hw.relationships.add({ principalId: scheduler.id, patientId: ALICE, kind: 'care-team' }, SYSTEM_ACTOR);
    await hw.relationships.add({ principalId: coder.id, patientId: ALICE, kind: 'assigned' }, SYSTEM_ACTOR);
    return { w: hw, scheduler, coder };
  }

  const as = (token: string, purpose?: string): Record<string, string> => ({ authorization: `Bearer ${token}`, ...(purpose !== undefined ? { [PURPOSE_HEADER]: purpose } : {}) });

  it('finds a patient (name + birth date in the body, not the URL) and reads them through the scheduling view', async () => {
    const { w, scheduler } = await world();
    const found = await w.app.inject({ method: 'POST', url: '/v1/patients/_search', headers: as(scheduler.token, 'TREAT'), payload: { family: 'Champlin946', given: 'An125', birthDate: '1978-05-12' } });
    expect(found.statusCode).toBe(200);
    expect(found.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const search = found.json<Bundle>();
    expect(search).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1, meta: { tag: [{ code: 'scheduling' }] } });
    const patient = search.entry[0]!.resource;
    expect(patient.id).toBe(ALICE);
    expect(Object.keys(patient).every((k) => ['resourceType', 'id', 'name', 'telecom', 'birthDate', 'gender', 'communication'].includes(k))).toBe(true);

    const read = await w.app.inject({ method: 'GET', url: `/v1/patients/${ALICE}/records`, headers: as(scheduler.token, 'TREAT') });
    expect(read.statusCode).toBe(200);
    const bundle = read.json<Bundle>();
    expect(bundle.type).toBe('collection');
    const types = new Set(bundle.entry.map((e) => e.resource.resourceType));
    // Encounters and conditions were imported, but scheduling does not need them.
    expect([...types]).toEqual(['Patient']);
    expect(JSON.stringify(bundle)).not.toContain('999-59-5908'); // the SSN identifier is outside the view

    const reads = await audited(w, 'patient.read');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ who: { id: scheduler.id }, patient: ALICE, purpose: 'TREAT', outcome: 'success', view: 'scheduling' });
    expect((reads[0] as unknown as { disclosed: string[] }).disclosed).toContain('Patient.name');
    const searches = await audited(w, 'patient.search');
    expect(searches).toMatchObject([{ patient: ALICE, view: 'scheduling', details: { results: 1, by: 'name-birthdate' } }]);
    // No name, SSN or birth date in any log line or audit entry.
    const written = await everythingWritten(w);
    for (const c of [...CANARIES, '1978-05-12']) expect(written).not.toContain(c);
  }, 60_000);

  it('the coding view shows the problem list, not the demographics a scheduler sees', async () => {
    const { w, coder } = await world();
    const read = await w.app.inject({ method: 'GET', url: `/v1/patients/${ALICE}/records`, headers: as(coder.token, 'HPAYMT') });
    expect(read.statusCode).toBe(200);
    const bundle = read.json<Bundle>();
    expect(bundle.meta?.tag?.[0]?.code).toBe('coding');
    expect(bundle.entry.some((e) => e.resource.resourceType === 'Condition')).toBe(true);
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource ?? {};
    expect(patient).not.toHaveProperty('telecom');
    expect(patient).not.toHaveProperty('address');
  }, 60_000);

  it('refuses without a purpose, without a relationship, for unknown and erased patients (problem+json, no PHI)', async () => {
    const { w, scheduler, coder } = await world();
    expectProblem(await w.app.inject({ method: 'GET', url: `/v1/patients/${ALICE}/records`, headers: as(scheduler.token) }), 403, 'policy.purpose_required');
    expectProblem(await w.app.inject({ method: 'GET', url: `/v1/patients/${BOB}/records`, headers: as(coder.token, 'HPAYMT') }), 403, 'policy.no_matching_rule');
    // A permitted principal asking for a patient Ward does not hold: 404, audited as an error.
    await w.relationships.add({ principalId: scheduler.id, patientId: 'no-such-patient', kind: 'care-team' }, SYSTEM_ACTOR);
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/patients/no-such-patient/records', headers: as(scheduler.token, 'TREAT') }), 404, 'records.patient_not_found');
    expectProblem(await w.app.inject({ method: 'POST', url: '/v1/patients/_search', headers: as(scheduler.token, 'TREAT'), payload: { family: 'Champlin946', given: 'An125', birthDate: '12/05/1978' } }), 400, 'request.invalid');
    expectProblem(await w.app.inject({ method: 'POST', url: '/v1/patients/_search', headers: as(scheduler.token, 'TREAT'), payload: { name: 'Champlin946 An125' } }), 400, 'request.invalid');
    await w.records.erasePatient(ALICE, SYSTEM_ACTOR);
    expectProblem(await w.app.inject({ method: 'GET', url: `/v1/patients/${ALICE}/records`, headers: as(scheduler.token, 'TREAT') }), 410, 'records.patient_erased');
    const gone = await w.app.inject({ method: 'POST', url: '/v1/patients/_search', headers: as(scheduler.token, 'TREAT'), payload: { identifier: { value: '999-59-5908' } } });
    expect(gone.json<Bundle>()).toMatchObject({ total: 0, entry: [] });
    const errors = (await audited(w, 'patient.read')).filter((e) => e.outcome === 'error');
    expect(errors.map((e) => e.reason)).toEqual(['records.patient_not_found', 'records.patient_erased']);
    const written = await everythingWritten(w);
    for (const c of CANARIES) expect(written).not.toContain(c);
  }, 60_000);
});
