import { describe, expect, it } from 'vitest';
import { activityYearOf, clinicalDateElements, clinicalDateOf, clinicalInstantOf, fhirDateStart, hasClinicalDate } from './clinical-date.js';
import { SUPPORTED_RESOURCE_TYPES } from './fhir-resource.js';
import type { FhirResource } from './fhir-resource.js';

const r = (resourceType: string, fields: Record<string, unknown> = {}): FhirResource => ({ resourceType, id: 'x', ...fields });
const D = '2024-03-05T10:20:30+02:00';

describe('clinicalDateOf, per type', () => {
  it.each([
    ['Encounter', { period: { start: D, end: '2024-03-06' } }],
    ['Condition', { recordedDate: D, onsetDateTime: '2001' }],
    ['Condition', { onsetDateTime: D }],
    ['Condition', { onsetPeriod: { start: D } }],
    ['Procedure', { performedDateTime: D }],
    ['Procedure', { performedPeriod: { start: D, end: '2030' } }],
    ['Observation', { effectiveDateTime: D, issued: '2030-01-01T00:00:00Z' }],
    ['Observation', { effectivePeriod: { start: D } }],
    ['Observation', { effectiveInstant: D }],
    ['Observation', { issued: D }],
    ['MedicationRequest', { authoredOn: D }],
    ['AllergyIntolerance', { recordedDate: D }],
    ['AllergyIntolerance', { onsetDateTime: D }],
    ['Coverage', { period: { start: D } }],
    ['Claim', { created: D, billablePeriod: { start: '1999' } }],
    ['ServiceRequest', { authoredOn: D, occurrenceDateTime: '2030' }],
    ['ServiceRequest', { occurrenceDateTime: D }],
    ['ServiceRequest', { occurrencePeriod: { start: D } }],
    ['DocumentReference', { date: D }],
    ['DocumentReference', { context: { period: { start: D } } }],
    ['Appointment', { start: D, created: '2020' }],
    ['Appointment', { created: D }],
    ['Slot', { start: D }],
    ['Schedule', { planningHorizon: { start: D } }],
    ['QuestionnaireResponse', { authored: D }],
    ['Consent', { dateTime: D }],
  ])('%s %j', (type, fields) => {
    expect(clinicalDateOf(r(type, fields))).toBe(D);
    expect(activityYearOf(r(type, fields))).toBe(2024);
  });

  it('types that describe people, places and forms have none', () => {
    for (const type of ['Patient', 'Practitioner', 'Organization', 'Location', 'PractitionerRole', 'Questionnaire']) {
      expect(hasClinicalDate(type)).toBe(false);
      expect(clinicalDateOf(r(type, { date: D, period: { start: D }, birthDate: '1930-01-01' }))).toBeUndefined();
    }
    const withDates = SUPPORTED_RESOURCE_TYPES.filter(hasClinicalDate);
    expect(withDates).toHaveLength(15);
    expect(clinicalDateElements('toString')).toEqual([]);
  });

  it('never a year for a Patient (a birth year can identify people over 89, 164.514(b)(2)(i)(C))', () => {
    expect(activityYearOf(r('Patient', { birthDate: '1925-04-01', deceasedDateTime: '2024-01-01' }))).toBeUndefined();
  });

  it('the first element present decides, even when it is not a date', () => {
    expect(clinicalDateOf(r('Condition', { recordedDate: 42, onsetDateTime: D }))).toBeUndefined();
    expect(clinicalDateOf(r('Condition', { recordedDate: null, onsetDateTime: D }))).toBe(D);
    expect(clinicalDateOf(r('Observation', { effectivePeriod: { end: D }, issued: '2020-01-01T00:00:00Z' }))).toBe('2020-01-01T00:00:00Z');
    expect(clinicalDateOf(r('Encounter', { period: [{ start: D }] }))).toBeUndefined();
    expect(clinicalDateOf(r('Encounter'))).toBeUndefined();
    expect(activityYearOf(r('Encounter', { period: { start: 'last tuesday' } }))).toBeUndefined();
  });

  it('a value that is not a resource has none', () => {
    expect(clinicalDateOf(null as unknown as FhirResource)).toBeUndefined();
    expect(activityYearOf('Encounter' as unknown as FhirResource)).toBeUndefined();
  });
});

describe('fhirDateStart', () => {
  const utc = (s: string): number => Date.parse(s);
  it('partial dates count from their earliest instant, in UTC', () => {
    expect(fhirDateStart('2023')).toBe(utc('2023-01-01T00:00:00Z'));
    expect(fhirDateStart('2023-05')).toBe(utc('2023-05-01T00:00:00Z'));
    expect(fhirDateStart('2023-05-17')).toBe(utc('2023-05-17T00:00:00Z'));
  });
  it('times with a zone, fractions cut to milliseconds', () => {
    expect(fhirDateStart('2023-05-17T10:00:00Z')).toBe(utc('2023-05-17T10:00:00Z'));
    expect(fhirDateStart('2023-05-17T10:00:00-05:00')).toBe(utc('2023-05-17T15:00:00Z'));
    expect(fhirDateStart('2023-05-17T10:00:00+14:00')).toBe(utc('2023-05-16T20:00:00Z'));
    expect(fhirDateStart('2023-05-17T10:00:00.123999+00:00')).toBe(utc('2023-05-17T10:00:00.123Z'));
    expect(fhirDateStart('2023-05-17T10:00:00.5Z')).toBe(utc('2023-05-17T10:00:00.500Z'));
    expect(fhirDateStart('2016-12-31T23:59:60Z')).toBe(utc('2017-01-01T00:00:00Z'));
  });
  it('years before 100 are not read as 19xx', () => {
    expect(new Date(fhirDateStart('0050-06-01') ?? Number.NaN).getUTCFullYear()).toBe(50);
  });
  it('refuses what is not a FHIR date, dateTime or instant', () => {
    for (const bad of ['', '23', '2023-5', '2023-13', '2023-00', '2023-02-29', '2023-04-31', '0000', '2023-05-17T10:00:00', '2023-05-17T10:00Z', '2023-05-17T24:00:00Z',
      '2023-05-17T10:60:00Z', '2023-05-17T10:00:61Z', '2023-05-17T10:00:00+14:30', '2023-05-17T10:00:00+05:60', '2023-05-17 10:00:00Z', ' 2023', '2023-05-17T10:00:00z', '１２３４']) {
      expect(fhirDateStart(bad), bad).toBeUndefined();
    }
    expect(fhirDateStart('2024-02-29')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(fhirDateStart('2000-02-29')).toBeDefined();
    expect(fhirDateStart('1900-02-29')).toBeUndefined();
  });
});

describe('activityYearOf', () => {
  it('is the UTC year of the instant applyView compares (so a year filter never drops a kept row)', () => {
    expect(activityYearOf(r('Encounter', { period: { start: '2023-12-31T23:00:00-05:00' } }))).toBe(2024);
    expect(activityYearOf(r('Encounter', { period: { start: '2024-01-01T01:00:00+02:00' } }))).toBe(2023);
    expect(activityYearOf(r('Encounter', { period: { start: '2023' } }))).toBe(2023);
    expect(clinicalInstantOf(r('Slot', { start: '2023-07' }))).toBe(Date.parse('2023-07-01T00:00:00Z'));
  });
});
