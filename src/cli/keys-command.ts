/**
 * `ward keys status|rotate`: the key-encryption keys that wrap data keys. Rotation makes a
 * new KEK version and rewraps every data key under it without touching records; an
 * interrupted rotation is finished by running it again.
 */
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleUser } from './console-user.js';
import { formatTable } from './format-table.js';
import { withRuntime } from './with-runtime.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';

export function registerKeysCommand(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('key-encryption keys and data keys');

  keys
    .command('status')
    .description('KEK versions and how many data keys each wraps')
    .addOption(dataDirOption())
    .action(async (opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        await rt.keyRing.activeKekVersion();
        const rows = await rt.keyRing.status();
        io.out(formatTable(['provider', 'version', 'state', 'data keys'], rows.map((r) => [r.provider, String(r.version), r.state, String(r.dataKeys)])));
      });
    });

  keys
    .command('rotate')
    .description('make a new key-encryption key and rewrap every data key under it')
    .addOption(dataDirOption())
    .action(async (opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const who = consoleUser();
        const report = await rt.keyRing.rotate({
          // Each batch of rewraps commits with its audit entry (fail closed).
          runBatch: (work) => rt.audit.transact(async (trx, record) => {
            const n = await work(trx);
            record(auditEntryOf(who, 'keys.rewrap', 'success', { details: { dataKeys: n, provider: rt.keyRing.providerName } }));
            return n;
          }),
        });
        await rt.audit.append(auditEntryOf(who, 'keys.rotate', 'success', { details: { provider: report.provider, toVersion: report.toVersion, rewrapped: report.rewrapped } }));
        io.out(`${report.provider} KEK version ${report.toVersion} is active; rewrapped ${report.rewrapped} data key(s)${report.fromVersions.length > 0 ? ` from version(s) ${report.fromVersions.join(', ')}` : ''}\n`);
      }, 'keys.rotate');
    });
}
