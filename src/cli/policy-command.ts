/**
 * `ward policy check|explain`: validate the policy file an administrator edits, and show,
 * for one principal, purpose, action and patient, which rule permits or denies and why.
 * `explain` looks up the facts the decision rests on (the principal's roles, its relationship
 * to the patient, an open break-glass grant) in the database, or takes them as flags for a
 * hypothetical question. Asking is audited (it reveals relationships).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { policyFileOf, readPolicyFile } from '../main.js';
import { explain, formatExplanation } from '../policy/explain.js';
import { relationships } from '../policy/access-request.js';
import type { Relationship } from '../policy/access-request.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { AUDIT_PURPOSE_PATTERN, auditCodeSchema } from '../audit/audit-entry.js';
import { isRole } from '../auth/roles.js';
import type { Role } from '../auth/roles.js';
import { WardError } from '../shared/ward-error.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleUser } from './console-user.js';
import { withRuntime } from './with-runtime.js';
import { accessRequestOf } from '../auth/access-control.js';
import { resolvePrincipal } from './resolve-principal.js';

export function registerPolicyCommand(program: Command, io: CliIo): void {
  const policy = program.command('policy').description('validate and explain the access policy');

  policy
    .command('check')
    .description('validate a policy file (default: the data directory\'s); exit 0 when valid, 1 with every problem listed')
    .option('--file <path>', 'policy file to check')
    .addOption(dataDirOption())
    .action((opts: { file?: string; data?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const file = opts.file ?? policyFileOf(config);
      const { policy: compiled, digest } = readPolicyFile(file);
      io.out(`${file}: valid, version ${compiled.version}, ${compiled.rules.length} rules, sha256 ${digest}\n`);
    });

  policy
    .command('explain')
    .description('show which rule permits or denies a request, and why')
    .requiredOption('--principal <who>', 'a username, svc:<service> (service identity) or oidc:<id> (single sign-on; give --role)')
    .requiredOption('--action <action>', 'action code, e.g. patient.read')
    .option('--purpose <code>', 'HL7 PurposeOfUse code, e.g. TREAT')
    .option('--patient <id>', 'patient id')
    .addOption(new Option('--relationship <kind>', 'assume this relationship instead of looking it up').choices([...relationships]))
    .option('--role <role...>', 'assume these roles instead of looking them up')
    .addOption(dataDirOption())
    .action(async (opts: { principal: string; action: string; purpose?: string; patient?: string; relationship?: Relationship; role?: string[]; data?: string }) => {
      const badRole = opts.role?.find((r) => !isRole(r));
      if (badRole !== undefined) throw new WardError('cli.invalid_role', `unknown role ${JSON.stringify(badRole)}`);
      await withRuntime(io, opts, async (rt) => {
        const found = await resolvePrincipal(rt, opts.principal);
        const principal = { ...found, roles: opts.role !== undefined ? (opts.role as Role[]) : found.roles };
        const query = { principal, action: opts.action, ...(opts.purpose !== undefined ? { purpose: opts.purpose } : {}), ...(opts.patient !== undefined ? { patient: opts.patient } : {}) };
        // The same facts the server would gather; an assumed relationship replaces the stored one.
        const facts = await rt.access.factsFor(query);
        const relationship = opts.relationship ?? facts.relationship;
        const grant = facts.grant;
        const result = explain(rt.policy(), accessRequestOf(query, { relationship, grant, now: rt.clock.now() }));
        await rt.audit.append(auditEntryOf(consoleUser(), 'policy.explain', 'success', {
          ...(opts.patient !== undefined ? { patient: opts.patient } : {}),
          resource: { type: 'Principal', id: principal.id },
          ...(opts.purpose !== undefined && AUDIT_PURPOSE_PATTERN.test(opts.purpose) ? { purpose: opts.purpose } : {}),
          details: {
            effect: result.decision.effect,
            ...(auditCodeSchema.safeParse(opts.action).success ? { action: opts.action } : {}),
            ...(result.decision.ruleId !== undefined ? { rule: result.decision.ruleId } : {}),
            hypothetical: opts.role !== undefined || opts.relationship !== undefined,
          },
        }));
        io.out(`principal ${principal.id} (${principal.kind}) roles: ${principal.roles.join(', ') || '(none)'}${opts.role !== undefined ? ' (assumed)' : ''}\n`);
        if (found.disabled) io.out('account disabled: every request is refused at sign-in, whatever the policy says\n');
        if (relationship !== undefined) io.out(`relationship to ${opts.patient ?? 'patient'}: ${relationship}${opts.relationship !== undefined ? ' (assumed)' : ''}\n`);
        if (grant !== undefined) io.out(`open break-glass grant ${grant.id} until ${grant.expiresAt}\n`);
        io.out(formatExplanation(result));
      });
    });
}
