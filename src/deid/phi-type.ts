/**
 * The identifier types Ward detects: the 18 Safe Harbor categories of 45 CFR 164.514(b)(2)(i),
 * split where one category holds several kinds (B: LOCATION; C: DATE and AGE; D/E: PHONE, FAX).
 * These names are part of the `ward deid` contract (docs DESIGN.md): never rename one.
 */
export const PHI_TYPES = [
  'NAME', // (A) names
  'DATE', // (C) all elements of dates except year
  'AGE', // (C) ages over 89
  'LOCATION', // (B) geographic subdivisions smaller than a state, ZIP codes; facility names
  'PHONE', // (D) telephone numbers
  'FAX', // (E) fax numbers
  'EMAIL', // (F) electronic mail addresses
  'SSN', // (G) social security numbers
  'MRN', // (H) medical record numbers
  'HEALTH_PLAN', // (I) health plan beneficiary numbers
  'ACCOUNT', // (J) account numbers
  'LICENSE', // (K) certificate/license numbers
  'VEHICLE', // (L) vehicle identifiers and serial numbers, license plates
  'DEVICE', // (M) device identifiers and serial numbers
  'URL', // (N) web URLs
  'IP', // (O) IP addresses
  'BIOMETRIC', // (P) biometric identifiers; (Q) full-face photographs
  'OTHER_ID', // (R) any other unique identifying number, characteristic or code
] as const;

export type PhiType = (typeof PHI_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(PHI_TYPES);

export function isPhiType(value: string): value is PhiType {
  return TYPE_SET.has(value);
}
