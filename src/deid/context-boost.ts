import { detection, type Detection, type Explanation } from './detection.js';
import type { PhiType } from './phi-type.js';

/**
 * Context words raise a detection's confidence (never lower it, never create one): a date after
 * "DOB" or "admitted", a number after "MRN". The boost and the word are recorded in the
 * explanation so a reviewer sees why the score is what it is.
 */
const CONTEXT: Partial<Record<PhiType, RegExp>> = {
  NAME: /\b(?:patient|pt|mr|mrs|ms|dr|name|son|daughter|wife|husband|mother|father|signed|dear)\b/i,
  DATE: /\b(?:dob|born|birth|admitted|admission|discharged|discharge|seen|visit|date|on|surgery|died|death|deceased|expired)\b/i,
  AGE: /\b(?:age|aged|year|years|yo)\b/i,
  LOCATION: /\b(?:lives|address|resides|city|street|hospital|transferred|from|in|at)\b/i,
  PHONE: /\b(?:phone|tel|cell|call|mobile|contact)\b/i,
  MRN: /\b(?:mrn|record|chart)\b/i,
  OTHER_ID: /\b(?:id|number|no|#)\b/i,
};
const BOOST = 0.1;

export function boostByContext(text: string, detections: readonly Detection[]): Detection[] {
  const out: Detection[] = new Array<Detection>(detections.length);
  for (let i = 0; i < detections.length; i += 1) {
    const d = detections[i] as Detection;
    out[i] = d;
    const re = CONTEXT[d.type];
    if (re === undefined || d.confidence >= 0.99) continue;
    const m = re.exec(text.slice(Math.max(0, d.start - 40), d.start));
    if (m === null) continue;
    // Built field by field: object spread over explanations of varying shapes is slow.
    const e = d.explanation;
    const explanation: Explanation = { pattern: e.pattern, contextWord: e.contextWord ?? m[0].toLowerCase(), contextBoost: BOOST };
    out[i] = detection(d.start, d.end, d.type, Math.min(0.99, d.confidence + BOOST), d.recognizer, e.validation === undefined ? explanation : { ...explanation, validation: e.validation });
  }
  return out;
}
