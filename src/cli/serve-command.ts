import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { startWard } from '../main.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption, parsePort } from './cli-options.js';

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('serve the HTTP API (graceful shutdown on SIGTERM/SIGINT)')
    .addOption(dataDirOption())
    .option('--port <n>', 'port to listen on (default 8080 or $WARD_PORT)', parsePort)
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .action(async (opts: { data?: string; port?: number; host?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data, port: opts.port, host: opts.host }, env: io.env, cwd: io.cwd });
      const ward = await startWard(config);
      io.err(`ward: serving on ${ward.address}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          ward.shutdown(signal).then(resolve, (e: unknown) => {
            io.err(`ward: shutdown incomplete (${e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'error'})\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
