/**
 * The one way to build an audit entry from who acted, what they did, the outcome and the
 * request it happened in: every layer (auth, http, cli) uses it, so the request id and client
 * address are attached the same way everywhere.
 */
import type { AuditEntryInput } from './audit-entry.js';

/** Where an action came from: the request id and client address (ids only, no PHI). */
export interface AuditContext {
  requestId?: string;
  client?: string;
}

export function auditEntryOf(
  who: AuditEntryInput['who'],
  action: string,
  outcome: AuditEntryInput['outcome'],
  extra: Partial<Omit<AuditEntryInput, 'who' | 'action' | 'outcome'>> = {},
  context: AuditContext = {},
): AuditEntryInput {
  return {
    who: { id: who.id, kind: who.kind },
    action,
    outcome,
    ...extra,
    ...(context.requestId ? { requestId: context.requestId } : {}),
    ...(context.client ? { client: context.client } : {}),
  };
}
