import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { initWard } from '../main.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { installSelfSignedTls } from './self-signed-tls.js';
import type { SelfSignedTls } from './self-signed-tls.js';

function tlsLines(tls: SelfSignedTls): string[] {
  const what = tls.created
    ? 'self-signed certificate made for trials; ward serve now serves HTTPS (tls in ward.json)'
    : tls.configuredElsewhere
      ? 'already configured in ward.json; no self-signed certificate made'
      : 'self-signed certificate already in place (kept)';
  return [
    `  TLS:              ${what}`,
    `  certificate:      ${tls.certFile} (valid until ${tls.validTo}; ${tls.names})`,
    `  SHA-256 fingerprint: ${tls.fingerprint256}`,
    '  (clients pin it: give them the certificate file as their only CA, or compare the fingerprint)',
  ];
}

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('create the data directory: database, local key file, audit signing key, first administrator')
    .addOption(dataDirOption())
    .option('--admin <username>', 'username of the first administrator', 'admin')
    .option('--if-missing', 'do nothing (exit 0) when the data directory is already initialized')
    .option('--self-signed', 'also make a self-signed TLS certificate (90 days, for trials) and serve HTTPS with it')
    .action(async (opts: { data?: string; admin: string; ifMissing?: boolean; selfSigned?: boolean }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const r = await initWard(config, { adminUsername: opts.admin, ifMissing: opts.ifMissing ?? false });
      // After the data directory exists: a failure here leaves an initialized directory, and
      // `ward init --if-missing --self-signed` finishes the job.
      const tls = opts.selfSigned ? await installSelfSignedTls(config) : undefined;
      if (!r.created) {
        io.out(`ward: ${config.dataDir} is already initialized${r.policyInstalled ? '; installed the default access policy (policy.json)' : ''}\n`);
        if (tls !== undefined) io.out(`${tlsLines(tls).join('\n')}\n`);
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
          ...(tls !== undefined ? tlsLines(tls) : []),
          '',
          'The password is shown only this once and must be changed at first sign-in;',
          'then an authenticator app (TOTP) must be enrolled before anything else.',
          '',
        ].join('\n'),
      );
    });
}
