import type { DeidDictionaries } from '../dictionaries.js';
import { keyedHash, keyedIndex } from '../keyed-hash.js';
import type { PhiType } from '../phi-type.js';
import { dateShiftDays, revealsAgeOver89, shiftDate, yearOf, yearOfDetected } from './date-shift.js';
import { formatPreserving } from './format-preserving.js';
import { generalizeZip } from './generalize-operator.js';
import { normalizeOriginal, type Operator } from './operator.js';

export interface SurrogateOptions {
  /** The deployment's de-identification secret (at least 32 bytes). */
  readonly key: Uint8Array;
  /** Surrogates are consistent per patient: same key + patient + original = same surrogate. */
  readonly patientId: string;
  readonly dictionaries: DeidDictionaries;
  /** The year ages are measured from (the note's date, or the current year at the edge). Passed in: the engine reads no clock. */
  readonly referenceYear: number;
}

const TITLE_WORDS = /^(?:dr|mr|mrs|ms|miss|mx|prof|doctor|nurse)\.?$/i;
const FACILITY_TAIL = /\b(Hospital|Clinic|Medical Center|Health Center|Center|Infirmary|Hospice|Institute|Pharmacy)\b\.?$/;
const STREET = /^\d/;

function matchCase(word: string, like: string): string {
  if (like.length > 1 && like === like.toUpperCase()) return word.toUpperCase();
  if (like === like.toLowerCase()) return word.toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function pick(list: readonly string[], fallback: readonly string[], key: Uint8Array, ...parts: readonly string[]): string {
  const source = list.length > 0 ? list : fallback;
  return source[keyedIndex(key, source.length, ...parts)] ?? 'x';
}

const FALLBACK_FIRST = ['alex', 'jordan', 'casey', 'morgan', 'riley', 'taylor', 'jamie', 'avery'];
const FALLBACK_LAST = ['lane', 'archer', 'whitfield', 'corley', 'dunmore', 'ashby', 'penrose', 'kimball'];
const FALLBACK_PLACE = ['riverton', 'fairview', 'lakeside', 'millbrook', 'oakdale', 'westfield'];

/**
 * Realistic surrogates, consistent per patient: each word of a name maps on its own (so "John
 * Smith" and later "Mr. Smith" stay the same person), dates move by the patient's shift,
 * identifiers keep their shape with new characters, contact details point at reserved
 * documentation ranges (example.org, 192.0.2.0/24, 2001:db8::/32). The choice is HMAC(key,
 * patient, type, original): deterministic, and not invertible without the key.
 */
export function surrogateOperator(options: SurrogateOptions): Operator {
  const { key, patientId, dictionaries: d } = options;
  const shift = dateShiftDays(key, patientId);
  const referenceYear = options.referenceYear;
  /** Safe Harbor (C): a date (before or after the shift) that may reveal an age over 89 is not kept. */
  const surrogateDate = (original: string, contextWord: string | undefined): string => {
    if (revealsAgeOver89(yearOfDetected(original, contextWord, referenceYear), referenceYear)) return '[DATE]';
    const shifted = shiftDate(original, shift);
    if (shifted === undefined) return formatPreserving(key, original, patientId, 'DATE');
    return revealsAgeOver89(yearOf(shifted), referenceYear) ? '[DATE]' : shifted;
  };
  const h = (type: PhiType, original: string): string => keyedHash(key, 'deid.surrogate', patientId, type, normalizeOriginal(original)).toString('hex');

  const nameWord = (word: string): string => {
    if (TITLE_WORDS.test(word)) return word;
    const bare = word.replace(/\.$/, '');
    if (bare.length === 1) return `${String.fromCharCode(65 + keyedIndex(key, 26, 'deid.initial', patientId, bare.toLowerCase()))}${word.endsWith('.') ? '.' : ''}`;
    const isFirst = d.firstNames.has(bare.toLowerCase()) && !d.surnames.has(bare.toLowerCase());
    const chosen = isFirst
      ? pick(d.firstNameList, FALLBACK_FIRST, key, 'deid.first', patientId, bare.toLowerCase())
      : pick(d.surnameList, FALLBACK_LAST, key, 'deid.last', patientId, bare.toLowerCase());
    return matchCase(chosen, bare) + (word.endsWith('.') ? '.' : '');
  };

  return {
    name: 'surrogate',
    replace: ({ original, detection }) => {
      const type = detection.type;
      switch (type) {
        case 'NAME':
          return original.replace(/[\p{L}\p{M}'’-]+\.?/gu, (w) => nameWord(w));
        case 'DATE':
          return surrogateDate(original, detection.explanation.contextWord);
        case 'AGE':
          return '90+';
        case 'LOCATION': {
          const zip = generalizeZip(original, d);
          if (zip !== undefined) return `${zip === '000' ? '000' : zip}${formatPreserving(key, '00', patientId, original)}`;
          const tail = FACILITY_TAIL.exec(original)?.[1];
          if (STREET.test(original)) {
            const n = formatPreserving(key, original.split(/\s/)[0] ?? '100', patientId, 'street');
            return `${n} ${matchCase(pick(d.surnameList, FALLBACK_LAST, key, 'deid.street', patientId, original), 'Aa')} Street`;
          }
          const place = matchCase(pick(d.placeList, FALLBACK_PLACE, key, 'deid.place', patientId, normalizeOriginal(original)), 'Aa');
          const titled = place.replace(/\b\w/g, (c) => c.toUpperCase());
          return tail === undefined ? titled : `${titled} ${tail}`;
        }
        case 'EMAIL':
          return `patient.${h(type, original).slice(0, 8)}@example.org`;
        case 'URL':
          return `https://example.org/${h(type, original).slice(0, 12)}`;
        case 'IP':
          return original.includes(':') ? `2001:db8::${h(type, original).slice(0, 4)}` : `192.0.2.${keyedIndex(key, 254, 'deid.ip', patientId, original) + 1}`;
        case 'SSN':
          // Area 9xx is never issued (SSA): a surrogate SSN can never be a real one.
          return `9${formatPreserving(key, original, patientId, type).slice(1)}`;
        case 'BIOMETRIC':
          return '[BIOMETRIC]';
        case 'PHONE':
        case 'FAX':
        case 'MRN':
        case 'HEALTH_PLAN':
        case 'ACCOUNT':
        case 'LICENSE':
        case 'VEHICLE':
        case 'DEVICE':
        case 'OTHER_ID':
          return formatPreserving(key, original, patientId, type);
      }
    },
  };
}
