/**
 * `ward users add`: create an account with a one-time password (shown once), audited with
 * the OS user at the console as the actor. The rest of account management (list, disable,
 * reset-mfa) comes with the identity and access work.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { openRuntime } from '../main.js';
import { personRoles } from '../auth/roles.js';
import type { Principal } from '../auth/principal.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleUser } from './console-user.js';

export function registerUsersCommand(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage local accounts');
  users
    .command('add')
    .description(`create an account; roles: ${personRoles.join(', ')}`)
    .requiredOption('--username <name>', 'login name (lower-case letters, digits, . _ -)')
    .requiredOption('--role <role...>', 'one or more roles')
    .addOption(dataDirOption())
    .action(async (opts: { username: string; role: string[]; data?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const rt = await openRuntime(config);
      try {
        // The person who ran the command is accountable for the account, not Ward itself.
        const actor: Principal = { ...consoleUser(), roles: [] };
        const { account, oneTimePassword } = await rt.accounts.create({ username: opts.username, roles: opts.role }, actor);
        io.out(`created ${account.username} (${account.id}) with roles ${account.roles.join(', ')}\none-time password: ${oneTimePassword}\n(shown only this once; it must be changed at first sign-in)\n`);
      } finally {
        await rt.audit.close();
        await rt.database.close();
      }
    });
}
