import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliExit } from './cli-io.js';
import { registerInitCommand } from './init-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerAuditCommand } from './audit-command.js';
import { registerUsersCommand } from './users-command.js';
import { registerDeidCommand } from './deid-command.js';
import { registerPolicyCommand } from './policy-command.js';
import { registerApiKeysCommand } from './api-keys-command.js';
import { registerCareTeamCommand } from './care-team-command.js';
import { registerImportCommand } from './import-command.js';
import { registerKeysCommand } from './keys-command.js';
import { registerPatientCommand } from './patient-command.js';
import { isWardError } from '../shared/ward-error.js';

export function buildWardProgram(io: CliIo): Command {
  const program = new Command('ward')
    .description('Ward: private AI for healthcare, with HIPAA safeguards enforced by the architecture')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerInitCommand(program, io);
  registerServeCommand(program, io);
  registerMigrateCommand(program, io);
  registerAuditCommand(program, io);
  registerUsersCommand(program, io);
  registerApiKeysCommand(program, io);
  registerCareTeamCommand(program, io);
  registerImportCommand(program, { io, progressStream: process.stderr.isTTY ? process.stderr : undefined });
  registerKeysCommand(program, io);
  registerPatientCommand(program, io);
  registerPolicyCommand(program, io);
  registerDeidCommand(program, { io });
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run the CLI; returns the exit code. Every failure is one line on stderr, never a stack trace. */
export async function runWard(argv: string[], io: CliIo): Promise<number> {
  const program = buildWardProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliExit) {
      io.err(`ward: ${e.message}\n`);
      return e.exitCode;
    }
    if (isWardError(e)) {
      io.err(`ward: ${e.message} [${e.code}]\n`);
      return 1;
    }
    io.err(`ward: unexpected error (${e instanceof Error ? e.name : 'unknown'}); no details are printed because they may contain sensitive data\n`);
    return 1;
  }
}
