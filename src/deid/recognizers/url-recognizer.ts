import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

/** The part of url_bare_domain_path every match contains: a cheap scan (it starts with "."). */
const BARE_DOMAIN_TLD = /\.(?:com|org|net|edu|gov|io|us|health|info|biz)\//i;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

function trimTrailing(match: RegExpExecArray, confidence: number): PatternVerdict | undefined {
  const trimmed = match[0].replace(TRAILING_PUNCTUATION, '');
  return trimmed.length < 5 ? undefined : { confidence, relEnd: trimmed.length };
}

/** 45 CFR 164.514(b)(2)(i)(N) web URLs: with a scheme, starting "www.", or a bare domain with a path. */
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
]);
