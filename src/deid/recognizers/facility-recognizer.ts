import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection } from '../detection.js';
import { LEX_COMMON, LEX_FIRST_NAME, LEX_MEDICAL, lexPlaceWords, lexRank, lexiconOf } from '../lexicon.js';
import type { DeidDictionaries } from '../dictionaries.js';
import type { Recognizer } from '../recognizer.js';
import type { Token } from '../tokenize.js';

/**
 * Facility names: Safe Harbor does not list them, but a hospital or clinic name narrows a patient
 * down (together with a date, often to one person), most de-identification standards (i2b2,
 * PhysioNet) treat them as locations, and 164.514(b)(2)(i)(B) covers the geographic subdivision
 * many carry ("Springfield Clinic"). Typed LOCATION. Three shapes:
 *  - capitalised words ending in a facility word: "Methodist Hospital", "Elm Street Clinic",
 *    "Hospital of the University of Pennsylvania";
 *  - "St./Saint/Mt./Mount + Name": "St. Vincent's", "Mt. Sinai";
 *  - capitalised words after "at", "seen at", "transferred to/from": "seen at Cedar Crest".
 */
/** Nouns that make the capitalised words before them a facility: "Elmwood Hospital". */
const HEADS: ReadonlySet<string> = new Set(
  `hospital hospitals hosp clinic clinics center centre centers ctr infirmary hospice healthcare institute pharmacy
  sanitarium sanatorium surgicenter`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);
/** Words that end a facility name only with a distinctive word before them: "Mass General". */
const WEAK_HEADS: ReadonlySet<string> = new Set(
  `health medical med general memorial university laboratory laboratories labs rehab rehabilitation nursing
  associates partners practice physicians imaging radiology surgery college school group va ymca langone medicine
  pediatrics cardiology oncology orthopedics dermatology obstetrics gynecology dental dentistry vision wellness`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);
/** Facility words that alone say nothing about which facility. */
const GENERIC: ReadonlySet<string> = new Set(
  `the of and at for general regional community county city state university medical health healthcare center centre
  clinic hospital hospitals memorial children's childrens women's womens main north south east west new care urgent
  primary specialty family internal emergency department dept unit floor icu surgery surgical cancer heart eye
  rehabilitation rehab nursing home pediatric pediatrics behavioral mental outpatient inpatient services service
  physicians associates group practice imaging radiology laboratory labs pharmacy hospice va institute school college`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);
/** A phrase with one of these is a role or document, not a place: "Medical Record Number". */
const BREAKERS: ReadonlySet<string> = new Set(
  `record records history number director doctor doctors student students necessity decision decisions assistant
  officer examiner attorney power board license licence insurance billing staff`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);
const CONNECTORS: ReadonlySet<string> = new Set(['of', 'the', 'and', '&', 'for', 'at']);
const SAINTS: ReadonlySet<string> = new Set(['st', 'saint', 'mt', 'mount', 'ste']);
const MOVE_VERBS =
  /\b(?:seen|treated|admitted|transferred|transfer|discharged|referred|sent|followed|presented|presenting|brought|taken|evaluated|hospitalized|managed|operated|delivered|born|died|works?|worked|employed|lives|living|resides|residing|moved|relocated|returned|arrived|visited|visiting|care|surgery|procedure|appointment|appt|clinic|consult|consultation|visit|stay|stayed)\b[^.\n]{0,24}$/i;
const STOP_AFTER_AT: ReadonlySet<string> = new Set(
  `the a an this that his her their home bedside baseline rest night noon midnight times time least most all first last
  once which what risk work school onset birth admission discharge presentation age least january february march april
  may june july august september october november december monday tuesday wednesday thursday friday saturday sunday
  today tonight tomorrow yesterday icu ccu micu sicu nicu picu pacu ed er or mri ct ekg ecg eeg emg pt ot snf ltac
  ltach irf alf bid tid qid prn npo am pm hs`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

const CALENDAR: ReadonlySet<string> = new Set(
  `january february march april may june july august september october november december monday tuesday wednesday
  thursday friday saturday sunday`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** Everyday or clinical word (common-words.ts, ICD-10-CM vocabulary). */
function everyday(t: Token, d: DeidDictionaries): boolean {
  return (lexiconOf(t, d.lexicon) & (LEX_COMMON | LEX_MEDICAL)) !== 0;
}

function properNameAfterIn(t: Token, d: DeidDictionaries): boolean {
  if (t.allCaps || HEADS.has(t.key) || WEAK_HEADS.has(t.key) || GENERIC.has(t.key) || everyday(t, d)) return false;
  if (t.key.split('-').some((part) => GENERIC.has(part) || COMMON_PARTS.has(part))) return false;
  if (/\p{Ll}\p{Lu}/u.test(t.text) || /^\p{Lu}[^-]*-\p{Lu}/u.test(t.text)) return true;
  const lex = lexiconOf(t, d.lexicon);
  return (lex & LEX_FIRST_NAME) !== 0 || lexRank(lex) > 0 || lexPlaceWords(lex) > 0;
}

/** Parts of hyphenated words that make them ordinary: "Follow-up", "Check-in", "Walk-in". */
const COMMON_PARTS: ReadonlySet<string> = new Set(['follow', 'up', 'check', 'in', 'walk', 'drop', 'out', 'step', 'down', 'post', 'pre', 'op', 'non', 'self', 'day', 'long', 'term', 'short']);

/** Abbreviations whose period does not end a sentence: "St. Vincent's", "Mt. Sinai", "Univ. Hosp.". */
const ABBREVIATIONS: ReadonlySet<string> = new Set(['st', 'saint', 'mt', 'mount', 'ste', 'ft', 'univ', 'med', 'ctr', 'hosp', 'gen', 'mem', 'assoc', 'dept']);

function joinable(text: string, a: Token, b: Token): boolean {
  const g = text.slice(a.end, b.start);
  if (/^(?:['’]s?)?[ \t]{1,2}$/.test(g) || g === '-' || /^[ \t]{1,2}&[ \t]{1,2}$/.test(g)) return true;
  // A period joins only after an abbreviation or an initial; otherwise it ends the sentence
  // ("... Health Care. Call us" must not swallow "Call").
  return /^\.[ \t]{1,2}$/.test(g) && (ABBREVIATIONS.has(a.key) || a.text.length === 1);
}

function nameWord(t: Token): boolean {
  return (t.capitalized || t.allCaps) && t.isWord;
}

function span(ctx: AnalysisContext, first: number, last: number, confidence: number, pattern: string): Detection | undefined {
  const a = ctx.tokens[first];
  const b = ctx.tokens[last];
  if (a === undefined || b === undefined) return undefined;
  // Keep a possessive ("St. Vincent's") inside the span.
  const tail = ctx.text.slice(b.end, b.end + 2);
  const end = /^['’]s/.test(tail) ? b.end + 2 : b.end;
  return detection(a.start, end, 'LOCATION', confidence, 'facility', { pattern });
}

/** Capitalised words (and connectors between them) ending at token `head`, read backwards. */
function extendBack(ctx: AnalysisContext, head: number, limit: number): number {
  const { tokens, text } = ctx;
  let first = head;
  for (let k = head - 1; k >= 0 && head - k <= limit; k -= 1) {
    const t = tokens[k];
    const next = tokens[k + 1];
    if (t === undefined || next === undefined || !joinable(text, t, next)) break;
    if (nameWord(t) && !STOP_AFTER_AT.has(t.key)) first = k;
    else if (!(CONNECTORS.has(t.key) && k > 0)) break;
  }
  // Never start on a connector.
  while (first < head && CONNECTORS.has(tokens[first]?.key ?? '')) first += 1;
  return first;
}

function extendForward(ctx: AnalysisContext, from: number, limit: number, allowAny: boolean): number {
  const { tokens, text } = ctx;
  let last = from;
  for (let k = from + 1; k < tokens.length && k - from <= limit; k += 1) {
    const t = tokens[k];
    const prev = tokens[k - 1];
    if (t === undefined || prev === undefined || !joinable(text, prev, t)) break;
    if (nameWord(t) && (allowAny || HEADS.has(t.key) || WEAK_HEADS.has(t.key)) && !CALENDAR.has(t.key)) last = k;
    else if (CONNECTORS.has(t.key)) {
      // "of the North": connectors may follow each other, but the phrase must end on a name word.
      let j = k + 1;
      while (CONNECTORS.has(tokens[j]?.key ?? '') && j - k < 3) j += 1;
      const after = tokens[j];
      if (after === undefined || !nameWord(after)) break;
    } else break;
  }
  return last;
}

function distinctive(ctx: AnalysisContext, first: number, last: number): boolean {
  for (let k = first; k <= last; k += 1) if (BREAKERS.has(ctx.tokens[k]?.key ?? '')) return false;
  for (let k = first; k <= last; k += 1) {
    const t = ctx.tokens[k];
    if (t !== undefined && !GENERIC.has(t.key) && !CONNECTORS.has(t.key)) return true;
  }
  return false;
}

function hasBreaker(ctx: AnalysisContext, first: number, last: number): boolean {
  for (let k = first; k <= last; k += 1) if (BREAKERS.has(ctx.tokens[k]?.key ?? '')) return true;
  return false;
}

export const facilityRecognizer: Recognizer = {
  name: 'facility',
  types: ['LOCATION'],
  detect(ctx: AnalysisContext): Detection[] {
    const { tokens, text, dictionaries: d } = ctx;
    const out: Detection[] = [];
    let coveredUntil = -1;
    for (let i = 0; i < tokens.length; i += 1) {
      const t = tokens[i];
      if (t === undefined || i <= coveredUntil) continue;
      const prev = tokens[i - 1];
      if (nameWord(t) && (HEADS.has(t.key) || WEAK_HEADS.has(t.key))) {
        const first = extendBack(ctx, i, 5);
        const last = extendForward(ctx, i, 6, true);
        if (first < i || last > i) {
          if (distinctive(ctx, first, last) || (HEADS.has(t.key) && !hasBreaker(ctx, first, last))) {
            const det = span(ctx, first, last, 0.88, 'facility_head_word');
            if (det !== undefined) out.push(det);
            coveredUntil = last;
            continue;
          }
        }
      }
      if (nameWord(t) && SAINTS.has(t.key)) {
        const next = tokens[i + 1];
        if (next !== undefined && nameWord(next) && joinable(text, t, next) && !/[.!?]\s*$/.test(text.slice(Math.max(0, t.start - 3), t.start))) {
          const last = extendForward(ctx, i + 1, 4, false);
          const det = span(ctx, i, last, 0.85, 'saint_or_mount');
          if (det !== undefined) out.push(det);
          coveredUntil = last;
          continue;
        }
      }
      const cueWord = prev?.key;
      if (prev !== undefined && (cueWord === 'at' || cueWord === 'from' || cueWord === 'to' || cueWord === 'in') && nameWord(t) && !STOP_AFTER_AT.has(t.key)) {
        // "treated in Cedars-Sinai", "seen in BronxCare", "seen in Mercy West"; but "seen in
        // Cardiology", "admitted in DKA", "seen in Follow-up", "evaluated in Triage": after "in"
        // the word must look like a proper name (inner capital, two capitalised halves, or a
        // name or place from the dictionaries) and be no department, acronym, everyday or
        // clinical word, nor have such a part. (Checked first: it is cheaper than MOVE_VERBS.)
        if (cueWord === 'in' && !properNameAfterIn(t, d)) continue;
        const moved = MOVE_VERBS.test(text.slice(Math.max(0, prev.start - 40), prev.start));
        if (cueWord !== 'at' && !moved) continue;
        // A bare "at" needs the word to be no everyday or clinical word ("at Baseline").
        if (cueWord === 'at' && !moved && everyday(t, d)) continue;
        if (t.allCaps && t.text.length < 3) continue;
        const last = extendForward(ctx, i, 4, true);
        // "at John Hopkins Hospital": ending on a facility word is as strong as the head-word rule.
        const headed = HEADS.has(tokens[last]?.key ?? '');
        const det = span(ctx, i, last, headed ? 0.88 : 0.7, headed ? 'facility_head_word' : 'after_location_cue');
        if (det !== undefined) out.push(det);
        coveredUntil = last;
      }
    }
    return out;
  },
};
