/**
 * Which patient a resource belongs to, following the FHIR R4 Patient compartment
 * (http://hl7.org/fhir/R4/compartmentdefinition-patient.html). Ward encrypts each patient's
 * resources under that patient's data key and erases them together, so every resource in the
 * compartment must name exactly one patient; the rest (practitioners, organizations,
 * locations, questionnaires, slots) is shared directory data.
 *
 * The compartment lists several parameters per type (Condition: patient or asserter); Ward
 * uses only the element that says whose record it is, the primary subject, and requires it
 * to be a literal reference `Patient/<id>` (relative, or absolute ending in `Patient/<id>`,
 * http://hl7.org/fhir/R4/references.html#literal). A missing, conditional (`Patient?...`),
 * logical (identifier only), contained or unresolved `urn:` reference, or one to anything but
 * a Patient (a Group, a Device), is `unresolved`: the importer refuses the resource rather
 * than store a patient's data unattached. For Appointment and Schedule the patient is one
 * participant among practitioners and rooms: with no Patient among them the resource is a
 * provider's (shared); with two different patients, or an actor that may be a patient Ward
 * cannot attach to (`Patient?...`, contained, `urn:`, typed Patient without a reference), it is
 * unresolved. Display-only actors with no type are taken as other parties.
 */
import { FHIR_ID_PATTERN } from './fhir-resource.js';
import type { FhirResource, SupportedResourceType } from './fhir-resource.js';

export type PatientOwner = { kind: 'patient'; patientId: string } | { kind: 'shared' } | { kind: 'unresolved' };

/**
 * How to find the patient of each type Ward keeps: `subject` is the path of the primary
 * subject element (a Reference, or an array of them); `actor` (Appointment, Schedule) is the
 * path of references among which a Patient may be; `shared` types are outside the compartment.
 * Kept in step with Medplum's copy of the CompartmentDefinition by patient-compartment.test.ts.
 */
export const PATIENT_COMPARTMENT_RULES: Readonly<Record<SupportedResourceType, { subject: string } | { actor: string } | 'self' | 'shared'>> = {
  Patient: 'self',
  Encounter: { subject: 'subject' },
  Condition: { subject: 'subject' },
  Procedure: { subject: 'subject' },
  Observation: { subject: 'subject' },
  MedicationRequest: { subject: 'subject' },
  AllergyIntolerance: { subject: 'patient' },
  Coverage: { subject: 'beneficiary' },
  Claim: { subject: 'patient' },
  ServiceRequest: { subject: 'subject' },
  DocumentReference: { subject: 'subject' },
  QuestionnaireResponse: { subject: 'subject' },
  Consent: { subject: 'patient' },
  Appointment: { actor: 'participant.actor' },
  Schedule: { actor: 'actor' },
  Practitioner: 'shared',
  PractitionerRole: 'shared',
  Organization: 'shared',
  Location: 'shared',
  Slot: 'shared',
  Questionnaire: 'shared',
};

/** A relative literal reference to a Patient held here (`Patient/<id>`, optionally versioned). */
const PATIENT_REFERENCE = /^Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
/**
 * An absolute reference to a Patient on some server: `https://other/fhir/Patient/2` is not
 * necessarily this installation's `Patient/2`, and attaching it there would file one
 * hospital's data in another person's chart. Refused (unresolved) rather than guessed.
 */
const ABSOLUTE_PATIENT = /\/Patient\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Every value at a dotted path, flattening arrays on the way (`participant.actor`). */
function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const key of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (typeof v !== 'object' || v === null) continue;
      const child = (v as Record<string, unknown>)[key];
      if (Array.isArray(child)) next.push(...(child as unknown[]));
      else if (child !== undefined) next.push(child);
    }
    current = next;
  }
  return current;
}

type RefKind = { kind: 'patient'; patientId: string } | { kind: 'other' } | { kind: 'unresolved' };

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?/;
const LITERAL = /(?:^|\/)[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * A Reference as a literal Patient reference (`patient`), one that is certainly not a
 * patient (`other`), or one that may be a patient Ward cannot attach to (`unresolved`).
 */
function readReference(value: unknown): RefKind {
  if (typeof value !== 'object' || value === null) return { kind: 'unresolved' };
  const { reference, type } = value as { reference?: unknown; type?: unknown };
  if (typeof reference !== 'string') {
    // Logical (identifier) or display-only: a patient by its stated type, else another party.
    return type === 'Patient' ? { kind: 'unresolved' } : { kind: 'other' };
  }
  const patient = PATIENT_REFERENCE.exec(reference)?.[1];
  if (patient !== undefined) return type === undefined || type === 'Patient' ? { kind: 'patient', patientId: patient } : { kind: 'unresolved' };
  if (ABSOLUTE_PATIENT.test(reference)) return { kind: 'unresolved' };
  const conditional = CONDITIONAL.exec(reference)?.[1];
  if (conditional !== undefined) return conditional === 'Patient' || type === 'Patient' ? { kind: 'unresolved' } : { kind: 'other' };
  // Contained (`#p1`) and `urn:` references may hide a patient; so may anything unparseable.
  return LITERAL.test(reference) && type !== 'Patient' ? { kind: 'other' } : { kind: 'unresolved' };
}

export function patientOf(resource: FhirResource): PatientOwner {
  const rule = (PATIENT_COMPARTMENT_RULES as Readonly<Record<string, (typeof PATIENT_COMPARTMENT_RULES)[SupportedResourceType] | undefined>>)[resource.resourceType];
  // A type Ward does not know is not known to be outside the compartment.
  if (rule === undefined) return { kind: 'unresolved' };
  if (rule === 'shared') return { kind: 'shared' };
  if (rule === 'self') {
    return typeof resource.id === 'string' && FHIR_ID_PATTERN.test(resource.id) ? { kind: 'patient', patientId: resource.id } : { kind: 'unresolved' };
  }
  if ('subject' in rule) {
    const values = valuesAt(resource, rule.subject);
    const only = values.length === 1 ? readReference(values[0]) : { kind: 'unresolved' as const };
    return only.kind === 'patient' ? only : { kind: 'unresolved' };
  }
  // Actor lists: the patient among the participants, if any.
  const patients = new Set<string>();
  for (const actor of valuesAt(resource, rule.actor)) {
    const ref = readReference(actor);
    if (ref.kind === 'unresolved') return { kind: 'unresolved' };
    if (ref.kind === 'patient') patients.add(ref.patientId);
  }
  if (patients.size === 0) return { kind: 'shared' };
  const [patientId] = [...patients];
  return patients.size === 1 && patientId !== undefined ? { kind: 'patient', patientId } : { kind: 'unresolved' };
}
