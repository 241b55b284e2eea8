/**
 * `ward care-team add|remove|list`: who works on which patient (care team member, or assigned
 * to the patient's case). The policy grants most patient access only with a relationship, so
 * this is how access follows the work (minimum necessary, 45 CFR 164.502(b)).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { relationshipKinds } from '../auth/care-relationships.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleActor } from './console-user.js';
import { formatTable } from './format-table.js';
import { withRuntime } from './with-runtime.js';
import { resolvePrincipal } from './resolve-principal.js';
import { WardError } from '../shared/ward-error.js';

const kindOption = (): Option => new Option('--kind <kind>', 'relationship').choices([...relationshipKinds]).default('care-team');

function parseUntil(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new WardError('cli.invalid_option', '--until must be an ISO-8601 date or time');
  return new Date(t).toISOString();
}

export function registerCareTeamCommand(program: Command, io: CliIo): void {
  const team = program.command('care-team').description('manage who works on which patient');

  team
    .command('add')
    .description('relate a person (username) or service (svc:<name>) to a patient')
    .requiredOption('--principal <who>', 'username, svc:<service> or oidc:<id>')
    .requiredOption('--patient <id>', 'patient id')
    .addOption(kindOption())
    .option('--until <time>', 'the relationship ends at this ISO-8601 time')
    .addOption(dataDirOption())
    .action(async (opts: { principal: string; patient: string; kind: string; until?: string; data?: string }) => {
      const until = parseUntil(opts.until);
      await withRuntime(io, opts, async (rt) => {
        const p = await resolvePrincipal(rt, opts.principal);
        const r = await rt.relationships.add({ principalId: p.id, patientId: opts.patient, kind: opts.kind, ...(until !== undefined ? { expiresAt: until } : {}) }, consoleActor());
        io.out(`${opts.principal} (${r.principalId}) is ${r.kind} for patient ${r.patientId}${r.expiresAt ? ` until ${r.expiresAt}` : ''}\n`);
      }, 'care-relationship.add');
    });

  team
    .command('remove')
    .description('end a relationship')
    .requiredOption('--principal <who>', 'username, svc:<service> or oidc:<id>')
    .requiredOption('--patient <id>', 'patient id')
    .addOption(kindOption())
    .addOption(dataDirOption())
    .action(async (opts: { principal: string; patient: string; kind: string; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const p = await resolvePrincipal(rt, opts.principal);
        const removed = await rt.relationships.remove({ principalId: p.id, patientId: opts.patient, kind: opts.kind }, consoleActor());
        io.out(removed ? `removed\n` : `no such relationship\n`);
      }, 'care-relationship.remove');
    });

  team
    .command('list')
    .description('list relationships')
    .option('--principal <who>', 'only this username or svc:<service>')
    .option('--patient <id>', 'only this patient')
    .addOption(dataDirOption())
    .action(async (opts: { principal?: string; patient?: string; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const principalId = opts.principal === undefined ? undefined : (await resolvePrincipal(rt, opts.principal)).id;
        const list = await rt.relationships.list({ ...(principalId !== undefined ? { principalId } : {}), ...(opts.patient !== undefined ? { patientId: opts.patient } : {}) });
        io.out(formatTable(['PRINCIPAL', 'PATIENT', 'KIND', 'UNTIL', 'ADDED BY'], list.map((r) => [r.principalId, r.patientId, r.kind, r.expiresAt ?? '-', r.createdBy])));
      });
    });
}
