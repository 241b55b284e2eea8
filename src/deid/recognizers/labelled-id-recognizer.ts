import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection } from '../detection.js';
import type { PhiType } from '../phi-type.js';
import type { Recognizer } from '../recognizer.js';

/**
 * Identifiers introduced by a label ("MRN: 00-482-113", "Member ID XZK 448120931", "Acct #
 * 7781-22", "License plate 7ABC123"): the label decides the Safe Harbor type, the value is the
 * alphanumeric run after it. Covers 164.514(b)(2)(i)(G) SSN, (H) MRN, (I) health plan, (J)
 * account, (K) licence, (L) vehicle, (M) device and (R) other numbers.
 */
const NUM = String.raw`(?:\s?(?:number|num|nbr|no\.?|#|id))?`;
/** Labels whose value is also called a code: "confirmation code", "ref. code", "wristband code". */
const NUM_CODE = String.raw`(?:\.?\s?(?:number|num|nbr|no\.?|#|id|code))?`;
const LABELS: readonly (readonly [string, PhiType])[] = [
  [String.raw`social security${NUM}|ssn|ss#`, 'SSN'],
  [String.raw`medical record${NUM}|med(?:ical)? rec${NUM}|mrn|mr#|mr no\.?|chart${NUM}|record${NUM}|hospital (?:number|no\.?|#)|unit (?:number|no\.?)|patient (?:id|number|no\.?|#)|pt\.? (?:id|#)|emr${NUM}|mr`, 'MRN'],
  [String.raw`member${NUM}|subscriber${NUM}|policy${NUM}|group${NUM}|grp${NUM}|plan${NUM}|insurance${NUM}|ins\.? (?:id|#)|beneficiary${NUM}|medicaid${NUM}|medicare${NUM}|mbi|hicn|claim${NUM}|(?:prior )?auth(?:orization)?${NUM_CODE}|pa (?:number|#)|rx ?bin|rx ?pcn|rx ?grp`, 'HEALTH_PLAN'],
  [String.raw`account${NUM}|acct\.?${NUM}|billing${NUM}|encounter${NUM}|visit${NUM}|fin|csn|invoice${NUM}|har|guarantor${NUM}`, 'ACCOUNT'],
  [String.raw`vin|license plate${NUM}|licence plate${NUM}|plate${NUM}|tag (?:number|no\.?|#)|vehicle${NUM}`, 'VEHICLE'],
  [String.raw`driver'?s licen[cs]e${NUM}|licen[cs]e${NUM}|lic\.?${NUM}|dl${NUM}|certificate${NUM}|cert\.?${NUM}|dea${NUM}|passport${NUM}|state id`, 'LICENSE'],
  [String.raw`serial${NUM}|s\/n|sn|device${NUM}|device identifier|udi|implant${NUM}|lot${NUM}|batch${NUM}|model${NUM}|pacemaker${NUM}|imei|mac address`, 'DEVICE'],
  [String.raw`identifier|id${NUM}|case${NUM}|specimen${NUM}|accession${NUM}|employee${NUM}|badge${NUM}|npi|ref(?:erence)?${NUM_CODE}|confirmation${NUM_CODE}|verification${NUM_CODE}|access code|ticket${NUM}|student${NUM}|tracking${NUM_CODE}|order${NUM}|requisition${NUM}|lab${NUM}|bar ?code${NUM}|wristband${NUM_CODE}|bracelet${NUM_CODE}|kit${NUM}|registry${NUM}|voucher${NUM_CODE}|user ?name|user id|login(?: id)?`, 'OTHER_ID'],
];

const LABEL_RE = new RegExp(`(?<![\\w])(?:${LABELS.map(([p]) => `(${p})`).join('|')})(?![\\w])`, 'gi');
/** Fillers between a label and its value: ": ", "#", "number", "is", "=" (bounded, linear). */
const FILLER = /(?:[\s:#=.-]{1,4}|\s(?:number|num|no\.?|is|was|of|id|on file|reads)\b){0,4}\s{0,2}/y;
/** One run of the value: letters and digits, joined by single "-", "/", "." or "_" ("pt_jsmith_1988"). */
const CHUNK = /[A-Za-z0-9](?:[A-Za-z0-9]|[-/._](?=[A-Za-z0-9])){0,39}/y;

function readChunk(text: string, at: number): string | undefined {
  CHUNK.lastIndex = at;
  return CHUNK.exec(text)?.[0];
}

/** The value after a label: one or more space-separated chunks, at least one with a digit. */
export function readIdValue(text: string, from: number): { start: number; end: number } | undefined {
  FILLER.lastIndex = from;
  const filler = FILLER.exec(text);
  const start = from + (filler?.[0].length ?? 0);
  let end = start;
  let sawDigit = false;
  for (let i = 0; i < 4; i += 1) {
    const at = i === 0 ? start : end + 1;
    if (i > 0 && text.charAt(end) !== ' ') break;
    const chunk = readChunk(text, at);
    if (chunk === undefined) break;
    const digit = /\d/.test(chunk);
    // Later chunks must carry digits ("XZK 448120931"); a word after the id ends it.
    if (i > 0 && !digit) break;
    if (i > 0 && !sawDigit && chunk.length < 2) break;
    if (!digit && (i > 0 || chunk.length > 5 || /[a-z]/.test(chunk))) break;
    sawDigit ||= digit;
    end = at + chunk.length;
  }
  const value = text.slice(start, end);
  // "Group 3", "visit 2021": too short to identify anyone, or a bare year (Safe Harbor keeps it).
  if (!sawDigit || value.replace(/[^A-Za-z0-9]/g, '').length < 3 || /^(?:19|20)\d{2}$/.test(value)) return undefined;
  return { start, end };
}

export const labelledIdRecognizer: Recognizer = {
  name: 'labelled_id',
  types: LABELS.map(([, t]) => t),
  detect(context: AnalysisContext): Detection[] {
    const out: Detection[] = [];
    // Every value read needs a digit (readIdValue): a text without one has no labelled id.
    if (context.features.digits === 0) return out;
    const re = LABEL_RE;
    re.lastIndex = 0;
    let consumed = 0;
    for (let m = re.exec(context.text); m !== null; m = re.exec(context.text)) {
      // "Group #: GRP-55102": the "GRP" inside a value just read is not a new label.
      if (m.index < consumed) continue;
      const group = m.slice(1).findIndex((g) => g !== undefined);
      const entry = LABELS[group];
      if (entry === undefined) continue;
      const label = m[0].toLowerCase();
      // "MR" alone is also the honorific "Mr"; only "MR:" / "MR#" style labels count.
      if (label === 'mr' && !/^\s?[:#]/.test(context.text.slice(m.index + 2, m.index + 4))) continue;
      const value = readIdValue(context.text, m.index + m[0].length);
      if (value === undefined) continue;
      consumed = value.end;
      out.push(
        detection(value.start, value.end, entry[1], 0.9, 'labelled_id', {
          pattern: `label:${entry[1].toLowerCase()}`,
          contextWord: label,
        }),
      );
    }
    return out;
  },
};
