/**
 * Crash safety: a process appending under load is killed with SIGKILL at a random moment,
 * 20 times over the same log. After each kill, every entry the process had acknowledged must
 * be present, unchanged, and the whole log must verify (a torn last line in the checkpoint
 * file is tolerated and reported, never trusted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDatabase } from '../storage/testing/test-databases.js';
import { CheckpointFile } from './checkpoint-file.js';
import { verifyStoredLog } from './audit-reader.js';

const ROUNDS = Number(process.env.WARD_CRASH_ROUNDS ?? 20);
const writerScript = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));

function runAndKill(args: string[], killAfterAcks: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, string>();
    let buffer = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (\d+) (\S+)$/.exec(line);
        if (m) acked.set(Number(m[1]), m[2] as string);
      }
      if (!killed && acked.size >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`writer exited on its own: ${stderr.slice(0, 500)}`));
    });
    setTimeout(() => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 30_000).unref();
  });
}

describe.each(testDialects())('crash safety on $name', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  beforeAll(async () => {
    t = await dialect.create();
    dir = mkdtempSync(join(tmpdir(), 'ward-crash-'));
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  });
  afterAll(async () => {
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged entry across ${ROUNDS} kill -9 rounds`, async () => {
    const target = t.connection.kind === 'sqlite' ? t.connection.file : t.connection.url;
    const checkpoints = new CheckpointFile(join(dir, 'checkpoints.jsonl'));
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await runAndKill([dialect.name, target, checkpoints.path, join(dir, 'key.pem'), String(round)], 20 + Math.floor(Math.random() * 400));
      expect(acked.size).toBeGreaterThan(0);
      const check = t.reopen();
      try {
        const rows = await check.db.selectFrom('audit_entry').select(['seq', 'request_id']).where('seq', 'in', [...acked.keys()]).execute();
        const stored = new Map(rows.map((r) => [Number(r.seq), r.request_id]));
        for (const [seq, requestId] of acked) expect(stored.get(seq), `round ${round} seq ${seq}`).toBe(requestId);
        const verdict = await verifyStoredLog(check, publicKey, checkpoints);
        expect(verdict.problem, `round ${round}`).toBeUndefined();
        expect(verdict.ok).toBe(true);
        expect(verdict.entries).toBeGreaterThanOrEqual(total + acked.size);
        total = verdict.entries;
      } finally {
        await check.close();
      }
    }
  }, 300_000);
});
