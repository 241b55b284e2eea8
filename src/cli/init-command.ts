import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { initWard } from '../main.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('create the data directory: database, local key file, audit signing key, first administrator')
    .addOption(dataDirOption())
    .option('--admin <username>', 'username of the first administrator', 'admin')
    .option('--if-missing', 'do nothing (exit 0) when the data directory is already initialized')
    .action(async (opts: { data?: string; admin: string; ifMissing?: boolean }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const r = await initWard(config, { adminUsername: opts.admin, ifMissing: opts.ifMissing ?? false });
      if (!r.created) {
        io.out(`ward: ${config.dataDir} is already initialized${r.policyInstalled ? '; installed the default access policy (policy.json)' : ''}\n`);
        return;
      }
      io.out(
        [
          `Initialized ${config.dataDir}`,
          `  database:         ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'SQLite (ward.db)'}`,
          `  audit key id:     ${r.auditKeyId ?? ''}  (record it: verifiers check checkpoints against it)`,
          `  administrator:    ${r.adminUsername ?? ''}`,
          `  one-time password: ${r.oneTimePassword ?? ''}`,
          `  access policy:    ${r.policyInstalled ? 'policy.json (the default; edit it, then run ward policy check)' : 'as configured'}`,
          '',
          'The password is shown only this once and must be changed at first sign-in;',
          'then an authenticator app (TOTP) must be enrolled before anything else.',
          '',
        ].join('\n'),
      );
    });
}
