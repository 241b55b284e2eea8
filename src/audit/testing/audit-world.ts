/**
 * One-call test world for audit suites: a migrated database of the given dialect, a fresh
 * Ed25519 signing key, a checkpoint file in a temporary folder, and an AuditLog over them.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase, TestDialect } from '../../storage/testing/test-databases.js';
import { fixedClock } from '../../shared/clock.js';
import { AuditLog } from '../audit-log.js';
import { CheckpointFile } from '../checkpoint-file.js';
import type { AuditEntryInput } from '../audit-entry.js';
import { verifyStoredLog } from '../audit-reader.js';
import type { VerifyOptions } from '../audit-reader.js';
import type { AuditVerdict } from '../audit-verifier.js';

export interface AuditWorld {
  t: TestDatabase;
  log: AuditLog;
  clock: ReturnType<typeof fixedClock>;
  privateKey: KeyObject;
  publicKey: KeyObject;
  checkpointFile: CheckpointFile;
  dir: string;
  verify(options?: VerifyOptions): Promise<AuditVerdict>;
  dispose(): Promise<void>;
}

export async function createAuditWorld(dialect: TestDialect, options: { maxBatch?: number } = {}): Promise<AuditWorld> {
  const t = await dialect.create();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(join(tmpdir(), 'ward-audit-'));
  const checkpointFile = new CheckpointFile(join(dir, 'audit-checkpoints.jsonl'));
  const clock = fixedClock(new Date('2026-03-01T09:00:00.000Z'));
  const log = new AuditLog({ db: t.db, clock, signingKey: privateKey, checkpointSink: checkpointFile, ...options });
  return {
    t, log, clock, privateKey, publicKey, checkpointFile, dir,
    verify: (options?: VerifyOptions) => verifyStoredLog(t, publicKey, checkpointFile, options),
    async dispose() {
      await log.flush().catch(() => undefined);
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A synthetic entry: ids and codes only, varied by `i`. */
export function sampleEntry(i: number, overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  const actions = ['patient.read', 'patient.search', 'audit.search', 'auth.login'] as const;
  return {
    who: { id: `usr_${i % 7}`, kind: i % 5 === 0 ? 'service' : 'person' },
    action: actions[i % actions.length] as string,
    resource: { type: 'Patient', id: `pt-${i % 11}` },
    patient: `pt-${i % 11}`,
    purpose: i % 3 === 0 ? 'TREAT' : 'HPAYMT',
    outcome: i % 13 === 0 ? 'denied' : 'success',
    requestId: `req-${i}`,
    client: '127.0.0.1',
    ...overrides,
  };
}
