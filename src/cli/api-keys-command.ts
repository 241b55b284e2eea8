/**
 * `ward api-keys create|list|revoke|rotate`: credentials for service identities (internal apps,
 * workflows: the "what" that queries PHI). A key is shown once; only its hash is stored. Scopes
 * narrow what the policy permits the service's roles; they never widen it. `--bind-certificate`
 * binds a key to the service's client certificate (RFC 8705 section 3): it then works only
 * over mutual TLS with that certificate.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { serviceRoles } from '../auth/roles.js';
import { actionCodes, actionMatches } from '../policy/action-catalog.js';
import { WardError } from '../shared/ward-error.js';
import type { CliIo } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleActor } from './console-user.js';
import { formatTable } from './format-table.js';
import { withRuntime } from './with-runtime.js';
import type { ApiKeyRecord } from '../auth/api-key-service.js';
import { loadConfig } from '../config/load-config.js';
import { certificateSha256, parseCertificates } from '../http/tls-server-options.js';

/** A scope that matches no action Ward knows is a typo: refuse it rather than issue a useless key. */
function checkScopes(scopes: readonly string[]): void {
  const dead = scopes.find((s) => !actionCodes.some((a) => actionMatches(s, a)));
  if (dead !== undefined) throw new WardError('api-key.invalid_scope', `scope ${JSON.stringify(dead)} matches no action; actions are: ${actionCodes.join(', ')}`);
}

function parseHours(v: string): number {
  if (!/^\d{1,3}$/.test(v) || Number(v) > 168) throw new InvalidArgumentError('must be a whole number of hours from 0 to 168');
  return Number(v);
}

function parseDays(v: string): number {
  if (!/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 365) throw new InvalidArgumentError('must be a whole number of days from 1 to 365');
  return Number(v);
}

/** The SHA-256 of a client certificate file (PEM, first certificate; or DER). */
function certificateFileSha256(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new WardError('api-key.certificate_unreadable', `cannot read the certificate file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const [first] = parseCertificates(text);
    if (first === undefined) throw new WardError('api-key.certificate_invalid', `${file} holds no valid PEM certificate`);
    return certificateSha256(first);
  }
  try {
    return certificateSha256(new X509Certificate(bytes));
  } catch {
    throw new WardError('api-key.certificate_invalid', `${file} is not an X.509 certificate (PEM or DER)`);
  }
}

/** A bound key is useless until the server verifies client certificates: say so at once. */
function mutualTlsNote(io: CliIo, opts: { data?: string }): string {
  const tls = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd }).tls;
  return tls === undefined || tls.clientCertificates === 'off'
    ? '\nnote: mutual TLS is off (tls.clientCertificates in ward.json): this key cannot be used until it is optional or required'
    : '';
}

function printIssued(io: CliIo, key: string, r: ApiKeyRecord, note = ''): void {
  io.out(`api key ${r.id} for service ${r.service} (principal svc:${r.service}), roles ${r.roles.join(', ')}, scopes ${r.scopes.join(', ')}, expires ${r.expiresAt}\n`);
  if (r.certificateSha256 !== null) io.out(`bound to the client certificate with SHA-256 ${r.certificateSha256}: accepted only over mutual TLS with it${note}\n`);
  io.out(`key: ${key}\n(shown only this once; store it in the service's secret store)\n`);
}

export function registerApiKeysCommand(program: Command, io: CliIo): void {
  const keys = program.command('api-keys').description('manage API keys of service identities');

  keys
    .command('create')
    .description(`issue a key for a service; roles: ${serviceRoles.join(', ')}`)
    .requiredOption('--service <name>', 'service identity name (lower-case letters, digits, -)')
    .requiredOption('--role <role...>', 'service roles')
    .requiredOption('--scope <action...>', 'actions the key may be used for (e.g. model.chat, patient.*)')
    .option('--expires-in-days <n>', 'lifetime in days (1-365, default 90)', parseDays)
    .option('--bind-certificate <file>', "accept the key only over mutual TLS with this client certificate (the service's PEM or DER certificate)")
    .addOption(dataDirOption())
    .action(async (opts: { service: string; role: string[]; scope: string[]; expiresInDays?: number; bindCertificate?: string; data?: string }) => {
      checkScopes(opts.scope);
      const certificateSha256 = opts.bindCertificate === undefined ? undefined : certificateFileSha256(opts.bindCertificate);
      await withRuntime(io, opts, async (rt) => {
        const issued = await rt.apiKeys.create({
          service: opts.service, roles: opts.role, scopes: opts.scope,
          ...(opts.expiresInDays !== undefined ? { expiresInDays: opts.expiresInDays } : {}),
          ...(certificateSha256 !== undefined ? { certificateSha256 } : {}),
        }, consoleActor());
        printIssued(io, issued.key, issued.record, certificateSha256 !== undefined ? mutualTlsNote(io, opts) : '');
      }, 'api-key.create');
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--service <name>', 'only this service')
    .option('--json', 'one JSON object per line')
    .addOption(dataDirOption())
    .action(async (opts: { service?: string; json?: boolean; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const list = await rt.apiKeys.list(opts.service !== undefined ? { service: opts.service } : {});
        if (opts.json) {
          for (const k of list) io.out(`${JSON.stringify(k)}\n`);
          return;
        }
        io.out(formatTable(['ID', 'PREFIX', 'SERVICE', 'ROLES', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED', 'CERTIFICATE'], list.map((k) => [
          k.id, k.prefix, k.service, k.roles.join(','), k.scopes.join(','), k.status, k.expiresAt, k.lastUsedAt ?? '-',
          // Enough of the SHA-256 to tell certificates apart; --json has all of it.
          k.certificateSha256 === null ? '-' : `sha256:${k.certificateSha256.slice(0, 16)}`,
        ])));
      });
    });

  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<id>', 'key id (the part after wak_)')
    .addOption(dataDirOption())
    .action(async (id: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const r = await rt.apiKeys.revoke(id, consoleActor());
        io.out(`revoked ${r.id} (service ${r.service})\n`);
      }, 'api-key.revoke');
    });

  keys
    .command('rotate')
    .description('issue a replacement key with the same service, roles and scopes; the old key stops after a grace period')
    .argument('<id>', 'key id to replace')
    .option('--grace-hours <n>', 'hours the old key keeps working (0-168, default 24)', parseHours)
    .option('--bind-certificate <file>', "bind the new key to this (renewed) client certificate; default: the old key's certificate, if any")
    .addOption(dataDirOption())
    .action(async (id: string, opts: { graceHours?: number; bindCertificate?: string; data?: string }) => {
      const certificateSha256 = opts.bindCertificate === undefined ? undefined : certificateFileSha256(opts.bindCertificate);
      await withRuntime(io, opts, async (rt) => {
        const issued = await rt.apiKeys.rotate(id, consoleActor(), {
          ...(opts.graceHours !== undefined ? { graceHours: opts.graceHours } : {}),
          ...(certificateSha256 !== undefined ? { certificateSha256 } : {}),
        });
        printIssued(io, issued.key, issued.record);
        io.out(`the old key ${id} stops working at the end of its grace period\n`);
      }, 'api-key.rotate');
    });
}
