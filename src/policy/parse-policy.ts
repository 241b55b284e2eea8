/**
 * Reads a policy file's text into a `CompiledPolicy`, or throws one `WardError`
 * (`policy.invalid`) listing every problem found, each naming the rule (index and id) and the
 * field, so an administrator fixes the file in one pass. Ward refuses to start on an invalid
 * policy: an access rule that is half understood must not be half applied.
 */
import { WardError } from '../shared/ward-error.js';
import { compilePolicy } from './compile-policy.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { policyEnvelopeSchema, policyRuleSchema } from './policy-document.js';
import type { PolicyDocument, PolicyRule } from './policy-document.js';
import { validateRule } from './validate-rule.js';
import type { PolicyKnowns } from './validate-rule.js';

/** Beyond this many problems the list stops: the first ones are enough to start fixing. */
export const MAX_REPORTED_PROBLEMS = 20;

type IssuePath = readonly PropertyKey[];

function pathText(path: IssuePath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

/** "line 3, column 7" for the position a JSON.parse message names, when it names one. */
function jsonLocation(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (m?.[1] === undefined) return '';
  const position = Number(m[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

function ruleLabel(index: number, raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string' ? raw.id : undefined;
  // The id is echoed only when it is id-shaped, so a stray value never lands in a log verbatim.
  return id !== undefined && /^[\w.-]{1,64}$/.test(id) ? `rules[${index}] (id "${id}")` : `rules[${index}]`;
}

function fail(problems: readonly string[]): never {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const more = problems.length - shown.length;
  // One line (CLI errors are one line; log lines stay whole): problems separated by " | ".
  const list = shown.join(' | ') + (more > 0 ? ` | ... and ${more} more` : '');
  throw new WardError('policy.invalid', `the policy is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    status: 500,
    extra: { problems: problems.length },
  });
}

export function parsePolicy(text: string, known: PolicyKnowns): CompiledPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    fail([`not valid JSON${jsonLocation(text, message)}: ${message}`]);
  }
  return compilePolicy(validatePolicyDocument(json, known));
}

/** The document, typed, or a `policy.invalid` error with every problem. */
export function validatePolicyDocument(json: unknown, known: PolicyKnowns): PolicyDocument {
  const problems: string[] = [];
  const envelope = policyEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    for (const issue of envelope.error.issues) {
      problems.push(issue.path.length === 0 ? issue.message : `${pathText(issue.path)}: ${issue.message}`);
    }
  }
  const rawRules = envelope.success ? envelope.data.rules : typeof json === 'object' && json !== null && 'rules' in json && Array.isArray(json.rules) ? (json.rules as unknown[]) : [];

  const rules: PolicyRule[] = [];
  const firstIndexOfId = new Map<string, number>();
  rawRules.forEach((raw, i) => {
    const label = ruleLabel(i, raw);
    const parsed = policyRuleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(issue.path.length === 0 ? `${label}: ${issue.message}` : `${label}: ${pathText(issue.path)}: ${issue.message}`);
      }
      return;
    }
    const rule = parsed.data;
    const earlier = firstIndexOfId.get(rule.id);
    if (earlier !== undefined) problems.push(`${label}: id: "${rule.id}" is already the id of rules[${earlier}]; ids must be unique`);
    else firstIndexOfId.set(rule.id, i);
    for (const p of validateRule(rule, known)) problems.push(`${label}: ${p}`);
    rules.push(rule);
  });

  if (problems.length > 0 || !envelope.success) fail(problems);
  return { ...envelope.data, rules };
}
