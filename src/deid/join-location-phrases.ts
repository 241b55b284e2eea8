import type { Detection } from './detection.js';
import { STATE_AT_START } from './recognizers/us-states.js';

/**
 * Span policy for locations: one location reference is one span. "Mayo Clinic in Rochester, MN"
 * and "our Dallas clinic" name one place each; masking the pieces apart would leave "in" and
 * "clinic" and the state, which (with a small town) narrow the place down. So:
 *  - LOCATION detections separated only by "in"/"at"/"of"/"near", a comma or a space are joined;
 *  - a LOCATION followed by a state ("Atlanta, GA") or a generic place word ("clinic", "office",
 *    "area") is extended over it. Safe Harbor allows the state alone; here it is masked only as
 *    part of a smaller place's reference (over-redaction, never under-redaction).
 * Input and output: sorted, non-overlapping detections.
 */
const JOIN_GAP = /^(?:,?[ \t]{1,2}(?:in|at|of|near|outside)[ \t]{1,2}|,[ \t]{0,2}|[ \t]{1,2}|[ \t]{1,2}-[ \t]{1,2})$/i;
const ZIP = /^\d{5}(?:-\d{4})?$/;
const FACILITY_TAIL = /^[ \t]{1,2}(?:clinic|office|facility|hospital|hosp|campus|practice)\b/i;
const GENERIC_TAIL = /^[ \t]{1,2}(?:clinic|office|facility|hospital|hosp|area|campus|branch|location|site|practice|center|centre|er|ed|med|downtown)\b\.?/i;

function extendTail(text: string, d: Detection): Detection {
  let end = d.end;
  for (let i = 0; i < 3; i += 1) {
    const rest = text.slice(end, end + 32);
    const state = STATE_AT_START.exec(rest);
    const generic = GENERIC_TAIL.exec(rest);
    const m = state ?? generic;
    if (m === null) break;
    end += m[0].length;
  }
  return end === d.end ? d : { ...d, end };
}

/** "our Dallas clinic": a word flagged as a name but followed by a facility word is a place. */
function asPlace(text: string, d: Detection): Detection {
  if (d.type !== 'NAME' || !FACILITY_TAIL.test(text.slice(d.end, d.end + 16))) return d;
  return extendTail(text, { ...d, type: 'LOCATION' });
}

/** A ZIP code stays its own span, so generalization can still turn it into its ZIP-3. */
function isZip(text: string, d: Detection): boolean {
  return ZIP.test(text.slice(d.start, d.end));
}

export function joinLocationPhrases(text: string, detections: readonly Detection[]): Detection[] {
  const out: Detection[] = [];
  for (const raw of detections) {
    const zip = raw.type === 'LOCATION' && isZip(text, raw);
    const d = raw.type === 'LOCATION' && !zip ? extendTail(text, raw) : asPlace(text, raw);
    const prev = out[out.length - 1];
    if (prev !== undefined && d.start < prev.end && zip) {
      // The tail ran into a ZIP: give the ZIP its own span back.
      let end = Math.min(prev.end, d.start);
      while (end > prev.start && /\s/.test(text.charAt(end - 1))) end -= 1;
      out[out.length - 1] = { ...prev, end };
      out.push(d);
      continue;
    }
    if (prev !== undefined && d.start < prev.end) {
      // An extended tail ran into the next detection: absorb it into the location.
      out[out.length - 1] = { ...prev, end: Math.max(prev.end, d.end) };
      continue;
    }
    if (prev !== undefined && !zip && prev.type === 'LOCATION' && d.type === 'LOCATION' && !isZip(text, prev) && JOIN_GAP.test(text.slice(prev.end, d.start))) {
      out[out.length - 1] = { ...prev, end: d.end, confidence: Math.max(prev.confidence, d.confidence) };
      continue;
    }
    out.push(d);
  }
  return out;
}
