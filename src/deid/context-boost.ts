import type { Detection } from './detection.js';
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
  return detections.map((d) => {
    const re = CONTEXT[d.type];
    if (re === undefined || d.confidence >= 0.99) return d;
    const m = re.exec(text.slice(Math.max(0, d.start - 40), d.start));
    if (m === null) return d;
    return {
      ...d,
      confidence: Math.min(0.99, d.confidence + BOOST),
      explanation: { ...d.explanation, contextWord: d.explanation.contextWord ?? m[0].toLowerCase(), contextBoost: BOOST },
    };
  });
}
