import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection } from '../detection.js';
import type { DeidDictionaries } from '../dictionaries.js';
import type { Recognizer } from '../recognizer.js';
import type { Token } from '../tokenize.js';
import {
  FAMILY_CUE_WORDS,
  NAME_CUES,
  NAME_CUE_WORDS,
  TITLES,
  eponymUse,
  isAmbiguous,
  isFirstName,
  isInitial,
  isParticle,
  surnameRank,
} from './name-vocabulary.js';

/**
 * 45 CFR 164.514(b)(2)(i)(A) names of the individual, relatives, employers and household members
 * (and, as most de-identification practice does, of clinicians: they narrow down the patient).
 *
 * A name starts at a seed and grows over the neighbouring name-like words:
 *  - title seed: "Dr. Hill", "mrs o'neil" (any capitalised word, or a dictionary word in lower case);
 *  - cue seed: "Patient: ...", "Dear ...", "his daughter Rose", "Signed by ..." (the line before);
 *  - first-name seed: a first name from the SSA/Census lists that is not an everyday or clinical
 *    word (Hope, Will, Rose need a cue or a neighbouring name);
 *  - surname seed: a common Census surname, capitalised, that is not an everyday or clinical word.
 * Growing accepts initials ("Anna S."), particles ("van der Berg"), hyphens and apostrophes (one
 * token), "Last, First", and lower-case words only when a dictionary knows them. Eponyms ("Foley
 * catheter", "Parkinson's disease") never seed a name.
 */
const SURNAME_MAX_RANK = 40_000;
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  `a an and or of in on at to for with from by is was are were be been he she they his her their this that these
  those it its the as but if then than so no not nor yes we you i me my our your who whom which what when where why
  how all any each per via patient pt re cc attn fwd him them us hers himself herself`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);
const ACRONYM_CAPS_MIN = 3;

function gap(text: string, a: Token, b: Token): string {
  return text.slice(a.end, b.start);
}

/** Two tokens belong to one name when only a space (or an initial's / title's period) separates them. */
function adjacent(text: string, a: Token, b: Token): boolean {
  const g = gap(text, a, b);
  if (/^[ \t]{1,2}$/.test(g)) return true;
  return /^\.[ \t]{0,2}$/.test(g) && (isInitial(a) || TITLES.has(a.key) || isLowerInitial(a));
}

/** "j" of "j. morales": a lower-case letter written as an initial (seeds only after a strong cue). */
function isLowerInitial(t: Token): boolean {
  return t.text.length === 1 && t.isWord && !t.capitalized && /^[a-z]$/.test(t.text);
}

const STRONG_CUE = /[:,]|by|dear|sincerely|regards|name|signed|thanks/i;

/**
 * "Daughter hope", "wife rose", "Son will visit", "Wife is ana", "brother-in-law: Bob": the word
 * right after a relationship word (optionally after "is"/"named"/"called").
 */
function familyCueBefore(text: string, tokens: readonly Token[], i: number): boolean {
  const t = tokens[i];
  const p = tokens[i - 1];
  if (t === undefined || p === undefined) return false;
  if ((p.key === 'is' || p.key === 'named' || p.key === 'called') && /^[ \t]{1,2}$/.test(gap(text, p, t))) {
    const pp = tokens[i - 2];
    if (pp === undefined || !/^[ \t]{1,2}$/.test(gap(text, pp, p))) return false;
    return FAMILY_CUE_WORDS.has(pp.key);
  }
  return FAMILY_CUE_WORDS.has(p.key) && /^[ \t]{0,2}[:,-]?[ \t]{1,3}$/.test(gap(text, p, t));
}

function isTitleToken(text: string, t: Token): boolean {
  if (!TITLES.has(t.key)) return false;
  // "MS" (multiple sclerosis), "DR" in a code: capitals count as a title only with a period.
  return !t.allCaps || text.charAt(t.end) === '.';
}

function lineBefore(text: string, start: number): string {
  const from = Math.max(0, start - 36);
  const chunk = text.slice(from, start);
  const nl = chunk.lastIndexOf('\n');
  return nl >= 0 ? chunk.slice(nl + 1) : chunk;
}

interface Seed {
  readonly confidence: number;
  readonly pattern: string;
  /** Context-backed seeds may grow over capitalised words that no dictionary knows. */
  readonly strong: boolean;
}

function dictionaryHit(t: Token, d: DeidDictionaries): boolean {
  return isFirstName(t, d) || surnameRank(t, d) !== undefined;
}

function seedAt(ctx: AnalysisContext, i: number): Seed | undefined {
  const { text, tokens, dictionaries: d } = ctx;
  const t = tokens[i];
  if (t === undefined || !t.isWord) return undefined;
  if (FUNCTION_WORDS.has(t.key) && !(isInitial(t) && initialHere(text, tokens, i))) return undefined;
  const prev = tokens[i - 1];
  const nameShaped = t.capitalized || isInitial(t);
  if (prev !== undefined && isTitleToken(text, prev) && adjacent(text, prev, t) && (nameShaped || dictionaryHit(t, d))) {
    return { confidence: 0.95, pattern: 'title', strong: true };
  }
  // Recall first: after a relationship word, a first name is a name even when it is an everyday
  // word in lower case ("Daughter hope", "Son will visit"); a surname only when it is not one
  // ("mother is well", "daughter states" stay).
  if ((isFirstName(t, d) || (surnameRank(t, d) !== undefined && (t.capitalized || !isAmbiguous(t, d)))) && !(t.allCaps && t.text.length < ACRONYM_CAPS_MIN) && familyCueBefore(text, tokens, i) && !eponymUse(text, tokens, i)) {
    return { confidence: 0.8, pattern: 'family_cue', strong: false };
  }
  const cueWordBefore = prev !== undefined && NAME_CUE_WORDS.has(prev.key);
  // "Cc: j. morales": a lower-case initial and a known surname after a strong cue.
  if (cueWordBefore && isLowerInitial(t) && text.charAt(t.end) === '.') {
    const next = tokens[i + 1];
    const cue = NAME_CUES.exec(lineBefore(text, t.start));
    if (cue !== null && STRONG_CUE.test(cue[0]) && next !== undefined && adjacent(text, t, next) && dictionaryHit(next, d)) {
      return { confidence: 0.8, pattern: 'cue', strong: true };
    }
  }
  // A lower-case word seeds only as a first name, or after a cue: "pt john smith", "son ed".
  // (Checked in this order so most lower-case words cost one look-up, not two.)
  if (!nameShaped && !isFirstName(t, d) && !(cueWordBefore && surnameRank(t, d) !== undefined)) return undefined;
  if (eponymUse(text, tokens, i)) return undefined;
  const cue = cueWordBefore ? NAME_CUES.exec(lineBefore(text, t.start)) : null;
  if (cue !== null && !isTitleToken(text, t)) {
    const strongCue = STRONG_CUE.test(cue[0]);
    if (strongCue && initialHere(text, tokens, i)) return { confidence: 0.8, pattern: 'cue', strong: true };
    if (dictionaryHit(t, d) && (t.capitalized || !isAmbiguous(t, d))) {
      return { confidence: 0.85, pattern: 'cue', strong: strongCue };
    }
    if (strongCue && t.capitalized && !isAmbiguous(t, d)) return { confidence: 0.8, pattern: 'cue', strong: true };
  }
  if (isAmbiguous(t, d)) {
    // "Jack B.", "Hope T.": an everyday first name followed by an initial.
    const next = tokens[i + 1];
    if (t.capitalized && isFirstName(t, d) && next !== undefined && adjacent(text, t, next) && isInitial(next) && text.charAt(next.end) === '.') {
      return { confidence: 0.7, pattern: 'first_name_initial', strong: false };
    }
    return undefined;
  }
  if (t.allCaps && t.text.length < ACRONYM_CAPS_MIN) return undefined;
  if (isFirstName(t, d)) {
    if (t.capitalized) return { confidence: 0.75, pattern: 'first_name', strong: false };
    const next = tokens[i + 1];
    // Lower-case text ("pt john smith"): a first name followed by a known surname.
    if (next !== undefined && adjacent(text, t, next) && surnameRank(next, d) !== undefined && !isAmbiguous(next, d)) {
      return { confidence: 0.6, pattern: 'first_name_lower', strong: false };
    }
    return undefined;
  }
  const rank = surnameRank(t, d);
  if (t.capitalized && rank !== undefined && rank <= SURNAME_MAX_RANK) {
    return { confidence: 0.6, pattern: 'surname', strong: false };
  }
  return undefined;
}

/**
 * A capital letter right after a name is an initial ("John D", "Paul M's"); "A" and "I" are
 * words too, so they need a period or a following capitalised word ("A. Smith").
 */
function initialHere(text: string, tokens: readonly Token[], k: number): boolean {
  const t = tokens[k];
  if (t === undefined || !isInitial(t)) return false;
  if (text.charAt(t.end) === '.' || (t.text !== 'A' && t.text !== 'I')) return true;
  const n = tokens[k + 1];
  return n !== undefined && n.capitalized && adjacent(text, t, n);
}

function canExtend(ctx: AnalysisContext, k: number, seed: Seed): boolean {
  const d = ctx.dictionaries;
  const n = ctx.tokens[k];
  if (n === undefined) return false;
  if (initialHere(ctx.text, ctx.tokens, k)) return true;
  if (!n.isWord || FUNCTION_WORDS.has(n.key) || TITLES.has(n.key)) return false;
  if (n.capitalized) {
    // An all-capitals word after a mixed-case name is a label, credential or abbreviation
    // ("Maria Garcia DOB", "Jane Doe MD", "John Smith MRN") unless it is a longer known name;
    // in an all-capitals name ("MARGARET O'CONNELL-REYES") capitals are the norm.
    const cur = ctx.tokens[k - 1];
    if (n.allCaps && cur !== undefined && !cur.allCaps && (n.text.length <= 3 || !dictionaryHit(n, d))) return false;
    if (dictionaryHit(n, d)) return true;
    return seed.strong ? true : !isAmbiguous(n, d);
  }
  // Lower-case words join only a lower-case name ("pt jane doe"), never "Dr. Hope Whitaker saw".
  const cur = ctx.tokens[k - 1];
  return cur !== undefined && !cur.capitalized && dictionaryHit(n, d) && !isAmbiguous(n, d);
}

/**
 * "KOWALCZYK, STANISLAW", "Patient: Kowalczyk, Stanislaw J.": the first name after a surname and
 * a comma, written in the same case, when it is a first name or the seed has context behind it.
 * A clinical or everyday word ("Smith, Hypertension") or a short capitals label ("DOB") never joins.
 */
function lastFirstAfter(ctx: AnalysisContext, i: number, last: number, seed: Seed): number {
  const { text, tokens, dictionaries: d } = ctx;
  const cur = tokens[last];
  const n = tokens[last + 1];
  if (cur === undefined || n === undefined || !cur.capitalized || !n.capitalized || !n.isWord) return last;
  if (!/^,[ \t]{1,2}$/.test(gap(text, cur, n)) || cur.allCaps !== n.allCaps || n.text.length < 2) return last;
  if (FUNCTION_WORDS.has(n.key) || TITLES.has(n.key) || isAmbiguous(n, d) || (n.allCaps && n.text.length <= ACRONYM_CAPS_MIN)) return last;
  const knownSurname = last === i && surnameRank(cur, d) !== undefined;
  if (!(isFirstName(n, d) || (cur.allCaps && (seed.strong || knownSurname)))) return last;
  let end = last + 1;
  // An initial after the first name: "KOWALCZYK, STANISLAW J".
  const m = tokens[end + 1];
  if (m !== undefined && adjacent(text, n, m) && initialHere(text, tokens, end + 1)) end += 1;
  return end;
}

function grow(ctx: AnalysisContext, i: number, seed: Seed, used: Uint8Array): { first: number; last: number } {
  const { text, tokens, dictionaries: d } = ctx;
  let last = i;
  for (let steps = 0; steps < 4; steps += 1) {
    const cur = tokens[last];
    const n = tokens[last + 1];
    if (cur === undefined || n === undefined || !adjacent(text, cur, n) || eponymUse(text, tokens, last + 1)) break;
    if (isParticle(n)) {
      // "van der Berg", "de la Cruz": particles count only when a capitalised word follows them.
      let j = last + 1;
      while (j - last <= 2 && tokens[j + 1] !== undefined && isParticle(tokens[j + 1] as Token) && adjacent(text, tokens[j] as Token, tokens[j + 1] as Token)) j += 1;
      const after = tokens[j + 1];
      const particle = tokens[j];
      if (after !== undefined && particle !== undefined && after.capitalized && adjacent(text, particle, after)) {
        last = j + 1;
        continue;
      }
      break;
    }
    if (!canExtend(ctx, last + 1, seed)) break;
    last += 1;
  }
  last = lastFirstAfter(ctx, i, last, seed);
  let first = i;
  const p = tokens[i - 1];
  // "Son will": the relationship word before a family-cue seed is not part of the name.
  if (seed.pattern !== 'family_cue' && p !== undefined && used[i - 1] === 0 && p.capitalized && !FUNCTION_WORDS.has(p.key) && !isTitleToken(text, p)) {
    const g = gap(text, p, tokens[i] ?? p);
    // "Will Smith" (everyday first name before a surname) and "Smith, John" (Last, First).
    if (/^[ \t]{1,2}$/.test(g) && isFirstName(p, d)) first = i - 1;
    else if (/^,[ \t]{1,2}$/.test(g) && surnameRank(p, d) !== undefined && !isAmbiguous(p, d) && seed.pattern !== 'surname') {
      first = i - 1;
    }
  }
  return { first, last };
}

export const nameRecognizer: Recognizer = {
  name: 'name',
  types: ['NAME'],
  detect(ctx: AnalysisContext): Detection[] {
    const { text, tokens } = ctx;
    const used = new Uint8Array(tokens.length);
    const out: Detection[] = [];
    for (let i = 0; i < tokens.length; i += 1) {
      if (used[i] === 1) continue;
      const seed = seedAt(ctx, i);
      if (seed === undefined) continue;
      const grown = grow(ctx, i, seed, used);
      const { last } = grown;
      // The honorific belongs to the personal reference: "Dr. [NAME]" would keep a fragment.
      const first = seed.pattern === 'title' ? grown.first - (grown.first === i ? 1 : 0) : grown.first;
      const head = tokens[first];
      const tail = tokens[last];
      if (head === undefined || tail === undefined) continue;
      // A lone all-capitals word is more often a heading or acronym than a name.
      if (head.allCaps && first === last && seed.pattern !== 'title' && seed.pattern !== 'cue') continue;
      for (let k = first; k <= last; k += 1) used[k] = 1;
      const end = tail.end + (isInitial(tail) && text.charAt(tail.end) === '.' ? 1 : 0);
      const confidence = Math.min(0.99, seed.confidence + (last > first ? 0.1 : 0));
      out.push(detection(head.start, end, 'NAME', confidence, 'name', { pattern: seed.pattern }));
      i = last;
    }
    return out;
  },
};
