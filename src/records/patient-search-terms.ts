/**
 * Exact-match search terms for the patient blind indexes (blind-index.ts HMACs them; no term
 * is stored in clear). The record side (`patientSearchTerms`, from a Patient resource) and the
 * query side (`identifierTerm`, `nameBirthDateTerm`, from what a user typed) share one
 * normalization, so a search finds a patient exactly when the normalized strings are equal:
 *
 * - identifier: `<system>|<value>` like a FHIR token search
 *   (http://hl7.org/fhir/R4/search.html#token), system and value trimmed, value case kept
 *   (identifiers are case-sensitive); also `|<value>`, so a value alone finds it too.
 * - name + birth date: `<family>|<first given>|<YYYY-MM-DD>` for each official, usual or
 *   use-less HumanName (http://hl7.org/fhir/R4/datatypes.html#HumanName; nicknames, maiden and
 *   old names are not searched), names folded: Unicode NFKD, diacritics removed, lower case (ß as ss),
 *   punctuation other than hyphen and apostrophe removed, whitespace collapsed (so `José
 *   María` and `jose  maria` agree). Digits stay: Synthea's names carry them (`Marine542`).
 *   Only a full-precision birth date (http://hl7.org/fhir/R4/datatypes.html#date) gives a term.
 */
import type { FhirResource } from './fhir-resource.js';

export interface PatientSearchTerms {
  identifiers: string[];
  nameBirthDates: string[];
}

const FULL_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const SEARCHED_NAME_USES = new Set([undefined, 'official', 'usual']);

/** Folds a name part for comparison; see the module comment. */
export function normalizeNamePart(text: string): string {
  return text
    // Lower case on both sides of NFKD: compatibility forms may decompose to capitals (ℌ → H).
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    // Case folding beyond toLowerCase: ß upper-cases to SS, dotless ı to I.
    .replace(/ß/g, 'ss')
    .replace(/ı/g, 'i')
    // Typographic apostrophes and dashes count as the ASCII ones.
    .replace(/[\u2018\u2019\u02bc\u02b9`\u00b4]/g, "'")
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[^\p{L}\p{N}\s'-]/gu, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?- ?/g, '-')
    .trim();
}

/** `<system>|<value>`, or `|<value>` without a system; identifiers keep their case. */
export function identifierTerm(system: string | undefined, value: string): string {
  return `${(system ?? '').normalize('NFC').trim()}|${value.normalize('NFC').trim()}`;
}

/**
 * `<family>|<given>|<YYYY-MM-DD>`, folded. A birth date that is not a full date yields a term
 * no record has (records index only full dates), so such a search finds nobody.
 */
export function nameBirthDateTerm(family: string, given: string, birthDate: string): string {
  return `${normalizeNamePart(family)}|${normalizeNamePart(given)}|${birthDate.trim()}`;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function objects(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];
}

/** Identifier systems never indexed for value-only search (HL7 US SSN system). */
const NO_VALUE_ONLY_SYSTEMS: ReadonlySet<string> = new Set(['http://hl7.org/fhir/sid/us-ssn']);

export function patientSearchTerms(patient: FhirResource): PatientSearchTerms {
  const identifiers = new Set<string>();
  for (const id of objects(patient.identifier)) {
    if (typeof id.value !== 'string' || id.value.trim() === '') continue;
    const system = typeof id.system === 'string' ? id.system.trim() : '';
    if (system !== '') identifiers.add(identifierTerm(system, id.value));
    // Value-only search is for record numbers typed at a desk. A Social Security number is
    // found only with its system named, so a bare 9-digit guess cannot test who is a patient.
    if (!NO_VALUE_ONLY_SYSTEMS.has(system)) identifiers.add(identifierTerm(undefined, id.value));
  }

  const nameBirthDates = new Set<string>();
  const birthDate = patient.birthDate;
  if (typeof birthDate === 'string' && FULL_DATE.test(birthDate)) {
    for (const name of objects(patient.name)) {
      if (!SEARCHED_NAME_USES.has(name.use as string | undefined)) continue;
      const family = typeof name.family === 'string' ? normalizeNamePart(name.family) : '';
      const given = normalizeNamePart(strings(name.given)[0] ?? '');
      if (family === '' || given === '') continue;
      nameBirthDates.add(`${family}|${given}|${birthDate}`);
    }
  }
  return { identifiers: [...identifiers], nameBirthDates: [...nameBirthDates] };
}
