/** What `verify` can find wrong, and where: the first bad sequence number. */
export type AuditProblemKind =
  | 'modified'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'bad_signature'
  | 'truncated'
  | 'checkpoint_mismatch';

export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind;
  detail: string;
}
