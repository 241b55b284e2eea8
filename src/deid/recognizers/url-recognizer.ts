import { before } from '../text-context.js';
import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

/** The part of url_bare_domain_path every match contains: a cheap scan (it starts with "."). */
const BARE_DOMAIN_TLD = /\.(?:com|org|net|edu|gov|io|us|health|info|biz)\//i;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/** The end every url_bare_domain_with_cue match has: a cheap scan. */
const BARE_DOMAIN_END = /\w\.(?:com|net|org|edu|gov|io|co|us|uk|info|biz|me)\b/i;
/** A word that says the next token is a web address: "website jsmith.net", "her blog: ...". */
/** WEB_CUE's word anywhere in the text: the cheap precondition of the bare-domain pattern. */
const WEB_CUE_WORD = /\b(?:web\s?site|site|blog|host(?:name)?|domain|server|home\s?page|web\s?page|url)\b/;
const WEB_CUE = /\b(?:web\s?site|site|blog|host(?:name)?|domain|server|home\s?page|web\s?page|url)\b\s*(?:is|was|at|:|-|=)?\s*(?:is\s+|at\s+)?$/;
/** A word that says the next "@word" is a social-media handle, even without a digit. */
const HANDLE_CUE = /\b(?:twitter|instagram|insta|tiktok|facebook|snapchat|threads|mastodon|bluesky|handle|follow(?:s|ed)?|ig|dm|tweet(?:s|ed)?|username|user name|social media|on x)\b[^\n]{0,12}$/;

function trimTrailing(match: RegExpExecArray, confidence: number): PatternVerdict | undefined {
  const trimmed = match[0].replace(TRAILING_PUNCTUATION, '');
  return trimmed.length < 5 ? undefined : { confidence, relEnd: trimmed.length };
}

/**
 * 45 CFR 164.514(b)(2)(i)(N) web URLs: with a scheme, starting "www.", a bare domain with a path,
 * or a bare domain after a web cue ("website jsmith.net"). (R) social-media handles "@jsmith1931"
 * (an "@" not inside an e-mail address) as OTHER_ID.
 */
export const urlRecognizer = patternRecognizer('url', [
  {
    name: 'url_with_scheme',
    regex: /(?<![\w.])(?:https?|ftp|sftp):\/\/[^\s<>"'`]{1,2048}/gi,
    type: 'URL',
    confidence: 0.95,
    requiredChars: ':/',
    prefilter: (text) => text.includes('://'),
    validate: (m) => trimTrailing(m, 0.95),
  },
  {
    name: 'url_www',
    regex: /(?<![\w./@])www\.[^\s<>"'`]{1,2048}/gi,
    type: 'URL',
    confidence: 0.9,
    requiredChars: '.',
    prefilter: (text) => /www\./i.test(text),
    validate: (m) => trimTrailing(m, 0.9),
  },
  {
    // "mychart.example.org/patient/123": a domain with a common top-level domain and a path.
    name: 'url_bare_domain_path',
    regex: /(?<![\w.@/-])(?!www\.)[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,6}\.(?:com|org|net|edu|gov|io|us|health|info|biz)\/[^\s<>"'`]{0,2048}/gi,
    type: 'URL',
    confidence: 0.85,
    requiredChars: './',
    prefilter: (text) => BARE_DOMAIN_TLD.test(text),
    validate: (m) => trimTrailing(m, 0.85),
  },
  {
    // "website jsmith.net", "blog: janedoe.co.uk": a bare domain (no path) only right after a
    // web cue word, so "e.g.", "i.e.", version numbers and dotted drug abbreviations never match
    // (they have no such TLD or no cue); an e-mail's domain is excluded by the "@" look-behind.
    name: 'url_bare_domain_with_cue',
    regex: /(?<![\w.@/-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){0,4}\.(?:com|net|org|edu|gov|io|co|us|uk|info|biz|me)(?![\w@/-]|\.\w)/gi,
    type: 'URL',
    confidence: 0.8,
    requiredChars: '.',
    // Both must hold somewhere for `validate` to accept a match: a TLD ending and a web cue word.
    prefilter: (text) => BARE_DOMAIN_END.test(text) && WEB_CUE_WORD.test(text),
    validate: (m, text) => (WEB_CUE.test(before(text, m.index, 32)) ? { confidence: 0.8, explanation: { contextWord: 'web' } } : undefined),
  },
  {
    // "@jsmith1931": a handle with a digit or "_" on its own; an all-letter one ("@bedtime",
    // "@home", the clinical "at") only after a social-media cue.
    name: 'social_handle',
    regex: /(?<![\w@.+-])@[A-Za-z0-9_]{3,30}(?![\w@-]|\.\w)/g,
    type: 'OTHER_ID',
    confidence: 0.75,
    requiredChars: '@',
    validate: (m, text) =>
      /[\d_]/.test(m[0]) || HANDLE_CUE.test(before(text, m.index, 32)) ? { confidence: 0.75 } : undefined,
  },
]);
