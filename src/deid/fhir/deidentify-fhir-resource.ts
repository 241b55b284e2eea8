import { analyze, type AnalyzeOptions } from '../analyzer.js';
import { anonymize, type OperatorChoice } from '../anonymize.js';
import type { DeidDictionaries } from '../dictionaries.js';
import { keyedHash } from '../keyed-hash.js';
import { newDocumentState, type DocumentState } from '../operators/operator.js';
import type { PhiType } from '../phi-type.js';

/**
 * De-identifies one FHIR R4 resource (or a Bundle of them) by walking it:
 *  - structured identifiers by element: HumanName parts (A), Address line/city/district/
 *    postalCode (B; state and country are kept), dates and dateTimes (C), ContactPoint values by
 *    system (D, E, F, N), Identifier values by type code (G, H, I, J, K, R), photos removed (Q);
 *  - the mother's maiden name extension as a name, birthPlace as an address;
 *  - narratives (text.div, text nodes only), text attachments (base64 data decoded, analyzed,
 *    re-encoded) and every other free-text string through the analyzer;
 *  - with a key, resource ids and references become keyed pseudonyms so links survive.
 * Returns a new resource (the input is not modified) and findings with paths and types, no values.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface FhirFinding {
  readonly path: string;
  readonly type: PhiType;
  readonly source: 'element' | 'text';
}

export interface FhirDeidOptions extends AnalyzeOptions {
  readonly dictionaries: DeidDictionaries;
  readonly operator: OperatorChoice;
  /** When given, `id`, `reference` and `fullUrl` values are replaced by keyed pseudonyms. */
  readonly idKey?: Uint8Array;
}

export interface FhirDeidResult<T> {
  readonly resource: T;
  readonly findings: readonly FhirFinding[];
}

const TELECOM_TYPES: Readonly<Record<string, PhiType>> = { phone: 'PHONE', sms: 'PHONE', pager: 'PHONE', fax: 'FAX', email: 'EMAIL', url: 'URL' };
const IDENTIFIER_TYPES: Readonly<Record<string, PhiType>> = {
  MR: 'MRN', MRT: 'MRN', PI: 'MRN', SS: 'SSN', SB: 'SSN', DL: 'LICENSE', PPN: 'LICENSE', LN: 'LICENSE', DEA: 'LICENSE', NPI: 'OTHER_ID',
  MB: 'HEALTH_PLAN', MA: 'HEALTH_PLAN', MC: 'HEALTH_PLAN', SN: 'HEALTH_PLAN', NIIP: 'HEALTH_PLAN', AN: 'ACCOUNT', ACSN: 'ACCOUNT', SNO: 'DEVICE',
};
/** Code-valued or structural strings: never free text. */
const NOT_TEXT: ReadonlySet<string> = new Set([
  'resourceType', 'system', 'code', 'url', 'status', 'use', 'gender', 'contentType', 'language', 'unit', 'version', 'valueCode',
  'valueUri', 'valueCanonical', 'profile', 'mode', 'method', 'intent', 'priority', 'category', 'sequence', 'hash',
]);
const DATE_KEY = /(?:Date|DateTime|Instant)$|^(?:date|issued|recorded|authoredOn|start|end|created|timestamp|occurrenceDateTime|lastUpdated)$/;
const DATE_VALUE = /^\d{4}(?:-\d{2}(?:-\d{2})?)?(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?$/;
const ADDRESS_PARTS: ReadonlySet<string> = new Set(['line', 'city', 'district', 'postalCode', 'text']);

class Walker {
  readonly findings: FhirFinding[] = [];
  private readonly state: DocumentState = newDocumentState();

  constructor(private readonly options: FhirDeidOptions) {}

  /** Replace a whole element value as one identifier of `type`. */
  element(value: string, type: PhiType, path: string): string | undefined {
    this.findings.push({ path, type, source: 'element' });
    const det = { start: 0, end: value.length, type, confidence: 1, recognizer: 'fhir_element', explanation: { pattern: `fhir:${path}` } };
    if (value.length === 0) return value;
    return anonymize(value, [det], this.options.operator, this.state).text;
  }

  date(value: string, path: string): string | undefined {
    // The date part is the identifier; the time of day is not (Safe Harbor (C) names dates).
    const t = value.indexOf('T');
    const datePart = t >= 0 ? value.slice(0, t) : value;
    const replaced = this.element(datePart, 'DATE', path);
    if (replaced === undefined || !/^\d{4}(?:-\d{2}(?:-\d{2})?)?$/.test(replaced)) return undefined;
    return t >= 0 && replaced.length === 10 ? replaced + value.slice(t) : replaced;
  }

  text(value: string, path: string): string {
    const detections = analyze(value, this.options.dictionaries, this.options);
    if (detections.length === 0) return value;
    for (const d of detections) this.findings.push({ path, type: d.type, source: 'text' });
    return anonymize(value, detections, this.options.operator, this.state).text;
  }

  /** XHTML narrative: only text between tags is analyzed, so markup stays valid. */
  narrative(div: string, path: string): string {
    return div.replace(/>([^<]+)</g, (_m, inner: string) => `>${this.text(inner, path)}<`);
  }

  pseudonymId(value: string): string {
    const key = this.options.idKey;
    if (key === undefined) return value;
    const hex = keyedHash(key, 'deid.fhir_id', value).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  reference(value: string): string {
    if (this.options.idKey === undefined) return value;
    const urn = /^urn:uuid:(.+)$/.exec(value);
    if (urn?.[1] !== undefined) return `urn:uuid:${this.pseudonymId(urn[1])}`;
    const rel = /^([A-Za-z]+)\/([^/]+)$/.exec(value);
    if (rel?.[1] !== undefined && rel[2] !== undefined) return `${rel[1]}/${this.pseudonymId(rel[2])}`;
    return this.pseudonymId(value);
  }

  walk(value: Json, path: string, key: string, parent: JsonObject | undefined): Json | undefined {
    if (typeof value === 'string') return this.string(value, path, key, parent);
    if (Array.isArray(value)) {
      const out: Json[] = [];
      value.forEach((v, i) => {
        const r = this.walk(v, `${path}[${i}]`, key, parent);
        if (r !== undefined) out.push(r);
      });
      return out;
    }
    if (value === null || typeof value !== 'object') return value;
    return this.object(value, path, key);
  }

  private object(obj: JsonObject, path: string, key: string): Json | undefined {
    const out: JsonObject = {};
    const contentType = typeof obj.contentType === 'string' ? obj.contentType : undefined;
    const isAttachment = contentType !== undefined && typeof obj.data === 'string';
    for (const [k, v] of Object.entries(obj)) {
      const childPath = path === '' ? k : `${path}.${k}`;
      if (k === 'photo') {
        // 164.514(b)(2)(i)(Q) full-face photographs: removed, not transformed.
        this.findings.push({ path: childPath, type: 'BIOMETRIC', source: 'element' });
        continue;
      }
      if (k === 'div' && typeof v === 'string' && key === 'text') {
        out[k] = this.narrative(v, childPath);
        continue;
      }
      if (isAttachment && k === 'data' && typeof v === 'string') {
        out[k] = this.attachmentData(v, contentType ?? '', childPath);
        continue;
      }
      const r = this.walk(v, childPath, k, obj);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }

  private attachmentData(data: string, contentType: string, path: string): string {
    if (!/^text\//.test(contentType)) return data;
    const decoded = Buffer.from(data, 'base64').toString('utf8');
    return Buffer.from(this.text(decoded, path), 'utf8').toString('base64');
  }

  private string(value: string, path: string, key: string, parent: JsonObject | undefined): Json | undefined {
    const parentKey = path.replace(/\[\d+\]/g, '').split('.').slice(-2, -1)[0] ?? '';
    if (key === 'id' && parent !== undefined && typeof parent.resourceType === 'string') return this.pseudonymId(value);
    if (key === 'reference' || key === 'fullUrl') return this.reference(value);
    if (NOT_TEXT.has(key)) return value;
    // Coding.display and CodeableConcept.text name a code ("Not Hispanic or Latino"): terminology, not PHI.
    if ((key === 'display' && parent !== undefined && (typeof parent.code === 'string' || typeof parent.system === 'string')) || (key === 'text' && Array.isArray(parent?.coding))) {
      return value;
    }
    if (parentKey === 'name' && (key === 'family' || key === 'given' || key === 'text')) return this.element(value, 'NAME', path);
    if ((parentKey === 'address' || parentKey === 'valueAddress') && ADDRESS_PARTS.has(key)) return this.element(value, 'LOCATION', path);
    if (parentKey === 'address' || parentKey === 'valueAddress') return value;
    if (parentKey === 'telecom' && key === 'value') {
      const system = typeof parent?.system === 'string' ? parent.system : 'other';
      return this.element(value, TELECOM_TYPES[system] ?? 'OTHER_ID', path);
    }
    if (parentKey === 'identifier' && key === 'value') return this.element(value, identifierType(parent), path);
    if (key === 'valueString' && typeof parent?.url === 'string' && /mothersMaidenName$/.test(parent.url)) return this.element(value, 'NAME', path);
    if (DATE_KEY.test(key) && DATE_VALUE.test(value)) return this.date(value, path);
    return this.text(value, path);
  }
}

function identifierType(identifier: JsonObject | undefined): PhiType {
  const type = identifier?.type;
  if (type !== null && typeof type === 'object' && !Array.isArray(type) && Array.isArray(type.coding)) {
    for (const c of type.coding) {
      if (c !== null && typeof c === 'object' && !Array.isArray(c) && typeof c.code === 'string') {
        const t = IDENTIFIER_TYPES[c.code];
        if (t !== undefined) return t;
      }
    }
  }
  return 'OTHER_ID';
}

export function deidentifyFhirResource<T extends object>(resource: T, options: FhirDeidOptions): FhirDeidResult<T> {
  const walker = new Walker(options);
  const out = walker.walk(resource as unknown as Json, '', '', undefined);
  return { resource: out as unknown as T, findings: walker.findings };
}
