/**
 * `ward users add|list|disable|enable|reset-mfa`: local accounts, managed from the console and
 * audited with the OS user at the console as the actor. Disabling ends every session at once;
 * resetting the second factor ends every session and makes the person enroll again at the
 * next sign-in.
 */
import type { Command } from 'commander';
import { personRoles } from '../auth/roles.js';
import { WardError } from '../shared/ward-error.js';
import { newOneTimePassword } from '../auth/one-time-password.js';
import { hashPassword } from '../auth/password-hasher.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleActor } from './console-user.js';
import { formatTable } from './format-table.js';
import { withRuntime } from './with-runtime.js';


export function registerUsersCommand(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage local accounts');
  users
    .command('add')
    .description(`create an account; roles: ${personRoles.join(', ')}`)
    .requiredOption('--username <name>', 'login name (lower-case letters, digits, . _ -)')
    .requiredOption('--role <role...>', 'one or more roles')
    .addOption(dataDirOption())
    .action(async (opts: { username: string; role: string[]; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const { account, oneTimePassword } = await rt.accounts.create({ username: opts.username, roles: opts.role }, consoleActor());
        io.out(`created ${account.username} (${account.id}) with roles ${account.roles.join(', ')}\none-time password: ${oneTimePassword}\n(shown only this once; it must be changed at first sign-in, then an authenticator app enrolled)\n`);
      }, 'account.create');
    });

  users
    .command('list')
    .description('list accounts: roles, second factor, disabled, locked')
    .option('--json', 'one JSON object per line')
    .addOption(dataDirOption())
    .action(async (opts: { json?: boolean; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const list = await rt.accounts.list();
        if (opts.json) {
          for (const a of list) io.out(`${JSON.stringify(a)}\n`);
          return;
        }
        io.out(formatTable(['USERNAME', 'ID', 'ROLES', 'MFA', 'STATUS', 'LOCKED UNTIL', 'CREATED'], list.map((a) => [
          a.username, a.id, a.roles.join(','), a.mfaEnrolled ? 'totp' : 'not enrolled', a.disabled ? 'disabled' : 'active', a.lockedUntil ?? '-', a.createdAt,
        ])));
      });
    });

  users
    .command('disable')
    .description('disable an account: sign-in stops and every session ends at once')
    .argument('<username>')
    .addOption(dataDirOption())
    .action(async (username: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const { sessionsRevoked } = await rt.accounts.disable(username, consoleActor());
        io.out(`disabled ${username}; ${sessionsRevoked} session(s) ended\n`);
      }, 'account.disable');
    });

  users
    .command('enable')
    .description('enable a disabled account')
    .argument('<username>')
    .addOption(dataDirOption())
    .action(async (username: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        await rt.accounts.enable(username, consoleActor());
        io.out(`enabled ${username}\n`);
      }, 'account.enable');
    });

  users
    .command('reset-mfa')
    .description('remove an account\'s authenticator (lost phone): its sessions end, it gets a new one-time password, and it must enroll again')
    .argument('<username>')
    .addOption(dataDirOption())
    .action(async (username: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const account = await rt.accounts.findByUsername(username);
        if (!account) throw new WardError('account.not_found', 'no account with that username');
        // The old password may have been lost with the phone: enrolling a new factor must take
        // a secret only the person at the console hands over (one transaction with the reset).
        const oneTimePassword = newOneTimePassword();
        const { removed, sessionsRevoked } = await rt.mfa.resetTotp(account.id, consoleActor(), {}, { replacePasswordHash: await hashPassword(oneTimePassword) });
        io.out(`${removed ? 'removed the authenticator of' : 'no authenticator was enrolled for'} ${username}; ${sessionsRevoked} session(s) ended\n`);
        io.out(`one-time password: ${oneTimePassword}\n(shown only this once; hand it over in person: it must be changed at sign-in, then a new authenticator enrolled)\n`);
      }, 'mfa.reset');
    });
}
