/**
 * Reading one stored entry back: its body is parsed and checked against the entry schema, the
 * format version and its own sequence number before anything uses it. A row that fails is
 * never passed on (it could carry free text someone wrote into the table); the error names
 * only its sequence number.
 */
import type { StoredAuditRow } from '../storage/schema.js';
import { WardError } from '../shared/ward-error.js';
import type { ErrorCode } from '../shared/ward-error.js';
import { auditEntryInputSchema } from './audit-entry.js';
import type { AuditEntry } from './audit-entry.js';

export function parseStoredEntry(row: Pick<StoredAuditRow, 'seq' | 'body'>, code: ErrorCode): AuditEntry {
  const seq = Number(row.seq);
  const bad = (why: string): WardError => new WardError(code, `audit entry ${seq} ${why}; run ward audit verify`, { extra: { seq } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.body);
  } catch {
    throw bad('is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('is not an object');
  const { v, seq: entrySeq, time, ...input } = parsed as Record<string, unknown>;
  if (v !== 1) throw bad('has an unknown format version');
  if (entrySeq !== seq) throw bad('does not match its stored sequence number');
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) throw bad('has no valid time');
  const checked = auditEntryInputSchema.safeParse(input);
  if (!checked.success) throw bad('is not a well-formed audit entry');
  return { v: 1, seq, time, ...checked.data };
}
