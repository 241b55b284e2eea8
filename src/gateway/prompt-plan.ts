/**
 * What may leave for a model, decided before anything is sent (DESIGN "Trust zones"; 45 CFR
 * 164.502(b) minimum necessary, 164.514(b)(2) Safe Harbor). Pure: the analyzer's dictionaries
 * are handed in.
 *
 * Every message (system, user, assistant), every stop sequence and every string in a requested
 * JSON schema is scanned, since all of them travel upstream. Then:
 * - the permit obliges de-identification (`deidentify: true`): placeholders, whatever the zone;
 * - `on-prem` and `baa` models receive the text as given (a `baa` call with PHI must name the
 *   patient, so the disclosure lands in that patient's accounting, 164.528);
 * - `external` models receive only de-identified text, and only when the organization allows
 *   de-identified egress at all; the de-identified text is scanned again and the call refused
 *   if anything is still found (a recognizer that disagrees with the replacement, say).
 * A refusal is a value here; the gateway turns it into an error and an audit entry.
 */
import { analyze } from '../deid/analyzer.js';
import { anonymize } from '../deid/anonymize.js';
import type { DeidDictionaries } from '../deid/dictionaries.js';
import { placeholderOperator } from '../deid/operators/placeholder-operator.js';
import { newDocumentState } from '../deid/operators/operator.js';
import type { DocumentState } from '../deid/operators/operator.js';
import { isPhiType } from '../deid/phi-type.js';
import type { PhiType } from '../deid/phi-type.js';
import { hasMixedScriptWord, normalizeText } from './normalize-text.js';
import type { ChatRequest } from '../models/model-adapter.js';
import type { TrustZone } from '../models/trust-zone.js';

export type ExternalPhiRule = 'deidentify' | 'refuse';

export interface PlanInput {
  readonly request: ChatRequest;
  readonly zone: TrustZone;
  /** The permit's obligation: de-identify whatever reaches the model. */
  readonly deidentify: boolean;
  readonly patient: string | undefined;
  readonly externalPhi: ExternalPhiRule;
}

export type PromptPlan =
  | {
      readonly send: true;
      /** What goes upstream (the original request, or its de-identified copy). */
      readonly request: ChatRequest;
      /** PHI categories found in what the caller sent (types only). */
      readonly categories: readonly PhiType[];
      readonly deidentified: boolean;
      /** Placeholder -> original, to re-identify an answer for an authorized caller. */
      readonly placeholders: ReadonlyMap<string, string>;
    }
  | {
      readonly send: false;
      readonly code: 'egress.phi_refused' | 'egress.deidentification_failed' | 'egress.patient_required';
      readonly categories: readonly PhiType[];
    };

/** Strings and numbers of a JSON schema (keys, descriptions, enums, consts, defaults, examples) in document order. */
function schemaStrings(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value);
  // A number can be an identifier too (`const: 123456789`).
  else if (typeof value === 'number') out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) schemaStrings(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      schemaStrings(v, out);
    }
  }
  return out;
}

function categoriesIn(texts: readonly string[], dictionaries: DeidDictionaries): Set<PhiType> {
  const found = new Set<PhiType>();
  for (const t of texts) for (const d of analyze(t, dictionaries)) found.add(d.type);
  return found;
}

export function planPrompt(input: PlanInput, dictionaries: DeidDictionaries): PromptPlan {
  const { request, zone } = input;
  // Judged (and, when de-identified, sent) in normalized form: see normalize-text.ts.
  const texts = request.messages.map((m) => normalizeText(m.content));
  const messageFound = texts.map((t) => analyze(t, dictionaries));
  const sideTexts = [...(request.stop ?? []), ...(request.jsonSchema !== undefined ? schemaStrings(request.jsonSchema.schema, [request.jsonSchema.name]) : [])].map(normalizeText);
  const sideFound = categoriesIn(sideTexts, dictionaries);
  const all = new Set<PhiType>(sideFound);
  for (const ds of messageFound) for (const d of ds) all.add(d.type);
  const categories = [...all].sort();
  const mustDeidentify = input.deidentify || zone === 'external';

  if (!mustDeidentify) {
    if (zone === 'baa' && categories.length > 0 && input.patient === undefined) return { send: false, code: 'egress.patient_required', categories };
    return { send: true, request, categories, deidentified: false, placeholders: new Map() };
  }
  if (zone === 'external' && categories.length > 0 && input.externalPhi === 'refuse') return { send: false, code: 'egress.phi_refused', categories };
  // PHI in stop sequences or the schema cannot be replaced without changing what they mean;
  // a word mixing scripts is a name dressed to pass a dictionary.
  if (sideFound.size > 0 || texts.some(hasMixedScriptWord) || sideTexts.some(hasMixedScriptWord)) {
    return { send: false, code: 'egress.deidentification_failed', categories };
  }

  // One document state for the whole conversation: "[NAME-1]" is the same person in every
  // message. Numbering starts after any placeholder the caller already wrote (an earlier answer
  // pasted back), so Ward never hands out a placeholder that already means someone else.
  const state = stateAfterCallerPlaceholders(texts);
  const placeholders = new Map<string, string>();
  const messages = request.messages.map((m, i) => {
    const text = texts[i] ?? '';
    const result = anonymize(text, messageFound[i] ?? [], placeholderOperator, state);
    for (const item of result.items) {
      const placeholder = result.text.slice(item.outputStart, item.outputEnd);
      if (!placeholders.has(placeholder)) placeholders.set(placeholder, text.slice(item.start, item.end));
    }
    return { role: m.role, content: result.text };
  });
  const leftover = categoriesIn(messages.map((m) => withoutPlaceholders(m.content)), dictionaries);
  if (leftover.size > 0) return { send: false, code: 'egress.deidentification_failed', categories };
  return { send: true, request: { ...request, messages, ...(request.stop !== undefined ? { stop: sideTexts.slice(0, request.stop.length) } : {}) }, categories, deidentified: true, placeholders };
}

/** A document state whose counters start after the highest placeholder of each type in the texts. */
function stateAfterCallerPlaceholders(texts: readonly string[]): DocumentState {
  const state = newDocumentState();
  for (const t of texts) {
    for (const m of t.matchAll(PLACEHOLDER_PARTS)) {
      const type = m[1] ?? '';
      const n = Number(m[2]);
      if (isPhiType(type) && n > (state.counters.get(type) ?? 0)) state.counters.set(type, n);
    }
  }
  return state;
}

const PLACEHOLDER_PARTS = /\[([A-Z_]{2,12})-(\d{1,6})\]/g;

/** Placeholders (`[NAME-1]`) blanked out, so the second scan judges only the caller's own text. */
const PLACEHOLDER = /\[[A-Z_]{2,12}-\d{1,6}\]/g;
function withoutPlaceholders(text: string): string {
  return text.replace(PLACEHOLDER, (m) => ' '.repeat(m.length));
}

/** Put the originals back in place of the placeholders the model repeated (for an authorized caller). */
export function reidentify(text: string, placeholders: ReadonlyMap<string, string>): string {
  if (placeholders.size === 0) return text;
  return text.replace(PLACEHOLDER, (m) => placeholders.get(m) ?? m);
}

/**
 * Re-identify inside a JSON answer's string values (and keys), so the originals are escaped as
 * JSON needs (an address has a newline); the caller validates the result again.
 */
export function reidentifyJson(text: string, placeholders: ReadonlyMap<string, string>): string {
  if (placeholders.size === 0) return text;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return reidentify(v, placeholders);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [reidentify(k, placeholders), walk(x)]));
    return v;
  };
  return JSON.stringify(walk(JSON.parse(text) as unknown));
}
