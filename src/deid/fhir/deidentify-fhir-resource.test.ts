import { describe, expect, it } from 'vitest';
import { generalizeOperator } from '../operators/generalize-operator.js';
import { placeholderOperator } from '../operators/placeholder-operator.js';
import { surrogateOperator } from '../operators/surrogate-operator.js';
import { testDictionaries } from '../testing/detect-text.js';
import { deidentifyFhirResource } from './deidentify-fhir-resource.js';

const d = testDictionaries();
const KEY = new Uint8Array(32).fill(5);
const note = 'Pt Margaret Reyes seen 3/4/2023 by Dr. Hope Whitaker. Call 612-555-0187.';

/** A synthetic Patient with an identifier of every kind the walker knows (no real person). */
const patient = {
  resourceType: 'Patient',
  id: 'pat-001',
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Margaret Reyes, DOB 1931-04-17</p></div>' },
  extension: [
    { url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'Rose Calloway' },
    { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Maplewood', state: 'MN', country: 'US' } },
  ],
  identifier: [
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }] }, system: 'urn:example:mrn', value: '00482113' },
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] }, system: 'http://hl7.org/fhir/sid/us-ssn', value: '512-44-8830' },
  ],
  name: [{ use: 'official', family: 'Reyes', given: ['Margaret', 'Ann'], prefix: ['Mrs.'] }],
  telecom: [
    { system: 'phone', value: '612-555-0187', use: 'home' },
    { system: 'email', value: 'm.reyes@example.com' },
  ],
  gender: 'female',
  birthDate: '1931-04-17',
  address: [{ line: ['4500 Quarry Bend Road'], city: 'Maplewood', state: 'MN', postalCode: '55109', country: 'US' }],
  maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'W', display: 'Widowed' }], text: 'Widowed' },
  photo: [{ contentType: 'image/jpeg', data: 'AAAA' }],
  generalPractitioner: [{ reference: 'Practitioner/prac-9', display: 'Dr. Hope Whitaker' }],
};

const documentReference = {
  resourceType: 'DocumentReference',
  id: 'doc-1',
  subject: { reference: 'Patient/pat-001' },
  date: '2023-03-11T10:15:00-05:00',
  content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(note).toString('base64') } }],
};

describe('deidentifyFhirResource', () => {
  it('replaces every identifier element, keeps codes, state and structure, removes photos', () => {
    const { resource, findings } = deidentifyFhirResource(patient, { dictionaries: d, operator: placeholderOperator });
    const json = JSON.stringify(resource);
    for (const phi of ['Reyes', 'Margaret', 'Calloway', '00482113', '512-44-8830', '612-555-0187', 'm.reyes@', 'Quarry', 'Maplewood', '55109', '1931-04-17', 'Whitaker']) {
      expect(json).not.toContain(phi);
    }
    expect(resource.name[0]?.prefix).toEqual(['Mrs.']);
    expect(resource.address[0]?.state).toBe('MN');
    expect(resource.gender).toBe('female');
    expect(resource.maritalStatus.text).toBe('Widowed');
    expect(JSON.stringify(resource.identifier[0]?.type)).toContain('Medical Record Number');
    expect(resource.identifier[0]?.value).toBe('[MRN-1]');
    expect(resource.identifier[1]?.value).toBe('[SSN-1]');
    expect('photo' in resource).toBe(false);
    expect(resource.text.div).toMatch(/^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p>.*<\/p><\/div>$/);
    expect(findings.some((f) => f.type === 'BIOMETRIC')).toBe(true);
    expect(JSON.stringify(findings)).not.toContain('Reyes');
    // The input is not modified.
    expect(patient.name[0]?.family).toBe('Reyes');
  });

  it('generalizes dates to valid FHIR years and ZIPs to ZIP-3', () => {
    const { resource } = deidentifyFhirResource(patient, { dictionaries: d, operator: generalizeOperator(d, { referenceYear: 2000 }) });
    expect(resource.birthDate).toBe('1931');
    expect(resource.address[0]?.postalCode).toBe('551');
  });

  it('removes a birth year that reveals an age over 89 (164.514(b)(2)(i)(C))', () => {
    const { resource } = deidentifyFhirResource(patient, { dictionaries: d, operator: generalizeOperator(d, { referenceYear: 2024 }) });
    expect(resource.birthDate).toBeUndefined();
  });

  it('de-identifies attachment text and pseudonymizes ids and references consistently', () => {
    const options = { dictionaries: d, operator: surrogateOperator({ key: KEY, patientId: 'pat-001', dictionaries: d, referenceYear: 2026 }), idKey: KEY };
    const doc = deidentifyFhirResource(documentReference, options).resource;
    const pat = deidentifyFhirResource(patient, options).resource;
    const text = Buffer.from(doc.content[0]?.attachment.data ?? '', 'base64').toString('utf8');
    expect(text).not.toContain('Margaret');
    expect(text).not.toContain('3/4/2023');
    expect(text).toMatch(/^Pt \S+ \S+ seen \d{1,2}\/\d{1,2}\/\d{4} by Dr\. /);
    expect(doc.subject.reference).toBe(`Patient/${pat.id}`);
    expect(pat.id).not.toBe('pat-001');
    expect(doc.date).toMatch(/^\d{4}-\d{2}-\d{2}T10:15:00-05:00$/);
    expect(doc.date).not.toBe(documentReference.date);
  });
});
