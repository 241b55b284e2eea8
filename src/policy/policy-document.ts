/**
 * The policy file an administrator edits (`data/policy/default-policy.json` is the shipped
 * one): its shape, checked with zod before the rules are checked against what Ward knows
 * (`validate-rule.ts`). Strict objects: a misspelt key (`purpose` for `purposes`) would
 * otherwise be ignored and silently widen or narrow access.
 */
import { z } from 'zod';

export const POLICY_FORMAT = 'ward.policy.v1';

/** Rule ids appear in decisions, audit entries and `ward policy explain` output. */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,63}$/;

/** A deny rule's reason is a stable dotted code, e.g. `policy.marketing_prohibited`. */
export const REASON_CODE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

/** Versions name a policy revision in every decision; dates sort well: `2026-11-29.1`. */
export const POLICY_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const list = (tooSmall: string) =>
  z
    .array(z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }), { error: 'must be a list of strings' })
    .min(1, { error: tooSmall });
const requiredList = list('must list at least one entry');
const optionalList = list('must list at least one entry, or be left out to mean any');

/** Object errors that name the unknown keys and the allowed ones, not just "invalid". */
function objectError(what: string, keys: readonly string[]) {
  return (issue: { code?: string; keys?: string[] }): string => {
    if (issue.code === 'unrecognized_keys') {
      const unknown = (issue.keys ?? []).map((k) => `"${k}"`).join(', ');
      return `unknown key(s) ${unknown}; keys are: ${keys.join(', ')}`;
    }
    return `${what} must be a JSON object`;
  };
}

const ruleKeys = ['id', 'description', 'effect', 'roles', 'actions', 'purposes', 'relationships', 'breakGlass', 'obligations', 'reason'] as const;

export const policyRuleSchema = z.strictObject({
  id: z.string({ error: 'is required (a string)' }).regex(RULE_ID_PATTERN, { error: 'must match ^[a-z0-9][a-z0-9-]{1,63}$ (lower case, digits, hyphens)' }),
  description: z.string({ error: 'is required: say why the rule exists' }).trim().min(1, { error: 'is required: say why the rule exists' }).max(1000, { error: 'must be at most 1000 characters' }),
  effect: z.enum(['permit', 'deny'], { error: 'must be "permit" or "deny"' }),
  roles: requiredList,
  actions: requiredList,
  purposes: optionalList.optional(),
  relationships: optionalList.optional(),
  breakGlass: z.boolean({ error: 'must be true or false' }).optional(),
  obligations: z
    .strictObject(
      {
        view: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
        deidentify: z.boolean({ error: 'must be true or false' }).optional(),
        humanReview: z.boolean({ error: 'must be true or false' }).optional(),
      },
      { error: objectError('obligations', ['view', 'deidentify', 'humanReview']) },
    )
    .optional(),
  reason: z.string({ error: 'must be a string' }).regex(REASON_CODE_PATTERN, { error: 'must be a dotted code such as policy.marketing_prohibited' }).optional(),
}, { error: objectError('a rule', ruleKeys) });

export type PolicyRule = z.infer<typeof policyRuleSchema>;

/** The envelope; rules are checked one by one so every bad rule is reported, not the first. */
export const policyEnvelopeSchema = z.strictObject({
  format: z.literal(POLICY_FORMAT, { error: `must be "${POLICY_FORMAT}"` }),
  version: z.string({ error: 'is required (a string such as 2026-11-29.1)' }).regex(POLICY_VERSION_PATTERN, { error: 'must be 1-64 letters, digits, dots, hyphens or underscores, such as 2026-11-29.1' }),
  description: z.string({ error: 'must be a string' }).optional(),
  rules: z.array(z.unknown(), { error: 'must be a list of rules' }).min(1, { error: 'must list at least one rule (an empty policy denies everything)' }),
}, { error: objectError('the policy', ['format', 'version', 'description', 'rules']) });

export interface PolicyDocument {
  format: typeof POLICY_FORMAT;
  version: string;
  description?: string;
  rules: PolicyRule[];
}
