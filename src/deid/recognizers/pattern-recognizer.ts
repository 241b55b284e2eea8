import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection, type Explanation } from '../detection.js';
import type { PhiType } from '../phi-type.js';
import type { Recognizer } from '../recognizer.js';

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
  /** A cheap test (a substring) that must hold for the pattern to match at all: skips the scan. */
  readonly prefilter?: (text: string) => boolean;
  /** Only scan when some word token has exactly this length (VINs: 17, DEA numbers: 9). */
  readonly tokenLength?: number;
  /** Returns undefined to reject the match; otherwise the (possibly adjusted) verdict. */
  readonly validate?: (match: RegExpExecArray, text: string) => PatternVerdict | undefined;
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
        if (p.prefilter !== undefined && !p.prefilter(context.text)) continue;
        const length = p.tokenLength;
        if (length !== undefined && !context.tokens.some((t) => t.end - t.start === length)) continue;
        // Reused across calls (analysis is synchronous, so no two scans share it at once).
        const re = p.regex;
        re.lastIndex = 0;
        for (let m = re.exec(context.text); m !== null; m = re.exec(context.text)) {
          if (m[0].length === 0) {
            re.lastIndex += 1;
            continue;
          }
          const verdict: PatternVerdict | undefined = p.validate
            ? p.validate(m, context.text)
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
