import { patternRecognizer } from './pattern-recognizer.js';

/**
 * Dotted-quad IPv4, each octet 0-255. Strict form by default (no leading zeros); with
 * `zeroPadded`, an octet padded to three digits ("192.168.001.010", as some logs print it)
 * also counts, for detection (recall first). "01.2.3.4" is refused either way.
 */
export function isIpv4(candidate: string, options: { readonly zeroPadded?: boolean } = {}): boolean {
  const parts = candidate.split('.');
  return (
    parts.length === 4 &&
    parts.every(
      (p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !(p.length > 1 && p.startsWith('0') && !(options.zeroPadded === true && p.length === 3)),
    )
  );
}

/** RFC 4291 text forms: eight groups, or fewer with one "::"; an IPv4 tail counts as two groups. */
export function isIpv6(candidate: string): boolean {
  let text = candidate;
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4?.[1] !== undefined) {
    if (!isIpv4(v4[1])) return false;
    text = `${text.slice(0, v4.index)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (groups.length === 0 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  return halves.length === 2 ? groups.length <= 7 : groups.length === 8;
}

/** 45 CFR 164.514(b)(2)(i)(O) Internet Protocol addresses, IPv4 and IPv6, range-validated. */
export const ipRecognizer = patternRecognizer('ip', [
  {
    name: 'ipv4',
    regex: /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)/g,
    type: 'IP',
    confidence: 0.9,
    requiredChars: '.',
    minDigits: 4,
    validate: (m) => (isIpv4(m[0], { zeroPadded: true }) ? { confidence: 0.9, explanation: { validation: 'passed' } } : undefined),
  },
  {
    name: 'ipv6',
    requiredChars: ':',
    prefilter: (text) => text.includes('::') || /[0-9a-f]{1,4}:[0-9a-f]{1,4}:/i.test(text),
    regex: /(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?![\w:.])/g,
    type: 'IP',
    confidence: 0.9,
    validate: (m) => {
      // The class includes "." (for an IPv4 tail), so a sentence-final full stop is swallowed:
      // "Login from 2001:db8::1." -> validate and report the address without it.
      const candidate = m[0].replace(/\.+$/, '');
      return candidate.includes(':') && (candidate.match(/:/g) ?? []).length >= 2 && isIpv6(candidate)
        ? { confidence: 0.9, relEnd: candidate.length, explanation: { validation: 'passed' } }
        : undefined;
    },
  },
]);
