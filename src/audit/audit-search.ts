/**
 * Search for privacy officers: by patient, principal, action, outcome and time range, newest
 * first, with keyset paging (`before` = a sequence number). The searched columns are generated
 * by the database from the hashed entry bodies, and results are the bodies themselves.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { WardSchema } from '../storage/schema.js';
import type { AuditEntry } from './audit-entry.js';
import { auditCodeSchema, auditIdSchema, outcomes } from './audit-entry.js';
import { parseStoredEntry } from './stored-entry.js';

const isoTime = z.iso.datetime({ offset: false });
// The same shapes the entries themselves allow: a search term that is not an id or a code can
// match nothing, and refusing it keeps free text out of the audit entry recording the search.
const id = auditIdSchema;
const code = auditCodeSchema;

export const auditSearchSchema = z
  .object({
    patient: id.optional(),
    principal: id.optional(),
    action: code.optional(),
    outcome: z.enum(outcomes).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export type AuditSearch = z.infer<typeof auditSearchSchema>;

export interface AuditSearchResult {
  entries: AuditEntry[];
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  nextBefore?: number;
}

export async function searchAuditEntries(db: Kysely<WardSchema>, s: AuditSearch): Promise<AuditSearchResult> {
  let q = db.selectFrom('audit_entry').select(['seq', 'body']).orderBy('seq', 'desc').limit(s.limit + 1);
  if (s.patient !== undefined) q = q.where('patient_id', '=', s.patient);
  if (s.principal !== undefined) q = q.where('principal_id', '=', s.principal);
  if (s.action !== undefined) q = q.where('action', '=', s.action);
  if (s.outcome !== undefined) q = q.where('outcome', '=', s.outcome);
  if (s.from !== undefined) q = q.where('ts', '>=', new Date(s.from).toISOString());
  if (s.to !== undefined) q = q.where('ts', '<', new Date(s.to).toISOString());
  if (s.before !== undefined) q = q.where('seq', '<', s.before);
  const rows = await q.execute();
  const page = rows.slice(0, s.limit);
  // Bodies are re-validated: a row written behind the log's back fails the search (fail closed).
  const entries = page.map((r) => parseStoredEntry(r, 'audit.search_failed'));
  const last = page[page.length - 1];
  return { entries, ...(rows.length > s.limit && last ? { nextBefore: Number(last.seq) } : {}) };
}
