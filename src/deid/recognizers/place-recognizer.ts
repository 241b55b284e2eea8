import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection } from '../detection.js';
import { LEX_COMMON, LEX_MEDICAL, lexPlaceWords, lexiconOf } from '../lexicon.js';
import type { Recognizer } from '../recognizer.js';
import { CURATED_EPONYMS, eponymUse } from './name-vocabulary.js';
import { STATE_AT_START, STATE_NAMES } from './us-states.js';

/**
 * 45 CFR 164.514(b)(2)(i)(B) cities, towns and counties from the Census Gazetteer. A place is
 * flagged when it is followed by a state ("Akron, OH"), introduced by a location cue ("lives in",
 * "from", "near", "City:"), or has two or more words ("San Antonio"). Everyday and clinical words
 * that are also place names ("Normal", "Mobile") need the state.
 */
const CUE = /\b(?:in|from|near|to|of|at|outside|around|visiting|lives|living|resides|born|moved|city|town|county|address|residence|hometown|located)\s{0,2}:?\s{0,2}(?:(?:our|the)\s{1,2})?$/i;
/** "St. Francis Hospital, Chicago": a place right after a facility word and a comma or dash. */
const FACILITY_BEFORE = /\b(?:hospital|hosp|clinic|center|centre|infirmary|hospice|institute|medical|health|healthcare|memorial|general)\.?\s{0,2}[,(-]\s{0,2}$/i;
/**
 * Short forms of cities that no dictionary lists and that mean nothing else in a note (unlike
 * "LA": Louisiana, left atrium). Capitalised or all capitals only.
 */
const CITY_SHORT_FORMS: ReadonlySet<string> = new Set(['nyc', 'philly', 'nola']);
const MAX_WORDS = 5;
/** A state is not an identifier under Safe Harbor; the Gazetteer also lists counties named after one. */
const STATES: ReadonlySet<string> = new Set(
  STATE_NAMES.toLowerCase()
    .split('|')
    // Also the names of large cities: treated as the city (over-redaction, never under).
    .filter((s) => s !== 'new york' && s !== 'washington'),
);

export const placeRecognizer: Recognizer = {
  name: 'place',
  types: ['LOCATION'],
  detect(ctx: AnalysisContext): Detection[] {
    const { tokens, text, dictionaries: d } = ctx;
    const out: Detection[] = [];
    for (let i = 0; i < tokens.length; i += 1) {
      const t = tokens[i];
      if (t === undefined || !(t.capitalized || t.allCaps) || !t.isWord) continue;
      if (CITY_SHORT_FORMS.has(t.key)) {
        out.push(detection(t.start, t.end, 'LOCATION', 0.8, 'place', { pattern: 'city_short_form' }));
        continue;
      }
      const lex = lexiconOf(t, d.lexicon);
      const maxWords = lexPlaceWords(lex);
      if (maxWords === 0) continue;
      let best = -1;
      let bestKey = '';
      let key = t.key;
      for (let k = i; k < tokens.length && k - i < Math.min(maxWords, MAX_WORDS); k += 1) {
        const cur = tokens[k];
        if (cur === undefined) break;
        if (k > i) {
          const prev = tokens[k - 1];
          if (prev === undefined || !/^[ \t]{1,2}$|^\.[ \t]?$/.test(text.slice(prev.end, cur.start)) || !(cur.capitalized || cur.allCaps)) break;
          key = `${key}${text.slice(prev.end, cur.start).replace(/\s+/g, ' ').toLowerCase()}${cur.key}`;
        }
        if (d.places.has(key)) {
          best = k;
          bestKey = key;
        }
      }
      if (best < 0 || eponymUse(text, tokens, best) || CURATED_EPONYMS.has(bestKey) || STATES.has(bestKey)) continue;
      const last = tokens[best];
      if (last === undefined) continue;
      const words = best - i + 1;
      const stateAfter = STATE_AT_START.test(text.slice(last.end, last.end + 24));
      const window = text.slice(Math.max(0, t.start - 24), t.start);
      const cue = CUE.test(window) || FACILITY_BEFORE.test(window);
      const everyday = words === 1 && (lex & (LEX_COMMON | LEX_MEDICAL)) !== 0;
      let confidence = 0;
      if (stateAfter) confidence = 0.9;
      else if (cue && !everyday) confidence = 0.8;
      else if (words >= 2 && !everyday) confidence = 0.7;
      if (confidence === 0) continue;
      out.push(detection(t.start, last.end, 'LOCATION', confidence, 'place', { pattern: stateAfter ? 'place_before_state' : cue ? 'place_after_cue' : 'multi_word_place' }));
      i = best;
    }
    return out;
  },
};
