import { describe, expect, it } from 'vitest';
import type { FhirResource } from '../fhir-resource.js';
import { safeExpression, validateResource } from './validate-resource.js';

/** Values that must never reach a problem list: each stands for PHI in a bad field. */
const CANARY = 'Qx7Canary';

const patient: FhirResource = {
  resourceType: 'Patient',
  id: 'pat-1',
  name: [{ use: 'official', family: 'Reyes', given: ['Margaret'] }],
  gender: 'female',
  birthDate: '1931-04-17',
};

const encounter: FhirResource = {
  resourceType: 'Encounter',
  id: 'enc-1',
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  subject: { reference: 'Patient/pat-1' },
  period: { start: '2020-01-01T10:00:00Z', end: '2020-01-01T10:30:00Z' },
};

describe('validateResource', () => {
  it('accepts valid resources', () => {
    expect(validateResource(patient)).toEqual([]);
    expect(validateResource(encounter)).toEqual([]);
  });

  it('requires an id that is a FHIR id', () => {
    const { id: _id, ...noId } = patient;
    expect(validateResource(noId as FhirResource)).toEqual(['Patient.id: missing (Ward keeps every resource under its id)']);
    expect(validateResource({ ...patient, id: `${CANARY} with spaces` })).toEqual(['Patient.id: not a FHIR id (1-64 of A-Z a-z 0-9 - .)']);
    expect(validateResource({ ...patient, id: 'x'.repeat(65) })).toHaveLength(1);
    expect(validateResource({ ...patient, id: 42 as unknown as string })).toEqual(['Patient.id: not a FHIR id (1-64 of A-Z a-z 0-9 - .)']);
  });

  it('reports structure, format, cardinality and invariant problems with their paths', () => {
    const problems = validateResource({
      ...patient,
      birthDate: `${CANARY}-04-17`,
      name: [{ family: 'Reyes', given: [42] }],
      contact: [{}],
      deceasedBoolean: 'yes',
      telecom: [{ system: 'phone', value: '   ' }],
    });
    expect(problems).toEqual(expect.arrayContaining([
      'Patient.birthDate: Invalid date format',
      'Patient.name[0].given[0]: Invalid JSON type: expected string, but got number',
      'Patient.telecom[0].value: String must contain non-whitespace content',
      'Patient.deceased[x]: Invalid JSON type: expected boolean, but got string',
    ]));
    expect(problems.some((p) => p.startsWith('Patient.contact[0]: Constraint pat-1 not met'))).toBe(true);
    expect(validateResource({ resourceType: 'Condition', id: 'c1' })).toEqual(['Condition.subject: Missing required property']);
  });

  it('checks required code bindings, which Medplum does not', () => {
    expect(validateResource({ ...encounter, status: `${CANARY}-status` })).toEqual([
      'Encounter.status: code not in the required value set http://hl7.org/fhir/ValueSet/encounter-status',
    ]);
    expect(validateResource({ ...patient, gender: CANARY, name: [{ use: CANARY, family: 'Reyes' }] })).toEqual([
      'Patient.name[0].use: code not in the required value set http://hl7.org/fhir/ValueSet/name-use',
      'Patient.gender: code not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender',
    ]);
    // Inside data types, backbone elements and contained resources too.
    expect(validateResource({
      ...encounter,
      statusHistory: [{ status: 'arrived', period: { start: '2020-01-01' } }, { status: CANARY, period: { start: '2020-01-01' } }],
      contained: [{ resourceType: 'Patient', id: 'p2', telecom: [{ system: CANARY, value: '555' }] }],
    })).toEqual([
      'Encounter.statusHistory[1].status: code not in the required value set http://hl7.org/fhir/ValueSet/encounter-status',
      'Encounter.contained[0].telecom[0].system: code not in the required value set http://hl7.org/fhir/ValueSet/contact-point-system',
    ]);
    // Bindings to systems the definitions do not enumerate (MIME types) are not second-guessed.
    expect(validateResource({
      resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: { reference: 'Patient/pat-1' },
      content: [{ attachment: { contentType: 'text/x-unusual', data: 'AAAA' } }],
    })).toEqual([]);
  });

  it('never echoes a value, even where Medplum quotes one', () => {
    const bad: FhirResource[] = [
      { ...patient, gender: CANARY, birthDate: CANARY, maritalStatus: { text: 7 }, communication: [{ language: { text: CANARY }, preferred: CANARY }] },
      // Medplum: `Unknown data type: <resourceType>`.
      { ...encounter, contained: [{ resourceType: `${CANARY}Type`, id: 'x' }] },
      // Medplum: `Invalid reference: got "<value>"` (a warning, dropped) next to a real error.
      { ...encounter, subject: { reference: `${CANARY} Smith/1` }, period: { start: CANARY } },
      // Medplum throws a plain Error here, not an OperationOutcome.
      { ...patient, _birthDate: CANARY },
      { ...patient, extension: [{ url: `http://example.org/${CANARY}`, valueString: 12 }] },
      { ...patient, identifier: [{ system: `urn:${CANARY} x`, value: 5 }], photo: [{ data: `${CANARY}!!` }] },
      { resourceType: CANARY, id: 'x' },
      { ...patient, id: CANARY.repeat(10) },
    ];
    for (const r of bad) {
      const problems = validateResource(r);
      expect(problems.length, JSON.stringify(problems)).toBeGreaterThan(0);
      expect(problems.join('\n')).not.toContain(CANARY);
      expect(problems.join('\n').toLowerCase()).not.toContain(CANARY.toLowerCase());
    }
    expect(validateResource({ ...encounter, contained: [patient, { resourceType: `${CANARY}Type`, id: 'x' }] })).toEqual([
      'Encounter.contained[1].resourceType: not a FHIR R4 resource type',
    ]);
    expect(validateResource({ ...patient, _birthDate: CANARY })).toEqual(['Patient: the resource is malformed and could not be checked']);
  });

  it('never prints an unknown element\'s name: a mangled export can put a name where a key belongs', () => {
    expect(validateResource({ ...patient, favouriteColour: 'blue' })).toEqual(['Patient.<unknown element>: not an element of this type in FHIR R4']);
    expect(validateResource({ ...patient, Schumm995: 'Gladys682' })).toEqual(['Patient.<unknown element>: not an element of this type in FHIR R4']);
    expect(validateResource({ ...patient, [`${CANARY} Smith`]: 1 })).toEqual(['Patient.<unknown element>: not an element of this type in FHIR R4']);
    const long = `a${'b'.repeat(60)}`;
    expect(safeExpression(`Patient.${long}`, 'Patient')).toBe(`Patient.a${'b'.repeat(31)}...`);
    expect(safeExpression('Claim.diagnosis[0].diagnosis[x]', 'Claim')).toBe('Claim.diagnosis[0].diagnosis[x]');
    expect(safeExpression(undefined, 'Claim')).toBe('Claim');
  });
});
