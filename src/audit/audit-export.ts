/**
 * Streams the audit log out for a SIEM or a FHIR server, one JSON document per line:
 * - `jsonl`: the stored entry plus its `leafHash` and `chainHash` (hex), so the receiver can
 *   recompute both (drop the two fields, canonicalise, hash; see hash-chain.ts and merkle.ts)
 *   and notice an export that was altered or has gaps;
 * - `fhir`: one FHIR R4 AuditEvent per line (IHE BALP, see audit-event-fhir.ts), which is the
 *   FHIR Bulk Data NDJSON format.
 * Each stored body is re-validated against the entry schema before it leaves: a row edited in
 * the database to hold free text is refused, not shipped (entries hold ids and codes only;
 * 45 CFR 164.312(b)). Memory stays flat: rows are read, filtered and written one at a time.
 */
import type { StoredAuditRow } from '../storage/schema.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { WardError, isWardError } from '../shared/ward-error.js';
import { toFhirAuditEvent } from './audit-event-fhir.js';
import { parseStoredEntry } from './stored-entry.js';

export type AuditExportFormat = 'fhir' | 'jsonl';

export interface AuditExportOptions {
  format: AuditExportFormat;
  /** ISO 8601 time; entries recorded at or after it are exported. */
  since?: string;
  /** Only entries about this patient id (the entry's `patient` field). */
  patient?: string;
  /** This server's identifier, the AuditEvent observer (fhir format). */
  observerId: string;
}

/**
 * Export `rows` (in sequence order, e.g. from `streamAuditRows`). `write` receives one line at
 * a time, terminated by `\n`, and is awaited before the next row is read (back-pressure).
 */
export async function exportAudit(
  rows: AsyncIterable<StoredAuditRow>,
  options: AuditExportOptions,
  write: (line: string) => void | Promise<void>,
): Promise<{ exported: number }> {
  const sinceMs = parseSince(options.since);
  let exported = 0;
  try {
    for await (const row of rows) {
      const entry = parseStoredEntry(row, 'audit.export_failed');
      if (sinceMs !== undefined && Date.parse(entry.time) < sinceMs) continue;
      if (options.patient !== undefined && entry.patient !== options.patient) continue;
      const doc = options.format === 'fhir'
        ? JSON.stringify(toFhirAuditEvent(entry, { observerId: options.observerId }))
        : canonicalJson({ ...entry, leafHash: row.leaf_hash, chainHash: row.chain_hash });
      await write(`${doc}\n`);
      exported += 1;
    }
  } catch (cause) {
    if (isWardError(cause)) throw cause;
    throw new WardError('audit.export_failed', `audit export failed after ${exported} entries`, { cause, status: 500 });
  }
  return { exported };
}

function parseSince(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const ms = Date.parse(since);
  // Date.parse is lenient about some non-ISO forms; require an ISO date at least.
  if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(ms)) {
    throw new WardError('audit.export_invalid_since', 'since must be an ISO 8601 time', { status: 400 });
  }
  return ms;
}

/** Parse and re-validate a stored body. Messages name the sequence number only, never content. */
