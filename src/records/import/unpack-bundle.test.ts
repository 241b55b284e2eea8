import { describe, expect, it } from 'vitest';
import { unpackBundle } from './unpack-bundle.js';
import type { BundleEntryOutcome } from './unpack-bundle.js';

const PT = '0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01';
const ENC = '6a1f1e52-2b48-4c8b-8e0b-9a6f9d1c3b02';
const ORG = 'c809c579-2e8f-377c-a6c8-358d22454adb';

function transaction(entries: unknown[], type = 'transaction'): Record<string, unknown> {
  return structuredClone({ resourceType: 'Bundle', type, entry: entries });
}

const patientEntry = {
  fullUrl: `urn:uuid:${PT}`,
  resource: { resourceType: 'Patient', name: [{ family: 'Reyes' }] },
  request: { method: 'POST', url: 'Patient' },
};
const encounterEntry = {
  fullUrl: `urn:uuid:${ENC}`,
  resource: { resourceType: 'Encounter', id: 'enc-7', status: 'finished', class: { code: 'AMB' }, subject: { reference: `urn:uuid:${PT}` } },
  request: { method: 'POST', url: 'Encounter' },
};

function resources(outcomes: BundleEntryOutcome[]): Array<Record<string, unknown>> {
  return outcomes.flatMap((o) => (o.kind === 'entry' ? [o.resource] : []));
}

describe('unpackBundle', () => {
  it('gives entries without id the uuid of their urn:uuid fullUrl and rewrites references to <Type>/<id>', () => {
    const out = unpackBundle(transaction([patientEntry, encounterEntry]), 'b.json');
    expect(out.map((o) => o.location)).toEqual(['b.json#entry[0]', 'b.json#entry[1]']);
    const [patient, encounter] = resources(out);
    expect(patient?.id).toBe(PT);
    // An entry's own id wins over its fullUrl; references to it follow the id.
    expect(encounter?.id).toBe('enc-7');
    expect(encounter?.subject).toEqual({ reference: `Patient/${PT}` });
  });

  it('rewrites references to absolute fullUrls and derives ids from RESTful fullUrls', () => {
    const out = unpackBundle(transaction([
      { fullUrl: 'https://ehr.example/fhir/Patient/p-9', resource: { resourceType: 'Patient' } },
      { resource: { resourceType: 'Condition', id: 'c1', subject: { reference: 'https://ehr.example/fhir/Patient/p-9' } } },
    ], 'collection'), 'c.json');
    const [patient, condition] = resources(out);
    expect(patient?.id).toBe('p-9');
    expect(condition?.subject).toEqual({ reference: 'Patient/p-9' });
  });

  it('refuses entries that are not POST or PUT imports, and entries with no id to keep', () => {
    const out = unpackBundle(transaction([
      patientEntry,
      { request: { method: 'DELETE', url: 'Patient/1' } },
      { request: { method: 'GET', url: 'Patient?name=x' } },
      { resource: { resourceType: 'Patient', id: 'p3' }, request: { method: 'PATCH', url: 'Patient/p3' } },
      { resource: { resourceType: 'Patient', id: 'p4' }, request: { method: 'PUT', url: 'Patient/p4' } },
      { fullUrl: 'urn:oid:1.2.3', resource: { resourceType: 'Patient' }, request: { method: 'POST' } },
      { resource: { resourceType: 'Patient' }, request: { method: 'POST' } },
      { resource: { resourceType: 'Patient', id: 'p5' }, request: { method: 'BREW' } },
      'not an entry',
      { request: { method: 'POST' } },
    ]), 't.json');
    expect(out.map((o) => (o.kind === 'entry' ? 'entry' : o.code))).toEqual([
      'entry',
      'import.unsupported_request',
      'import.unsupported_request',
      'import.unsupported_request',
      'entry',
      'import.missing_id',
      'import.missing_id',
      'import.unsupported_request',
      'import.not_a_resource',
      'import.not_a_resource',
    ]);
    expect(out[1]).toEqual({
      kind: 'invalid', location: 't.json#entry[1]', code: 'import.unsupported_request',
      problems: ['Bundle.entry[1].request.method: only POST and PUT entries are imported; DELETE entries are not carried out'],
    });
  });

  it('refuses response Bundles and unknown Bundle types as a whole', () => {
    expect(unpackBundle(transaction([patientEntry], 'transaction-response'), 'r.json')).toEqual([
      { kind: 'invalid', location: 'r.json', code: 'import.invalid_bundle', problems: ["Bundle.type: transaction-response Bundles hold a server's responses, not data to import"] },
    ]);
    expect(unpackBundle(transaction([patientEntry], 'Qx7Canary'), 'r.json')).toEqual([
      { kind: 'invalid', location: 'r.json', code: 'import.invalid_bundle', problems: ['Bundle.type: not a FHIR R4 Bundle type'] },
    ]);
    expect(unpackBundle(transaction([patientEntry], 'searchset'), 's.json')).toHaveLength(1);
  });

  it('resolves a dangling urn:uuid only when the element allows one resource type (Synthea provider directory)', () => {
    const out = unpackBundle(transaction([
      // PractitionerRole.organization: Reference(Organization) only.
      { fullUrl: 'urn:uuid:11111111-2222-3333-4444-555555555555', resource: { resourceType: 'PractitionerRole', organization: { reference: `urn:uuid:${ORG}` } } },
      // A stated Reference.type settles it too.
      { resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, focus: [{ reference: `urn:uuid:${ORG}`, type: 'Organization' }] } },
      // Observation.focus is Reference(Any): nothing says what it points at.
      { resource: { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'x' }, focus: [{ reference: `urn:uuid:${ORG}` }] } },
      // Types Ward does not keep are skipped later, whatever they reference.
      { resource: { resourceType: 'Provenance', id: 'pv', target: [{ reference: 'urn:uuid:99999999-2222-3333-4444-555555555555' }] } },
    ]), 'p.json');
    const [role, o1] = resources(out);
    expect(role?.organization).toEqual({ reference: `Organization/${ORG}` });
    expect(o1?.focus).toEqual([{ reference: `Organization/${ORG}`, type: 'Organization' }]);
    expect(out[2]).toEqual({
      kind: 'invalid', location: 'p.json#entry[2]', code: 'import.unresolved_reference',
      problems: ['Observation.focus[0]: urn: reference matches no entry of this Bundle (http://hl7.org/fhir/R4/bundle.html#references)'],
    });
    expect(out[3]?.kind).toBe('entry');
  });

  it('refuses a second entry with the same fullUrl (bdl-7)', () => {
    const out = unpackBundle(transaction([patientEntry, patientEntry]), 'd.json');
    expect(out.map((o) => (o.kind === 'entry' ? 'entry' : o.code))).toEqual(['entry', 'import.invalid_bundle']);
  });
});
