import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection, type Explanation } from '../detection.js';
import type { PhiType } from '../phi-type.js';
import type { Recognizer } from '../recognizer.js';
import { hasChars, hasWordRunOfLength, type TextFeatures } from '../text-features.js';

/** What a pattern's validator decides about one match. */
export interface PatternVerdict {
  readonly type?: PhiType;
  readonly confidence: number;
  readonly explanation?: Partial<Explanation>;
  /** Narrow the span to a part of the match (offsets relative to the match start). */
  readonly relStart?: number;
  readonly relEnd?: number;
}

export interface Pattern {
  readonly name: string;
  /** Must carry the `g` flag. */
  readonly regex: RegExp;
  readonly type: PhiType;
  readonly confidence: number;
  /**
   * Gates, checked against the text's features (text-features.ts) before any scan; each must be
   * implied by the pattern's shape, so skipping never loses a match:
   *  - `minDigits`: the pattern needs at least this many ASCII digits in the text;
   *  - `minDigitRun`: ... this many consecutive digits (`\d{4}`: 4);
   *  - `requiredChars`: every one of these ASCII characters ("@", "/", "-") occurs;
   *  - `wordRunLength`: some maximal run of ASCII word characters ([A-Za-z0-9_]) has exactly
   *    this length (VINs: 17, DEA numbers: 9, NPIs: 10).
   */
  readonly minDigits?: number;
  readonly minDigitRun?: number;
  readonly requiredChars?: string;
  readonly wordRunLength?: number;
  /** Any other test on the features, under the same rule (implied by the pattern's shape). */
  readonly gate?: (features: TextFeatures) => boolean;
  /** A further test (a substring) that must hold for the pattern to match at all, after the gates. */
  readonly prefilter?: (text: string) => boolean;
  /**
   * Returns undefined to reject the match; otherwise the (possibly adjusted) verdict. The
   * analysis context is there for dictionary look-ups (a city before a ZIP).
   */
  readonly validate?: (match: RegExpExecArray, text: string, context: AnalysisContext) => PatternVerdict | undefined;
}

/** True when the pattern may match: its cheap gates pass. */
export function patternMayMatch(p: Pattern, features: TextFeatures, text: string): boolean {
  if (p.minDigits !== undefined && features.digits < p.minDigits) return false;
  if (p.minDigitRun !== undefined && features.maxDigitRun < p.minDigitRun) return false;
  if (p.requiredChars !== undefined && !hasChars(features, p.requiredChars)) return false;
  if (p.wordRunLength !== undefined && !hasWordRunOfLength(features, p.wordRunLength)) return false;
  if (p.gate !== undefined && !p.gate(features)) return false;
  return p.prefilter === undefined || p.prefilter(text);
}

/** A declarative recognizer: named regexes with optional validation (checksums, ranges, context). */
export function patternRecognizer(name: string, patterns: readonly Pattern[]): Recognizer {
  const types = [...new Set(patterns.map((p) => p.type))];
  return {
    name,
    types,
    detect(context: AnalysisContext): Detection[] {
      const out: Detection[] = [];
      for (const p of patterns) {
        if (!patternMayMatch(p, context.features, context.text)) continue;
        // Reused across calls (analysis is synchronous, so no two scans share it at once).
        const re = p.regex;
        re.lastIndex = 0;
        for (let m = re.exec(context.text); m !== null; m = re.exec(context.text)) {
          if (m[0].length === 0) {
            re.lastIndex += 1;
            continue;
          }
          const verdict: PatternVerdict | undefined = p.validate
            ? p.validate(m, context.text, context)
            : { confidence: p.confidence };
          if (verdict === undefined) continue;
          const start = m.index + (verdict.relStart ?? 0);
          const end = m.index + (verdict.relEnd ?? m[0].length);
          if (end <= start) continue;
          out.push(
            detection(start, end, verdict.type ?? p.type, verdict.confidence, name, {
              pattern: p.name,
              ...verdict.explanation,
            }),
          );
        }
      }
      return out;
    },
  };
}
