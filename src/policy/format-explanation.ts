/**
 * Text for `ward policy explain`: the decision first (effect, code or obligations, reasons),
 * then one line per rule in file order with its verdict, the deciding rule marked.
 */
import type { Explanation } from './explanation.js';

export function formatExplanation(result: Explanation): string {
  const d = result.decision;
  const lines: string[] = [];
  if (d.effect === 'permit') {
    lines.push(`PERMIT by rule ${d.ruleId} (policy version ${d.policyVersion})`);
    const o = d.obligations;
    lines.push(`  obligations: view ${o.view ?? '(none named)'}, de-identify ${o.deidentify ? 'yes' : 'no'}, human review ${o.humanReview ? 'yes' : 'no'}`);
    if (d.breakGlass !== undefined) lines.push(`  under break-glass grant ${d.breakGlass} (flagged in the audit trail, queued for review)`);
  } else {
    lines.push(`DENY ${d.code}${d.ruleId !== undefined ? ` by rule ${d.ruleId}` : ''} (policy version ${d.policyVersion})`);
    for (const r of d.reasons) lines.push(`  ${r}`);
  }
  if (result.trace.length === 0) {
    lines.push('no rule was evaluated: the request was refused before the rules');
    return `${lines.join('\n')}\n`;
  }
  lines.push(`rules in file order (${result.trace.length}):`);
  const width = Math.max(...result.trace.map((t) => t.ruleId.length));
  result.trace.forEach((t, i) => {
    const verdict = t.matched ? 'matched' : `no: ${t.mismatch ?? 'unknown'}`;
    const decisive = d.ruleId === t.ruleId ? '  <= decides' : '';
    lines.push(`  ${String(i + 1).padStart(3)}  ${t.effect.padEnd(6)}  ${t.ruleId.padEnd(width)}  ${verdict}${decisive}`);
  });
  return `${lines.join('\n')}\n`;
}
