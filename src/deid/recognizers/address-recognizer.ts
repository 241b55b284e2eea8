import type { AnalysisContext } from '../analysis-context.js';
import { LEX_COMMON, LEX_MEDICAL } from '../lexicon.js';
import { before } from '../text-context.js';
import { patternRecognizer } from './pattern-recognizer.js';
import { STATE_CODES, STATE_NAMES } from './us-states.js';

/**
 * 45 CFR 164.514(b)(2)(i)(B): street addresses, PO boxes, counties and ZIP codes (5 digit and
 * ZIP+4). The state is kept (Safe Harbor allows it), so in "Austin, TX 78701" the city and the
 * ZIP are flagged and "TX" is not. Street words must be capitalised or ordinal numbers, so "2
 * weeks ago by Dr" is not an address; a lower-case address needs a full suffix word ("street").
 */
const SUFFIXES = [
  'Street', 'St', 'Avenue', 'Ave', 'Av', 'Road', 'Rd', 'Boulevard', 'Blvd', 'Lane', 'Ln', 'Drive', 'Dr', 'Court', 'Ct',
  'Way', 'Place', 'Pl', 'Terrace', 'Ter', 'Circle', 'Cir', 'Parkway', 'Pkwy', 'Highway', 'Hwy', 'Route', 'Rte',
  'Trail', 'Trl', 'Square', 'Sq', 'Loop', 'Alley', 'Crescent', 'Plaza', 'Pike', 'Row', 'Path', 'Walk', 'Ridge',
  'Grove', 'Heights', 'Hts', 'Commons', 'Mews', 'Turnpike', 'Expressway', 'Causeway', 'Center', 'Crossing', 'Xing',
];
const SUFFIX = SUFFIXES.flatMap((s) => [s, s.toUpperCase()]).join('|');
const UNIT = String.raw`(?:,?\s{1,2}(?:Apt|APT|Apartment|Suite|Ste|STE|Unit|UNIT|Bldg|Building|Fl|Floor|Rm|Room|#)\.?\s{0,2}#?\s{0,2}[A-Za-z0-9-]{1,8})?`;
const DIRECTION = String.raw`(?:[NSEW]\.?|NE|NW|SE|SW|North|South|East|West)`;

const STATE_BEFORE = new RegExp(String.raw`\b(?:${STATE_CODES}|${STATE_NAMES})\.?,?\s{1,2}$`);
/** "ZIP: 02115", "zip code is 02115", "Patient's ZIP is 03601", "postal code of 60614". */
const ZIP_LABEL_BEFORE = /\b(?:zip|zip code|zipcode|postal code|postcode)(?:\s{1,2}(?:is|was|of|code))?\s{0,2}[:#]?\s{0,3}$/;
/** Up to three capitalised (or all-capital) words, then an optional comma, right before a ZIP. */
const WORDS_BEFORE_ZIP = /((?:[A-Z][A-Za-z'.-]{0,30}[ \t]){0,2}[A-Z][A-Za-z'.-]{0,30}),?[ \t]{1,2}$/;

/**
 * "Boston 02115", "Saint Paul, 55101": the words before the number are a Census Gazetteer place.
 * A one-word place that is also an everyday or clinical word ("Room", "Normal") does not count.
 */
function cityBefore(text: string, at: number, context: AnalysisContext): boolean {
  const m = WORDS_BEFORE_ZIP.exec(text.slice(Math.max(0, at - 64), at));
  if (m?.[1] === undefined) return false;
  const words = m[1].split(/[ \t]/);
  const { places, lexicon } = context.dictionaries;
  for (let n = Math.min(3, words.length); n >= 1; n -= 1) {
    const key = words.slice(words.length - n).join(' ').replace(/\.$/, '').toLowerCase();
    if (!places.has(key)) continue;
    if (n === 1 && ((lexicon.get(key) ?? 0) & (LEX_COMMON | LEX_MEDICAL)) !== 0) continue;
    return true;
  }
  return false;
}

export const addressRecognizer = patternRecognizer('address', [
  {
    name: 'street_address',
    regex: new RegExp(
      String.raw`(?<![\w-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s{1,2}(?:${DIRECTION}\s{1,2})?(?:[A-Z0-9][A-Za-z0-9'.-]{0,30}\s{1,2}){1,4}?(?:${SUFFIX})\b\.?(?:\s{1,2}${DIRECTION}\b)?${UNIT}`,
      'g',
    ),
    type: 'LOCATION',
    confidence: 0.9,
    minDigits: 1,
  },
  {
    name: 'street_address_lower_case',
    regex: /(?<![\w-])\d{1,6}\s{1,2}(?:[a-z][a-z'-]{0,30}\s{1,2}){1,3}?(?:street|avenue|road|boulevard|lane|drive|court|terrace|parkway|highway)\b/g,
    type: 'LOCATION',
    confidence: 0.75,
    minDigits: 1,
  },
  {
    name: 'po_box',
    regex: /\b(?:P\.?\s?O\.?\s{0,2}|Post Office\s{1,2})Box\s{0,2}#?\s{0,2}\d{1,8}\b/gi,
    type: 'LOCATION',
    confidence: 0.9,
    minDigits: 1,
  },
  {
    // Digits first, context checked after: a look-behind at every position costs more.
    name: 'zip_after_state_or_label',
    regex: /(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])/g,
    type: 'LOCATION',
    confidence: 0.95,
    minDigitRun: 5,
    validate: (m, text, context) => {
      const ctx = text.slice(Math.max(0, m.index - 24), m.index);
      if (STATE_BEFORE.test(ctx)) return { confidence: 0.95, explanation: { contextWord: 'state' } };
      if (ZIP_LABEL_BEFORE.test(before(text, m.index, 28))) return { confidence: 0.95, explanation: { contextWord: 'zip' } };
      if (cityBefore(text, m.index, context)) return { confidence: 0.9, explanation: { contextWord: 'city' } };
      return undefined;
    },
  },
  {
    name: 'zip_plus_four',
    regex: /(?<![\w-])\d{5}-\d{4}(?![\w-])/g,
    type: 'LOCATION',
    confidence: 0.85,
    requiredChars: '-',
    minDigits: 9,
    minDigitRun: 5,
  },
  {
    name: 'county',
    regex: /(?<![\w-])(?:[A-Z][A-Za-z'.-]{1,30}\s{1,2}){1,3}(?:County|Parish|Borough)\b/g,
    type: 'LOCATION',
    confidence: 0.85,
    prefilter: (text) => /County|Parish|Borough/.test(text),
  },
  {
    // "Springfield, IL 62704": the city before a state followed by a ZIP (the ZIP pattern above).
    name: 'city_before_state_zip',
    regex: new RegExp(String.raw`(?<![\w-])[A-Z][A-Za-z'.-]{1,30}(?:\s[A-Z][A-Za-z'.-]{1,30}){0,3}(?=,?\s{1,2}(?:${STATE_CODES}|${STATE_NAMES})\.?,?\s{1,2}\d{5}\b)`, 'g'),
    type: 'LOCATION',
    confidence: 0.9,
    minDigitRun: 5,
  },
]);
