/**
 * Audit log benchmark (`npm run bench:audit`). Prints, on SQLite and PostgreSQL:
 *   - durable appends per second and p50/p99 append latency with 1, 16 and 256 concurrent writers
 *     (each writer awaits its acknowledgement before the next append: closed loop);
 *   - this machine's raw rate of one-fsync-per-record writes, measured in the same run, and the
 *     ratio of group-commit throughput to it (what group commit buys);
 *   - the time to verify 1,000,000 entries (SQLite; worker threads and one thread, with ratio).
 * Figures, never pass/fail: the machine is shared and noisy. Last line: one-line summary.
 * Env: WARD_BENCH_SECONDS (per run, default 3), WARD_BENCH_VERIFY_N (default 1000000),
 *      WARD_TEST_PG_URL (default the local test server), WARD_BENCH_SKIP_PG=1.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../src/storage/open-sqlite.js';
import { openPostgres } from '../src/storage/open-postgres.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import type { WardDatabase } from '../src/storage/ward-database.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { verifyStoredLog } from '../src/audit/audit-reader.js';
import { systemClock } from '../src/shared/clock.js';
import { sampleEntry } from '../src/audit/testing/audit-world.js';
import { createTestPgDatabase } from '../src/storage/testing/test-databases.js';

const SECONDS = Number(process.env.WARD_BENCH_SECONDS ?? 3);
const VERIFY_N = Number(process.env.WARD_BENCH_VERIFY_N ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'ward-bench-'));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const summary: Record<string, string> = {};

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** The baseline: write one ~300-byte record and fsync it, as fast as possible, for SECONDS. */
function rawFsyncRate(): number {
  const file = join(dir, 'fsync.bin');
  const fd = openSync(file, 'w');
  const rec = Buffer.alloc(300, 0x61);
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    writeSync(fd, rec);
    fsyncSync(fd);
    n++;
  }
  closeSync(fd);
  return n / SECONDS;
}

async function appendRun(database: WardDatabase, writers: number): Promise<{ eps: number; p50: number; p99: number; batches: number }> {
  const log = new AuditLog({ db: database.db, clock: systemClock, signingKey: privateKey });
  const lat: number[] = [];
  let i = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await log.append(sampleEntry(i++));
        lat.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await log.close();
  lat.sort((a, b) => a - b);
  return { eps: lat.length / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), batches: log.stats.batches };
}

async function freshPg(): Promise<{ database: WardDatabase; drop: () => Promise<void> }> {
  const { url, drop } = await createTestPgDatabase('ward_bench');
  const database = openPostgres({ url });
  await migrateToLatest(database.db);
  return {
    database,
    drop: async () => {
      await database.close();
      await drop();
    },
  };
}

async function freshSqlite(name: string): Promise<WardDatabase> {
  const database = openSqlite({ file: join(dir, `${name}.db`) });
  await migrateToLatest(database.db);
  return database;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const fsyncRate = rawFsyncRate();
console.log(`baseline: raw write+fsync of one 300-byte record: ${fmt(fsyncRate)} records/s (${SECONDS} s)`);
summary.fsync_per_s = fmt(fsyncRate).replace(/,/g, '');

const targets: { name: string; open: () => Promise<{ database: WardDatabase; drop: () => Promise<void> }> }[] = [
  { name: 'sqlite', open: async () => { const d = await freshSqlite(`append-${Math.random()}`); return { database: d, drop: () => d.close() }; } },
];
if (process.env.WARD_BENCH_SKIP_PG !== '1') targets.push({ name: 'postgres', open: freshPg });

console.log('\ndurable appends (closed loop; acknowledged only after commit):');
console.log('db        writers   events/s   p50 ms   p99 ms   batches   vs raw fsync');
for (const t of targets) {
  for (const writers of [1, 16, 256]) {
    const { database, drop } = await t.open();
    const r = await appendRun(database, writers);
    await drop();
    const ratio = r.eps / fsyncRate;
    console.log(`${t.name.padEnd(9)} ${String(writers).padStart(7)} ${fmt(r.eps).padStart(10)} ${fmt(r.p50, 2).padStart(8)} ${fmt(r.p99, 2).padStart(8)} ${String(r.batches).padStart(9)}   ${fmt(ratio, 1)}x`);
    summary[`${t.name}_${writers}w_eps`] = String(Math.round(r.eps));
    if (writers === 256) summary[`${t.name}_256w_vs_fsync`] = ratio.toFixed(1);
  }
}

console.log(`\nverify ${fmt(VERIFY_N)} entries (SQLite):`);
{
  const database = await freshSqlite('verify');
  const log = new AuditLog({ db: database.db, clock: systemClock, signingKey: privateKey, maxBatch: 20_000 });
  const t0 = performance.now();
  for (let i = 0; i < VERIFY_N; i += 20_000) {
    await Promise.all(Array.from({ length: Math.min(20_000, VERIFY_N - i) }, (_, j) => log.append(sampleEntry(i + j))));
  }
  await log.close();
  console.log(`  built in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const timeIt = async (threads: number): Promise<number> => {
    const s = performance.now();
    const v = await verifyStoredLog(database, publicKey, undefined, { threads });
    if (!v.ok || v.entries !== VERIFY_N) throw new Error(`verify failed: ${JSON.stringify(v.problem)}`);
    return (performance.now() - s) / 1000;
  };
  const parallel = await timeIt(2);
  const single = await timeIt(0);
  console.log(`  worker threads (2): ${fmt(parallel, 2)} s   one thread: ${fmt(single, 2)} s   speed-up ${fmt(single / parallel, 2)}x`);
  const key = VERIFY_N === 1_000_000 ? '1m' : String(VERIFY_N);
  summary[`verify_${key}_s`] = parallel.toFixed(2);
  summary[`verify_${key}_1thread_s`] = single.toFixed(2);
  await database.close();
}

rmSync(dir, { recursive: true, force: true });
console.log(`\naudit: ${Object.entries(summary).map(([k, v]) => `${k}=${v}`).join(' ')}`);
