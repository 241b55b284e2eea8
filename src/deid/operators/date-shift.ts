import { keyedHash } from '../keyed-hash.js';
import { formatDate, parseDate } from './parsed-date.js';

const DAY_MS = 86_400_000;
/** A leap year, so "2/29" without a year can still be shifted. */
const YEARLESS = 2000;

/**
 * The per-patient shift: 1..364 days, backwards or forwards, from HMAC(key, patient id). Every
 * date of one patient moves by the same amount, so intervals (length of stay, days since
 * surgery) and order survive; without the key the shift cannot be recovered from one known date
 * of another patient.
 */
export function dateShiftDays(key: Uint8Array, patientId: string): number {
  const n = keyedHash(key, 'deid.date_shift', patientId).readUInt32BE(0);
  // Never a multiple of 365 days: a year-less date ("3/4") would come out unchanged.
  const days = Math.min((n % 365) + 1, 364);
  return n & 0x8000_0000 ? -days : days;
}

/** Shifts a date written in any recognised style; undefined when the text is not a date. */
export function shiftDate(text: string, days: number): string | undefined {
  const parsed = parseDate(text);
  if (parsed === undefined) return undefined;
  const { year, month, day, style } = parsed;
  if (month < 1 || month > 12) return undefined;
  if (day === undefined) {
    // Month-granular ("March 2024", "03/2024", "in March"): a shift of days could leave it in the
    // same month, so it moves by whole months instead: at least one, at most eleven (twelve
    // would give the same month back when there is no year).
    const months = Math.sign(days) * Math.min(11, Math.max(1, Math.round(Math.abs(days) / 30.44)));
    const index = (year ?? YEARLESS) * 12 + (month - 1) + months;
    return formatDate({ year: year === undefined ? undefined : Math.floor(index / 12), month: (index % 12) + 1, day: undefined }, style);
  }
  const utc = Date.UTC(year ?? YEARLESS, month - 1, day);
  if (Number.isNaN(utc)) return undefined;
  const shifted = new Date(utc + days * DAY_MS);
  return formatDate(
    {
      year: year === undefined ? undefined : shifted.getUTCFullYear(),
      month: shifted.getUTCMonth() + 1,
      day: day === undefined ? undefined : shifted.getUTCDate(),
    },
    style,
  );
}

/**
 * 45 CFR 164.514(b)(2)(i)(C): "all elements of dates (including year) indicative of such age"
 * (over 89) must be aggregated. A date whose year is more than 89 years before the reference year
 * may be a birth date of someone over 89, so its year cannot be kept either.
 */
export function revealsAgeOver89(year: number | undefined, referenceYear: number): boolean {
  return year !== undefined && referenceYear - year > 89;
}


/** The year of a date, for generalization; undefined when it has none ("3/4", "March 4th"). */
export function yearOf(text: string): number | undefined {
  return parseDate(text)?.year;
}

/**
 * The year of a detected date, reading a 2-digit year after a birth cue (the date recognizer
 * records it as context word "dob") as the past century when the default (19xx for 51-99, 20xx
 * for 00-50) would put the birth after the reference year: "DOB 3/4/31" is 1931, not 2031.
 */
export function yearOfDetected(original: string, contextWord: string | undefined, referenceYear: number): number | undefined {
  const parsed = parseDate(original);
  if (parsed?.year === undefined) return undefined;
  const birth = contextWord !== undefined && /^(?:dob|born|birth)$/.test(contextWord);
  return birth && parsed.style.yearDigits === 2 && parsed.year > referenceYear ? parsed.year - 100 : parsed.year;
}
