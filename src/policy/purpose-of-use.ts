/**
 * Purposes of use Ward accepts: codes of the HL7 v3 PurposeOfUse value set
 * (OID 2.16.840.1.113883.1.11.20448), drawn from the code system v3-ActReason
 * (http://terminology.hl7.org/CodeSystem/v3-ActReason). Every request that may touch PHI states
 * one, so each disclosure can be tied to treatment, payment or operations (45 CFR 164.506) or
 * to another permitted purpose, and the minimum necessary can follow it (164.502(b)).
 *
 * Only real codes are listed (checked against the THO expansion); a code outside this list is
 * refused (`policy.unknown_purpose`), never mapped to a near one. Add a code here (with its
 * HL7 display name) before a policy rule may use it.
 */
export const purposeOfUseDisplay = {
  TREAT: 'treatment',
  ETREAT: 'Emergency Treatment',
  BTG: 'break the glass',
  COC: 'coordination of care',
  CAREMGT: 'care management',
  PATSFTY: 'patient safety',
  HPAYMT: 'healthcare payment',
  CLMATTCH: 'claim attachment',
  COVAUTH: 'coverage authorization',
  ELIGVER: 'eligibility verification',
  REMITADV: 'remittance advice',
  HOPERAT: 'healthcare operations',
  PATADMIN: 'patient administration',
  RECORDMGT: 'records management',
  HSYSADMIN: 'health system administration',
  HQUALIMP: 'health quality improvement',
  HACCRED: 'health accreditation',
  HCOMPL: 'health compliance',
  FRAUD: 'fraud',
  TRAIN: 'training',
  HRESCH: 'healthcare research',
  PATRQT: 'patient requested',
  FAMRQT: 'family requested',
  PWATRNY: 'power of attorney',
  PUBHLTH: 'public health',
  HLEGAL: 'legal',
  HMARKT: 'healthcare marketing',
  DONAT: 'donation',
} as const;

export type PurposeOfUse = keyof typeof purposeOfUseDisplay;

export const purposesOfUse: readonly PurposeOfUse[] = Object.freeze(Object.keys(purposeOfUseDisplay) as PurposeOfUse[]);

const known: ReadonlySet<string> = new Set(purposesOfUse);

export function isPurposeOfUse(v: string): v is PurposeOfUse {
  return known.has(v);
}

/**
 * The purposes that open emergency access (45 CFR 164.312(a)(2)(ii), emergency access
 * procedure): ETREAT (emergency treatment) and BTG (break the glass). A policy rule marked
 * `breakGlass: true` may name only these.
 */
export const BREAK_GLASS_PURPOSES = ['ETREAT', 'BTG'] as const satisfies readonly PurposeOfUse[];
export type BreakGlassPurpose = (typeof BREAK_GLASS_PURPOSES)[number];

export function isBreakGlassPurpose(v: string): v is BreakGlassPurpose {
  return v === 'ETREAT' || v === 'BTG';
}
