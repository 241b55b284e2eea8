/**
 * The date that places a resource in time, so a data view can keep only recent records
 * (45 CFR 164.502(b), 164.514(d) minimum necessary: a coder needs this year's encounters, not
 * a lifetime of them). One element per type, tried in order (FHIR R4 element names); the first
 * one present decides, so a later element never rescues an earlier one that holds garbage.
 *
 * `activityYearOf` is stored in clear beside each encrypted resource so the store can narrow a
 * windowed read by year in SQL before decrypting anything. It is never given for a Patient:
 * the only dates a Patient carries are birth and death, and a birth year can identify a person
 * over 89 (45 CFR 164.514(b)(2)(i)(C)).
 *
 * Pure: no clock, no I/O.
 */
import type { FhirResource } from './fhir-resource.js';

/**
 * Where each type keeps its clinical date, as dotted element paths tried in order. Types not
 * listed (Patient, Practitioner, PractitionerRole, Organization, Location, Questionnaire)
 * describe people, places and forms rather than events, and have none.
 */
const CLINICAL_DATE_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  Encounter: ['period.start'],
  Condition: ['recordedDate', 'onsetDateTime', 'onsetPeriod.start'],
  Procedure: ['performedDateTime', 'performedPeriod.start'],
  Observation: ['effectiveDateTime', 'effectivePeriod.start', 'effectiveInstant', 'issued'],
  MedicationRequest: ['authoredOn'],
  AllergyIntolerance: ['recordedDate', 'onsetDateTime', 'onsetPeriod.start'],
  Coverage: ['period.start'],
  Claim: ['created'],
  ServiceRequest: ['authoredOn', 'occurrenceDateTime', 'occurrencePeriod.start'],
  DocumentReference: ['date', 'context.period.start'],
  Appointment: ['start', 'created'],
  Slot: ['start'],
  Schedule: ['planningHorizon.start'],
  QuestionnaireResponse: ['authored'],
  Consent: ['dateTime'],
};

/** The element paths `clinicalDateOf` reads for a type, in order; empty when it has none. */
export function clinicalDateElements(type: string): readonly string[] {
  return Object.hasOwn(CLINICAL_DATE_ELEMENTS, type) ? (CLINICAL_DATE_ELEMENTS[type] ?? []) : [];
}

/** Whether resources of this type can carry a clinical date (a view may window only these). */
export function hasClinicalDate(type: string): boolean {
  return clinicalDateElements(type).length > 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a dotted path through single objects (these date elements are never arrays). */
function valueAt(resource: Record<string, unknown>, path: string): unknown {
  let at: unknown = resource;
  for (const step of path.split('.')) {
    if (!isObject(at) || !Object.hasOwn(at, step)) return undefined;
    at = at[step];
  }
  return at;
}

/**
 * The text of the resource's clinical date, as stored (not checked: `fhirDateStart` does
 * that), or undefined when its type has none or none of its date elements is present. An
 * element present with a value that is not a string decides too: undefined, not the next one.
 */
export function clinicalDateOf(resource: FhirResource): string | undefined {
  if (!isObject(resource)) return undefined;
  for (const path of clinicalDateElements(resource.resourceType)) {
    const value = valueAt(resource, path);
    if (value === undefined || value === null) continue;
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

// FHIR R4 date, dateTime and instant (datatypes.html#primitive): YYYY, YYYY-MM, YYYY-MM-DD, or
// a full date and time, which SHALL carry a zone (Z or +hh:mm / -hh:mm up to 14:00). Seconds
// may be 60 (a leap second).
const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/**
 * The earliest instant (ms since the epoch) a FHIR date, dateTime or instant can denote, or
 * undefined when the text is not one. A partial date counts from its start ("2023" is
 * 2023-01-01, "2023-05" is 2023-05-01) and a date without a time is read in UTC: FHIR dates
 * carry no zone, and one fixed reading keeps a window and the stored year in agreement.
 * Fractions beyond milliseconds are cut, not rounded, so the instant is never later than
 * the one written.
 */
export function fhirDateStart(text: string): number | undefined {
  const m = FHIR_DATE.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, hh, mi, ss, fraction, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const hour = hh === undefined ? 0 : Number(hh);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = ss === undefined ? 0 : Number(ss);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (om > 59 || oh * 60 + om > 14 * 60) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, ms);
  return at.getTime() - offsetMinutes * 60_000;
}

/** The earliest instant of the resource's clinical date, or undefined (none, or unreadable). */
export function clinicalInstantOf(resource: FhirResource): number | undefined {
  const text = clinicalDateOf(resource);
  return text === undefined ? undefined : fhirDateStart(text);
}

/**
 * The UTC year of the resource's clinical instant, for the store's clear `activity_year`
 * column; undefined for a Patient, for types without a clinical date, and for unreadable dates
 * (such rows are never fetched under a window, which would exclude them anyway). The year is
 * that of the same instant `applyView` compares, so narrowing by year in SQL never drops a
 * resource the window keeps: "2023-12-31T23:00:00-05:00" is 2024.
 */
export function activityYearOf(resource: FhirResource): number | undefined {
  if (!isObject(resource) || resource.resourceType === 'Patient') return undefined;
  const instant = clinicalInstantOf(resource);
  return instant === undefined ? undefined : new Date(instant).getUTCFullYear();
}
