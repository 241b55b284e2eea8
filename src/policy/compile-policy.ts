/**
 * Turns a validated policy document into a `CompiledPolicy`: rules in file order plus the
 * per-role (action x purpose) index `decide` looks rules up in. Compilation is done once, when
 * the policy is loaded, so a decision costs a map lookup, an array index and a short scan.
 */
import { actionCatalog, actionCodes } from './action-catalog.js';
import type { Relationship } from './access-request.js';
import { purposesOfUse } from './purpose-of-use.js';
import type { PolicyDocument, PolicyRule } from './policy-document.js';
import { coveredActions } from './validate-rule.js';
import { ALL_RELATIONSHIPS, RELATIONSHIP_BITS } from './compiled-policy.js';
import type { CompiledAction, CompiledPolicy, CompiledRule, RoleTable, RuleBucket } from './compiled-policy.js';
import type { DenyCode } from './access-decision.js';

const EMPTY_BUCKET: RuleBucket = Object.freeze({ denies: Object.freeze([]), permits: Object.freeze([]) });

function compileRule(rule: PolicyRule, index: number): CompiledRule {
  const relationships = rule.relationships as Relationship[] | undefined;
  const mask = relationships === undefined ? ALL_RELATIONSHIPS : relationships.reduce((m, r) => m | RELATIONSHIP_BITS[r], 0);
  const o = rule.obligations;
  return Object.freeze({
    index,
    id: rule.id,
    description: rule.description,
    effect: rule.effect,
    roles: Object.freeze([...rule.roles]),
    anyRole: rule.roles.includes('*'),
    actions: Object.freeze([...rule.actions]),
    ...(rule.purposes !== undefined ? { purposes: Object.freeze([...rule.purposes]) } : {}),
    ...(relationships !== undefined ? { relationships: Object.freeze([...relationships]) } : {}),
    relationshipMask: mask,
    breakGlass: rule.breakGlass === true,
    obligations: Object.freeze({
      ...(o?.view !== undefined ? { view: o.view } : {}),
      deidentify: o?.deidentify ?? false,
      humanReview: o?.humanReview ?? false,
    }),
    ...(rule.reason !== undefined ? { reason: rule.reason as DenyCode } : {}),
  });
}

/** The document must have passed `validateRule` for every rule (as `parsePolicy` ensures). */
export function compilePolicy(doc: PolicyDocument): CompiledPolicy {
  const rules = doc.rules.map(compileRule);
  const actions = new Map<string, CompiledAction>(actionCodes.map((code, row) => [code, Object.freeze({ code, row, ...actionCatalog[code] })]));
  const purposeColumns = new Map<string, number>(purposesOfUse.map((p, i) => [p, i]));
  const noPurposeColumn = purposesOfUse.length;
  const columnCount = noPurposeColumn + 1;
  const cells = actionCodes.length * columnCount;

  type Mutable = { denies: CompiledRule[]; permits: CompiledRule[] };
  const newTable = (): (Mutable | undefined)[] => new Array<Mutable | undefined>(cells).fill(undefined);
  const named = new Map<string, (Mutable | undefined)[]>();
  for (const rule of rules) for (const role of rule.roles) if (role !== '*' && !named.has(role)) named.set(role, newTable());
  const any = newTable();

  for (const rule of rules) {
    const tables = rule.anyRole ? [any, ...named.values()] : rule.roles.map((r) => named.get(r)).filter((t) => t !== undefined);
    const columns = rule.purposes === undefined ? [...purposeColumns.values(), noPurposeColumn] : rule.purposes.map((p) => purposeColumns.get(p)).filter((c) => c !== undefined);
    for (const code of coveredActions(rule.actions)) {
      const row = actions.get(code)?.row ?? 0;
      for (const column of columns) {
        const cell = row * columnCount + column;
        for (const table of tables) {
          const bucket = (table[cell] ??= { denies: [], permits: [] });
          // Rules arrive in file order, so each list stays in file order.
          (rule.effect === 'deny' ? bucket.denies : bucket.permits).push(rule);
        }
      }
    }
  }

  const freeze = (table: (Mutable | undefined)[]): RoleTable =>
    Object.freeze(table.map((b) => (b === undefined ? EMPTY_BUCKET : Object.freeze({ denies: Object.freeze(b.denies), permits: Object.freeze(b.permits) }))));
  return Object.freeze({
    format: doc.format,
    version: doc.version,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    rules: Object.freeze(rules),
    actions,
    purposeColumns,
    noPurposeColumn,
    columnCount,
    roleTables: new Map([...named].map(([role, table]) => [role, freeze(table)])),
    anyRoleTable: freeze(any),
  });
}
