/**
 * `ward audit verify|export|proof|check-proof|checkpoint`. Reading the audit trail is itself
 * an audited access: export and proof append an entry (the OS account at the console as the
 * principal) before any data is written out.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { consoleUser } from './console-user.js';
import { once } from 'node:events';
import { loadConfig } from '../config/load-config.js';
import { openDatabase, openRuntime, requireInitialized } from '../main.js';
import { wardPaths } from '../config/data-dir.js';
import { readAllCheckpoints, streamAuditRows, verifyStoredLog } from '../audit/audit-reader.js';
import { CheckpointFile } from '../audit/checkpoint-file.js';
import { readVerifyKey } from '../audit/signing-key-files.js';
import { buildInclusionProof, checkInclusionProof } from '../audit/audit-proof.js';
import { exportAudit } from '../audit/audit-export.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { AUDIT_ID_PATTERN } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import { WardError } from '../shared/ward-error.js';
import type { CliIo } from './cli-io.js';
import { CliExit } from './cli-io.js';
import { dataDirOption, parsePositiveInt } from './cli-options.js';

function openExclusive(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path, { mode: 0o600, flags: 'wx' });
    stream.once('open', () => resolve(stream));
    stream.once('error', () => reject(new WardError('cli.output_exists', `cannot create ${path}: it exists or is not writable`)));
  });
}

async function recordAccess(audit: AuditLog, action: string, extra: Parameters<typeof auditEntryOf>[3] = {}): Promise<void> {
  await audit.append(auditEntryOf(consoleUser(), action, 'success', extra));
  await audit.flush();
}

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('verify, export and prove the tamper-evident audit log');
  const keyOpt = (): Option => new Option('--public-key <file>', 'trusted audit public key (default: the data directory\'s)');

  audit
    .command('verify')
    .description('recompute hash chain, Merkle tree and checkpoint signatures; exit 0 when intact, 1 otherwise')
    .addOption(dataDirOption())
    .addOption(keyOpt())
    .action(async (opts: { data?: string; publicKey?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const paths = wardPaths(config.dataDir);
      requireInitialized(paths);
      const publicKey = readVerifyKey(opts.publicKey ?? paths.verifyKey);
      const { database } = await openDatabase(config, { migrate: false });
      try {
        const started = performance.now();
        const v = await verifyStoredLog(database, publicKey, new CheckpointFile(paths.checkpointFile));
        const secs = ((performance.now() - started) / 1000).toFixed(2);
        for (const w of v.warnings) io.err(`warning: ${w}\n`);
        if (!v.ok && v.problem) {
          throw new CliExit(1, `audit log NOT intact: first bad entry ${v.problem.seq}: ${v.problem.kind}: ${v.problem.detail}`);
        }
        const latest = v.latestCheckpoint ? `; latest checkpoint covers ${v.latestCheckpoint.treeSize} at ${v.latestCheckpoint.time}` : '';
        io.out(`audit log intact: ${v.entries} entries, ${v.checkpointsVerified} checkpoint signatures verified${latest} (${secs} s)\n`);
      } finally {
        await database.close();
      }
    });

  audit
    .command('export')
    .description('export entries as FHIR R4 AuditEvent (IHE BALP) NDJSON or JSON lines for a SIEM')
    .addOption(new Option('--format <format>', 'output format').choices(['fhir', 'jsonl']).makeOptionMandatory())
    .option('--since <time>', 'only entries at or after this ISO-8601 time')
    .option('--patient <id>', 'only entries about this patient')
    .option('--out <file>', 'write to a file (mode 0600) instead of standard output')
    .addOption(dataDirOption())
    .action(async (opts: { format: 'fhir' | 'jsonl'; since?: string; patient?: string; out?: string; data?: string }) => {
      // Validate everything and open the output before recording the export: the audit entry
      // must describe an export that is actually about to happen.
      if (opts.patient !== undefined && !AUDIT_ID_PATTERN.test(opts.patient)) {
        throw new WardError('audit.invalid_patient_id', '--patient must be a patient id (no spaces, at most 128 characters)');
      }
      if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) {
        throw new WardError('audit.export_invalid_since', '--since must be an ISO-8601 time');
      }
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const rt = await openRuntime(config);
      let file: WriteStream | undefined;
      try {
        // 'wx': never overwrite (or inherit the permissions of) an existing file.
        file = opts.out === undefined ? undefined : await openExclusive(opts.out);
        await recordAccess(rt.audit, 'audit.export', {
          ...(opts.patient !== undefined ? { patient: opts.patient } : {}),
          details: { format: opts.format },
        });
        const write = async (line: string): Promise<void> => {
          if (file === undefined) io.out(line);
          else if (!file.write(line)) await once(file, 'drain');
        };
        const r = await exportAudit(streamAuditRows(rt.database.db), {
          format: opts.format, observerId: 'ward',
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.patient !== undefined ? { patient: opts.patient } : {}),
        }, write);
        if (file !== undefined) {
          file.end();
          await once(file, 'finish');
        }
        io.err(`exported ${r.exported} entries\n`);
      } finally {
        if (file !== undefined && !file.writableFinished) file.destroy();
        await rt.audit.close();
        await rt.database.close();
      }
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the log now (the server does so every 60 s and at shutdown)')
    .addOption(dataDirOption())
    .action(async (opts: { data?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const rt = await openRuntime(config);
      try {
        const cp = await rt.audit.checkpoint();
        io.out(cp ? `checkpoint signed: tree size ${cp.treeSize}, root ${cp.rootHash}\n` : 'no new entries since the latest checkpoint\n');
      } finally {
        await rt.audit.close();
        await rt.database.close();
      }
    });

  audit
    .command('proof')
    .description('write an inclusion proof of entry SEQ against the latest signed checkpoint')
    .argument('<seq>', 'sequence number of the entry', parsePositiveInt)
    .option('--out <file>', 'write the proof to a file instead of standard output')
    .addOption(dataDirOption())
    .action(async (seq: number, opts: { out?: string; data?: string }) => {
      const config = loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd });
      const rt = await openRuntime(config);
      try {
        const publicKey = readVerifyKey(rt.paths.verifyKey);
        const checkpoints = await readAllCheckpoints(rt.database.db, new CheckpointFile(rt.paths.checkpointFile));
        const proof = await buildInclusionProof(rt.database.db, seq, checkpoints, publicKey);
        await recordAccess(rt.audit, 'audit.proof', { details: { seq } });
        const text = `${JSON.stringify(proof, null, 2)}\n`;
        if (opts.out) writeFileSync(opts.out, text, { mode: 0o600 });
        else io.out(text);
      } finally {
        await rt.audit.close();
        await rt.database.close();
      }
    });

  audit
    .command('check-proof')
    .description('check an inclusion proof offline against the audit public key; exit 0 when valid')
    .argument('<file>', 'proof file (- for standard input)')
    .addOption(keyOpt())
    .addOption(dataDirOption())
    .action((file: string, opts: { publicKey?: string; data?: string }) => {
      const keyPath = opts.publicKey ?? wardPaths(loadConfig({ flags: { dataDir: opts.data }, env: io.env, cwd: io.cwd }).dataDir).verifyKey;
      const publicKey = readVerifyKey(keyPath);
      let input: unknown;
      try {
        input = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch {
        throw new WardError('audit.proof_unreadable', 'the proof file is not readable JSON');
      }
      const v = checkInclusionProof(input, publicKey);
      if (!v.ok) throw new CliExit(1, `proof NOT valid: ${v.reason}`);
      io.out(`proof valid: entry ${v.seq} is in the log of ${v.treeSize} entries signed at ${v.checkpointTime}\n`);
    });
}
