/**
 * Tamper evidence, as a property: a database administrator with full access to the audit
 * tables (the append-only triggers dropped) mutates a stored, checkpointed log at random:
 * changes a field, deletes, inserts, swaps, truncates, recomputes every hash after the change,
 * re-signs checkpoints with a key of their own. `verify` must catch every one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { testDialects } from '../storage/testing/test-databases.js';
import type { StoredAuditRow, AuditCheckpointTable, AuditHeadTable } from '../storage/schema.js';
import { createAuditWorld, sampleEntry } from './testing/audit-world.js';
import type { AuditWorld } from './testing/audit-world.js';
import { GENESIS_CHAIN, chainHash } from './hash-chain.js';
import { MerkleFrontier, leafHash } from './merkle.js';
import { signCheckpoint } from './checkpoint.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { canonicalJson } from '../shared/canonical-json.js';

const N = 24;
const RUNS = Number(process.env.WARD_TAMPER_RUNS ?? 1000);

type Mutation =
  | { kind: 'field'; at: number; rehash: boolean }
  | { kind: 'delete'; at: number; renumber: boolean; rehash: boolean }
  | { kind: 'insert'; at: number; rehash: boolean }
  | { kind: 'swap'; a: number; b: number; rehash: boolean }
  | { kind: 'truncate'; keep: number; fixHead: boolean }
  | { kind: 'resign'; at: number };

const idx = fc.integer({ min: 0, max: N - 1 });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), at: idx, rehash: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), at: idx, renumber: fc.boolean(), rehash: fc.boolean() }),
  // Inserting inside the checkpointed history. (A well-formed entry appended after the latest
  // checkpoint by someone with write access is the documented window: see audit-verifier.ts.)
  fc.record({ kind: fc.constant('insert' as const), at: fc.integer({ min: 0, max: N - 1 }), rehash: fc.boolean() }),
  fc
    .record({ kind: fc.constant('swap' as const), a: idx, b: idx, rehash: fc.boolean() })
    .filter((m) => m.a !== m.b),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.integer({ min: 0, max: N - 1 }), fixHead: fc.boolean() }),
  fc.record({ kind: fc.constant('resign' as const), at: idx }),
);

/** Recompute seq columns, leaf and chain hashes from `from` on, as a careful attacker would. */
function rechain(rows: StoredAuditRow[], from: number, renumberBodies: boolean): void {
  let chain: Buffer = from === 0 ? GENESIS_CHAIN : Buffer.from((rows[from - 1] as StoredAuditRow).chain_hash, 'hex');
  for (let i = from; i < rows.length; i++) {
    const row = rows[i] as StoredAuditRow;
    row.seq = i + 1;
    if (renumberBodies) {
      const entry = JSON.parse(row.body) as { seq: number };
      entry.seq = i + 1;
      row.body = canonicalJson(entry);
    }
    const leaf = leafHash(row.body);
    row.leaf_hash = leaf.toString('hex');
    chain = chainHash(chain, leaf);
    row.chain_hash = chain.toString('hex');
  }
}

function headOf(rows: StoredAuditRow[]): AuditHeadTable {
  const f = new MerkleFrontier();
  for (const r of rows) f.push(r.leaf_hash);
  return { id: 1, seq: rows.length, chain_hash: rows.length ? (rows[rows.length - 1] as StoredAuditRow).chain_hash : '0'.repeat(64), frontier: JSON.stringify(f.toHex()) };
}

describe.each(testDialects())('tamper evidence on $name', (dialect) => {
  let w: AuditWorld;
  let baseRows: StoredAuditRow[];
  let baseCheckpoints: AuditCheckpointTable[];
  let baseHead: AuditHeadTable;
  let baseFile: string;
  const attackerKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    w = await createAuditWorld(dialect);
    for (let i = 0; i < N / 2; i++) await w.log.append(sampleEntry(i));
    await w.log.checkpoint();
    await Promise.all(Array.from({ length: N / 2 }, (_, i) => w.log.append(sampleEntry(N / 2 + i))));
    await w.log.close();
    expect((await w.verify()).ok).toBe(true);
    baseRows = await w.t.db.selectFrom('audit_entry').select(['seq', 'body', 'leaf_hash', 'chain_hash']).orderBy('seq').execute();
    baseCheckpoints = await w.t.db.selectFrom('audit_checkpoint').selectAll().execute();
    baseHead = await w.t.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    baseFile = readFileSync(w.checkpointFile.path, 'utf8');
    // The attacker is a database administrator: the append-only triggers go first.
    for (const t of ['audit_entry_no_update', 'audit_entry_no_delete', 'audit_entry_no_truncate']) {
      await sql`drop trigger if exists ${sql.id(t)}${dialect.name === 'postgres' ? sql` on audit_entry` : sql``}`.execute(w.t.db);
    }
  });
  afterAll(async () => {
    await w.dispose();
  });

  async function store(rows: StoredAuditRow[], head: AuditHeadTable, checkpoints: AuditCheckpointTable[], file: string): Promise<void> {
    await w.t.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('audit_entry').execute();
      await trx.deleteFrom('audit_checkpoint').execute();
      if (rows.length) await trx.insertInto('audit_entry').values(rows).execute();
      if (checkpoints.length) await trx.insertInto('audit_checkpoint').values(checkpoints).execute();
      await trx.updateTable('audit_head').set(head).where('id', '=', 1).execute();
    });
    writeFileSync(w.checkpointFile.path, file);
  }

  function apply(m: Mutation): { rows: StoredAuditRow[]; head: AuditHeadTable; checkpoints: AuditCheckpointTable[]; file: string } {
    let rows = baseRows.map((r) => ({ ...r }));
    let checkpoints = baseCheckpoints.map((c) => ({ ...c }));
    let file = baseFile;
    let head: AuditHeadTable | undefined;
    switch (m.kind) {
      case 'field': {
        const row = rows[m.at] as StoredAuditRow;
        const entry = JSON.parse(row.body) as { patient?: string; outcome: string };
        entry.outcome = entry.outcome === 'success' ? 'denied' : 'success';
        row.body = canonicalJson(entry);
        if (m.rehash) rechain(rows, m.at, false);
        break;
      }
      case 'delete':
        rows.splice(m.at, 1);
        if (m.renumber) rechain(rows, m.at, m.rehash);
        break;
      case 'insert': {
        const forged = { ...(baseRows[0] as StoredAuditRow) };
        const entry = { ...(JSON.parse(forged.body) as object), requestId: 'req-forged', seq: m.at + 1 };
        forged.body = canonicalJson(entry);
        rows.splice(m.at, 0, forged);
        rechain(rows, m.at, m.rehash);
        if (!m.rehash) {
          // Only the forged row and the seq columns are made consistent; later bodies keep their numbers.
          const f = rows[m.at] as StoredAuditRow;
          f.leaf_hash = leafHash(f.body).toString('hex');
        }
        break;
      }
      case 'swap': {
        const a = rows[m.a] as StoredAuditRow;
        const b = rows[m.b] as StoredAuditRow;
        rows[m.a] = { ...b, seq: a.seq };
        rows[m.b] = { ...a, seq: b.seq };
        if (m.rehash) rechain(rows, Math.min(m.a, m.b), true);
        break;
      }
      case 'truncate':
        rows = rows.slice(0, m.keep);
        if (m.fixHead) head = headOf(rows);
        break;
      case 'resign': {
        // Rewrite history fully, then sign new checkpoints over it with the attacker's key.
        const row = rows[m.at] as StoredAuditRow;
        const entry = JSON.parse(row.body) as { outcome: string };
        entry.outcome = 'error';
        row.body = canonicalJson(entry);
        rechain(rows, m.at, false);
        const h = headOf(rows);
        const forged: SignedCheckpoint[] = baseCheckpoints.map((c) => {
          const f = new MerkleFrontier();
          const size = Number(c.tree_size);
          for (const r of rows.slice(0, size)) f.push(r.leaf_hash);
          return signCheckpoint(attackerKey, {
            treeSize: size, rootHash: f.root().toString('hex'),
            chainHash: (rows[size - 1] as StoredAuditRow).chain_hash, frontier: f.toHex(), time: c.ts,
          });
        });
        checkpoints = forged.map((cp) => ({ tree_size: cp.treeSize, ts: cp.time, body: canonicalJson({ ...cp }) }));
        file = forged.map((cp) => `${canonicalJson({ ...cp })}\n`).join('');
        head = h;
        break;
      }
    }
    if (head === undefined) head = m.kind === 'truncate' ? baseHead : headOf(rows);
    // A naive attacker leaves the head alone; a careful one (rehash) fixes it. Both must fail.
    const careful = 'rehash' in m && m.rehash;
    return { rows, head: careful || m.kind === 'resign' ? head : m.kind === 'truncate' ? head : baseHead, checkpoints, file };
  }

  it(`catches every one of ${RUNS} random mutations`, async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(mutationArb, async (m) => {
        const s = apply(m);
        await store(s.rows, s.head, s.checkpoints, s.file);
        const verdict = await w.verify();
        expect(verdict.ok, JSON.stringify(m)).toBe(false);
        seen.set(`${m.kind}->${verdict.problem?.kind ?? 'none'}`, (seen.get(`${m.kind}->${verdict.problem?.kind ?? 'none'}`) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    // Every mutation family was exercised.
    const kinds = new Set([...seen.keys()].map((k) => k.split('->')[0]));
    expect([...kinds].sort()).toEqual(['delete', 'field', 'insert', 'resign', 'swap', 'truncate']);
    // Restoring the original log makes it verify again: the test itself is sound.
    await store(baseRows, baseHead, baseCheckpoints, baseFile);
    expect((await w.verify()).ok).toBe(true);
  });

  it('the searchable columns cannot be changed apart from the entry: the database derives them', async () => {
    const table = sql.id('audit_entry');
    await expect(sql`update ${table} set patient_id = 'pt-else' where seq = 3`.execute(w.t.db)).rejects.toThrow();
    const row = await w.t.db.selectFrom('audit_entry').select(['patient_id', 'body']).where('seq', '=', 3).executeTakeFirstOrThrow();
    expect(row.patient_id).toBe((JSON.parse(row.body) as { patient: string }).patient);
  });

  it('verifies on worker threads exactly as in process', async () => {
    const s = apply({ kind: 'field', at: 10, rehash: false });
    await store(s.rows, s.head, s.checkpoints, s.file);
    expect((await w.verify({ threads: 2 })).problem).toEqual((await w.verify({ threads: 0 })).problem);
    await store(baseRows, baseHead, baseCheckpoints, baseFile);
    expect(await w.verify({ threads: 2 })).toMatchObject({ ok: true, entries: N });
  });

  it('names the first bad entry and what is wrong', async () => {
    const cases: [Mutation, string, number][] = [
      [{ kind: 'field', at: 4, rehash: false }, 'modified', 5],
      [{ kind: 'delete', at: 3, renumber: false, rehash: false }, 'missing', 4],
      [{ kind: 'delete', at: 3, renumber: true, rehash: false }, 'missing', 4],
      [{ kind: 'insert', at: 8, rehash: false }, 'inserted', 9],
      // A forged entry appended at the end, without also rewriting the head row.
      [{ kind: 'insert', at: 24, rehash: false }, 'inserted', 25],
      [{ kind: 'swap', a: 2, b: 9, rehash: false }, 'reordered', 3],
      [{ kind: 'truncate', keep: 20, fixHead: false }, 'truncated', 21],
      [{ kind: 'truncate', keep: 20, fixHead: true }, 'truncated', 21],
      [{ kind: 'resign', at: 1 }, 'bad_signature', 12],
      [{ kind: 'field', at: 4, rehash: true }, 'checkpoint_mismatch', 1],
      [{ kind: 'field', at: 15, rehash: true }, 'checkpoint_mismatch', 13],
    ];
    for (const [m, kind, seq] of cases) {
      const s = apply(m);
      await store(s.rows, s.head, s.checkpoints, s.file);
      const v = await w.verify();
      expect({ m, kind: v.problem?.kind, seq: v.problem?.seq }).toEqual({ m, kind, seq });
    }
    await store(baseRows, baseHead, baseCheckpoints, baseFile);
  });
});
