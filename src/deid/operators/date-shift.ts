import { keyedHash } from '../keyed-hash.js';
import { formatDate, parseDate } from './parsed-date.js';

const DAY_MS = 86_400_000;
/** A leap year, so "2/29" without a year can still be shifted. */
const YEARLESS = 2000;

/**
 * The per-patient shift: 1..365 days, backwards or forwards, from HMAC(key, patient id). Every
 * date of one patient moves by the same amount, so intervals (length of stay, days since
 * surgery) and order survive; without the key the shift cannot be recovered from one known date
 * of another patient.
 */
export function dateShiftDays(key: Uint8Array, patientId: string): number {
  const n = keyedHash(key, 'deid.date_shift', patientId).readUInt32BE(0);
  const days = (n % 365) + 1;
  return n & 0x8000_0000 ? -days : days;
}

/** Shifts a date written in any recognised style; undefined when the text is not a date. */
export function shiftDate(text: string, days: number): string | undefined {
  const parsed = parseDate(text);
  if (parsed === undefined) return undefined;
  const { year, month, day, style } = parsed;
  if (month < 1 || month > 12) return undefined;
  const utc = Date.UTC(year ?? YEARLESS, month - 1, day ?? 15);
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

/** The year of a date, for generalization; undefined when it has none ("3/4", "March 4th"). */
export function yearOf(text: string): number | undefined {
  return parseDate(text)?.year;
}
