import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { openDatabase, requireInitialized } from '../main.js';
import { wardPaths } from '../config/data-dir.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';

export function registerMigrateCommand(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('apply pending database migrations (also done at every start)')
    .addOption(dataDirOption())
    .action(async (opts: { data?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      requireInitialized(wardPaths(config.dataDir));
      const { database, migrations } = await openDatabase(config);
      await database.close();
      io.out(migrations.applied.length ? `applied: ${migrations.applied.join(', ')}\n` : 'database is up to date\n');
    });
}
