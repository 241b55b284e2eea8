import { WardError } from '../../shared/ward-error.js';
import type { TableRecord } from './risk-assessment.js';

/**
 * Reads an export into records: CSV with a header row (RFC 4180 quoting), JSON lines of flat
 * objects, or FHIR (a Bundle, or NDJSON of resources) from which each Patient's quasi-identifiers
 * are taken: birthDate, gender, address postal code and state. Pure: the text is handed in.
 */
export function parseTable(text: string): TableRecord[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(trimmed);
  return parseCsv(text);
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line.charAt(i);
    if (quoted) {
      if (c === '"' && line.charAt(i + 1) === '"') {
        cur += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseCsv(text: string): TableRecord[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0];
  if (header === undefined) return [];
  const columns = parseCsvLine(header).map((c) => c.trim());
  return lines.slice(1).map((l) => {
    const cells = parseCsvLine(l);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i]?.trim() ?? '']));
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function patientRecord(p: Record<string, Json>): TableRecord {
  const address = Array.isArray(p.address) ? (p.address[0] as Record<string, Json> | undefined) : undefined;
  const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    birthDate: str(p.birthDate),
    gender: str(p.gender),
    zip: str(address?.postalCode),
    state: str(address?.state),
  };
}

function fromJsonValue(v: Json, out: TableRecord[]): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  if (v.resourceType === 'Bundle' && Array.isArray(v.entry)) {
    for (const e of v.entry) if (e !== null && typeof e === 'object' && !Array.isArray(e) && e.resource !== undefined) fromJsonValue(e.resource, out);
    return;
  }
  if (v.resourceType === 'Patient') {
    out.push(patientRecord(v));
    return;
  }
  if (v.resourceType !== undefined) return;
  out.push(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? undefined : typeof x === 'object' ? JSON.stringify(x) : String(x)])));
}

function parseJson(text: string): TableRecord[] {
  const out: TableRecord[] = [];
  const values: Json[] = [];
  try {
    if (text.startsWith('[')) values.push(...(JSON.parse(text) as Json[]));
    else {
      try {
        values.push(JSON.parse(text) as Json);
      } catch {
        text.split('\n').forEach((l) => {
          if (l.trim().length > 0) values.push(JSON.parse(l) as Json);
        });
      }
    }
  } catch {
    throw new WardError('deid.invalid_table', 'the export is neither CSV, JSON, JSON lines nor FHIR');
  }
  for (const v of values) fromJsonValue(v, out);
  return out;
}
