/**
 * A validated policy, ready to decide: the rules in file order (for `explain` and for people)
 * and an index for `decide`. The index is a table per role of buckets, one bucket per
 * (action, purpose-of-use) cell, each holding the deny and permit rules that could match that
 * cell in file order; only the relationship and the break-glass grant are left to check at
 * decision time. Built by `compilePolicy`; treat it as immutable.
 */
import type { ActionSpec } from './action-catalog.js';
import type { Obligations, DenyCode } from './access-decision.js';
import type { Relationship } from './access-request.js';

export interface CompiledRule {
  /** Position in the file (0-based): first-permit order and the tie-break between denies. */
  readonly index: number;
  readonly id: string;
  readonly description: string;
  readonly effect: 'permit' | 'deny';
  readonly roles: readonly string[];
  readonly anyRole: boolean;
  /** Patterns as written (`patient.*`). */
  readonly actions: readonly string[];
  /** Absent: any purpose, or none. */
  readonly purposes?: readonly string[];
  /** Absent: any relationship. */
  readonly relationships?: readonly Relationship[];
  /** The relationships as bits (care-team 1, assigned 2, none 4); 7 when absent. */
  readonly relationshipMask: number;
  readonly breakGlass: boolean;
  /** Permits only: shared by every decision the rule makes (frozen). */
  readonly obligations: Obligations;
  /** Deny rules only. */
  readonly reason?: DenyCode;
}

export interface CompiledAction extends ActionSpec {
  readonly code: string;
  /** Row of the action in every role table. */
  readonly row: number;
}

export interface RuleBucket {
  readonly denies: readonly CompiledRule[];
  readonly permits: readonly CompiledRule[];
}

/** Buckets of one role, at `action.row * purposeColumns + purposeColumn`. */
export type RoleTable = readonly RuleBucket[];

export interface CompiledPolicy {
  readonly format: string;
  readonly version: string;
  readonly description?: string;
  readonly rules: readonly CompiledRule[];
  readonly actions: ReadonlyMap<string, CompiledAction>;
  /** Column of each accepted purpose of use; `noPurposeColumn` is for requests without one. */
  readonly purposeColumns: ReadonlyMap<string, number>;
  readonly noPurposeColumn: number;
  readonly columnCount: number;
  /** Role name -> its table (its own rules and the `*` ones). */
  readonly roleTables: ReadonlyMap<string, RoleTable>;
  /** The table for a role no rule names: only the `*` rules. */
  readonly anyRoleTable: RoleTable;
}

export const RELATIONSHIP_BITS: Readonly<Record<Relationship, number>> = { 'care-team': 1, assigned: 2, none: 4 };
export const ALL_RELATIONSHIPS = 7;
