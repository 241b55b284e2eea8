/**
 * Search for privacy officers: by patient, principal, action, outcome and time range, newest
 * first, with keyset paging (`before` = a sequence number). Results come from the entries'
 * own canonical bodies, and an entry whose indexed columns disagree with its body is left out
 * of nothing silently: it is returned flagged, so a tampered index cannot hide a mismatch.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { WardSchema } from '../storage/schema.js';
import type { AuditEntry } from './audit-entry.js';
import { outcomes } from './audit-entry.js';

const isoTime = z.iso.datetime({ offset: false });

export const auditSearchSchema = z
  .object({
    patient: z.string().max(128).optional(),
    principal: z.string().max(128).optional(),
    action: z.string().max(96).optional(),
    outcome: z.enum(outcomes).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export type AuditSearch = z.infer<typeof auditSearchSchema>;

export interface AuditSearchResult {
  entries: (AuditEntry & { indexMismatch?: true })[];
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  nextBefore?: number;
}

export async function searchAuditEntries(db: Kysely<WardSchema>, s: AuditSearch): Promise<AuditSearchResult> {
  let q = db.selectFrom('audit_entry').select(['seq', 'body', 'patient_id', 'principal_id', 'action', 'outcome']).orderBy('seq', 'desc').limit(s.limit + 1);
  if (s.patient !== undefined) q = q.where('patient_id', '=', s.patient);
  if (s.principal !== undefined) q = q.where('principal_id', '=', s.principal);
  if (s.action !== undefined) q = q.where('action', '=', s.action);
  if (s.outcome !== undefined) q = q.where('outcome', '=', s.outcome);
  if (s.from !== undefined) q = q.where('ts', '>=', new Date(s.from).toISOString());
  if (s.to !== undefined) q = q.where('ts', '<', new Date(s.to).toISOString());
  if (s.before !== undefined) q = q.where('seq', '<', s.before);
  const rows = await q.execute();
  const page = rows.slice(0, s.limit);
  const entries = page.map((r) => {
    const e = JSON.parse(r.body) as AuditEntry;
    const agrees = (e.patient ?? null) === r.patient_id && e.who.id === r.principal_id && e.action === r.action && e.outcome === r.outcome;
    return agrees ? e : { ...e, indexMismatch: true as const };
  });
  const last = page[page.length - 1];
  return { entries, ...(rows.length > s.limit && last ? { nextBefore: Number(last.seq) } : {}) };
}
