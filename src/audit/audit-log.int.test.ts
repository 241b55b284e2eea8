/**
 * Audit log conformance: the same suite on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { testDialects } from '../storage/testing/test-databases.js';
import { createAuditWorld, sampleEntry } from './testing/audit-world.js';
import type { AuditWorld } from './testing/audit-world.js';
import { AuditLog } from './audit-log.js';
import { fixedClock } from '../shared/clock.js';
import { leafHash } from './merkle.js';
import { chainHash } from './hash-chain.js';

describe.each(testDialects())('audit log on $name', (dialect) => {
  let w: AuditWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('assigns gap-free sequence numbers to concurrent appends and commits them in few batches', async () => {
    w = await createAuditWorld(dialect);
    const receipts = await Promise.all(Array.from({ length: 600 }, (_, i) => w!.log.append(sampleEntry(i))));
    expect(receipts.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    const rows = await w.t.db.selectFrom('audit_entry').select(['seq', 'request_id']).orderBy('seq').execute();
    expect(rows).toHaveLength(600);
    // Each caller's receipt names its own entry.
    const bySeq = new Map(rows.map((r) => [r.seq, r.request_id]));
    receipts.forEach((r, i) => expect(bySeq.get(r.seq)).toBe(`req-${i}`));
    expect(w.log.stats.batches).toBeLessThan(20);
    expect((await w.verify()).ok).toBe(true);
  });

  it('stores canonical entries with who, what, when, why and outcome', async () => {
    w = await createAuditWorld(dialect);
    await w.log.append(sampleEntry(3, { breakGlass: 'bg-1', reason: 'policy.denied', details: { fields: 3, view: 'intake' } }));
    const row = await w.t.db.selectFrom('audit_entry').selectAll().executeTakeFirstOrThrow();
    expect(JSON.parse(row.body)).toEqual({
      v: 1, seq: 1, time: '2026-03-01T09:00:00.000Z', who: { id: 'usr_3', kind: 'person' }, action: 'auth.login',
      resource: { type: 'Patient', id: 'pt-3' }, patient: 'pt-3', purpose: 'TREAT', breakGlass: 'bg-1', outcome: 'success',
      reason: 'policy.denied', requestId: 'req-3', client: '127.0.0.1', details: { fields: 3, view: 'intake' },
    });
    expect(row.body.startsWith('{"action":"auth.login","breakGlass":"bg-1"')).toBe(true);
    expect(row).toMatchObject({ seq: 1, patient_id: 'pt-3', principal_id: 'usr_3', outcome: 'success', purpose: 'TREAT' });
  });

  it('refuses free text where ids and codes belong, without echoing the value', async () => {
    w = await createAuditWorld(dialect);
    const canary = 'Zyxwarda Quintrell';
    const err = await w.log.append(sampleEntry(1, { patient: canary })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'audit.invalid_entry' });
    expect(String((err as Error).message)).not.toContain('Zyxwarda');
    await expect(w.log.append(sampleEntry(1, { details: { note: 'DOB 1950-01-01 Smith' } }))).rejects.toMatchObject({ code: 'audit.invalid_entry' });
    await expect(w.log.append(sampleEntry(1, { client: 'not-an-ip' }))).rejects.toMatchObject({ code: 'audit.invalid_entry' });
    await expect(w.log.append({ ...sampleEntry(1), extra: 'x' } as never)).rejects.toMatchObject({ code: 'audit.invalid_entry' });
    expect(await w.t.db.selectFrom('audit_entry').selectAll().execute()).toEqual([]);
  });

  it('commits a state change and its audit entry together, and neither when the work fails', async () => {
    w = await createAuditWorld(dialect);
    const ok = w.log.transact(async (trx, record) => {
      await trx.insertInto('ward_meta').values({ key: 'a', value: '1' }).execute();
      record(sampleEntry(1, { action: 'meta.write' }));
      return 'done';
    });
    const bad = w.log.transact(async (trx, record) => {
      await trx.insertInto('ward_meta').values({ key: 'b', value: '2' }).execute();
      record(sampleEntry(2, { action: 'meta.write' }));
      throw new Error('work failed');
    });
    const plain = w.log.append(sampleEntry(3));
    await expect(ok).resolves.toBe('done');
    await expect(bad).rejects.toThrow('work failed');
    await expect(plain).resolves.toMatchObject({ seq: 2 });
    expect(await w.t.db.selectFrom('ward_meta').select('key').execute()).toEqual([{ key: 'a' }]);
    const entries = await w.t.db.selectFrom('audit_entry').select(['seq', 'request_id']).orderBy('seq').execute();
    expect(entries).toEqual([{ seq: 1, request_id: 'req-1' }, { seq: 2, request_id: 'req-3' }]);
    expect((await w.verify()).ok).toBe(true);
  });

  it('a work item that records an invalid entry is rolled back whole', async () => {
    w = await createAuditWorld(dialect);
    await expect(
      w.log.transact(async (trx, record) => {
        await trx.insertInto('ward_meta').values({ key: 'c', value: '3' }).execute();
        record(sampleEntry(1, { patient: 'has spaces in it' }));
      }),
    ).rejects.toMatchObject({ code: 'audit.invalid_entry' });
    expect(await w.t.db.selectFrom('ward_meta').selectAll().execute()).toEqual([]);
  });

  it('signs checkpoints into the database and the checkpoint file; verify accepts the intact log', async () => {
    w = await createAuditWorld(dialect);
    for (let i = 0; i < 5; i++) await w.log.append(sampleEntry(i));
    const cp1 = await w.log.checkpoint();
    expect(cp1).toMatchObject({ treeSize: 5, type: 'ward.audit.checkpoint.v1' });
    expect(await w.log.checkpoint()).toBeUndefined(); // nothing new
    await Promise.all(Array.from({ length: 7 }, (_, i) => w!.log.append(sampleEntry(10 + i))));
    await w.log.close();
    expect(w.checkpointFile.read().checkpoints.map((c) => c.treeSize)).toEqual([5, 12]);
    const v = await w.verify();
    expect(v).toMatchObject({ ok: true, entries: 12, checkpointsVerified: 4, latestCheckpoint: { treeSize: 12 } });
    await expect(w.log.append(sampleEntry(1))).rejects.toMatchObject({ code: 'audit.closed' });
  });

  it('a second writer on the same database continues the same chain', async () => {
    w = await createAuditWorld(dialect);
    await Promise.all(Array.from({ length: 20 }, (_, i) => w!.log.append(sampleEntry(i))));
    const other = w.t.reopen();
    try {
      const log2 = new AuditLog({ db: other.db, clock: fixedClock(new Date('2026-03-02T00:00:00Z')), signingKey: w.privateKey, checkpointSink: w.checkpointFile });
      await Promise.all([
        ...Array.from({ length: 30 }, (_, i) => log2.append(sampleEntry(100 + i))),
        ...Array.from({ length: 30 }, (_, i) => w!.log.append(sampleEntry(200 + i))),
      ]);
      await log2.close();
    } finally {
      await other.close();
    }
    expect(await w.verify()).toMatchObject({ ok: true, entries: 80 });
  });

  it('fails closed on a read-only database: the state change is not kept and the caller gets audit.write_failed', async () => {
    w = await createAuditWorld(dialect);
    await w.log.append(sampleEntry(0));
    const ro = dialect.name === 'sqlite' ? w.t.reopen({ readonly: true }) : w.t.reopen();
    try {
      if (dialect.name === 'postgres') {
        await sql`alter database ${sql.id(new URL((w.t.connection as { url: string }).url).pathname.slice(1))} set default_transaction_read_only = on`.execute(w.t.db);
      }
      const log = new AuditLog({ db: ro.db, clock: w.clock });
      const work = log.transact(async (trx, record) => {
        await trx.insertInto('ward_meta').values({ key: 'x', value: 'y' }).execute();
        record(sampleEntry(1));
      });
      await expect(work).rejects.toMatchObject({ code: 'audit.write_failed' });
      await expect(log.append(sampleEntry(2))).rejects.toMatchObject({ code: 'audit.write_failed' });
    } finally {
      await ro.close();
      if (dialect.name === 'postgres') {
        const name = new URL((w.t.connection as { url: string }).url).pathname.slice(1);
        const fresh = w.t.reopen();
        await sql`alter database ${sql.id(name)} set default_transaction_read_only = off`.execute(fresh.db).catch(() => undefined);
        await fresh.close();
      }
    }
    expect(await w.t.db.selectFrom('ward_meta').selectAll().execute()).toEqual([]);
    expect((await w.verify()).entries).toBe(1);
  });

  // PostgreSQL has no per-database size quota to stand in for a full disk; the read-only case above covers it.
  it.runIf(dialect.name === 'sqlite')('fails closed when the disk is full (SQLite page limit): nothing is half-written', async () => {
    w = await createAuditWorld(dialect);
    await w.log.append(sampleEntry(0));
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(w.t.db)).rows[0]?.page_count);
    expect(pages).toBeGreaterThan(0);
    const full = w.t.reopen({ maxPageCount: pages + 2 });
    try {
      const log = new AuditLog({ db: full.db, clock: w.clock });
      // Fill the database until an append fails the way a full disk does.
      let failure: unknown;
      for (let i = 1; i < 100_000 && failure === undefined; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => log.append(sampleEntry(i + j)))).catch((e: unknown) => (failure = e));
      }
      expect(failure).toMatchObject({ code: 'audit.write_failed' });
      const before = await full.db.selectFrom('audit_entry').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const work = log.transact(async (trx, record) => {
        await trx.insertInto('ward_meta').values({ key: 'big', value: 'x'.repeat(20_000) }).execute();
        record(sampleEntry(1));
      });
      await expect(work).rejects.toMatchObject({ code: 'audit.write_failed' });
      const after = await full.db.selectFrom('audit_entry').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
      expect(await full.db.selectFrom('ward_meta').selectAll().execute()).toEqual([]);
    } finally {
      await full.close();
    }
    expect((await w.verify()).ok).toBe(true);
  });

  describe('a checkpoint never signs history changed in the unsigned window', () => {
    async function attack(change: (w: AuditWorld) => Promise<void>): Promise<void> {
      w = await createAuditWorld(dialect);
      for (let i = 0; i < 5; i++) await w.log.append(sampleEntry(i));
      expect(await w.log.checkpoint()).toMatchObject({ treeSize: 5 });
      for (let i = 5; i < 10; i++) await w.log.append(sampleEntry(i));
      // The attacker is a database administrator: triggers first.
      for (const t of ['audit_entry_no_update', 'audit_entry_no_delete']) {
        await sql`drop trigger if exists ${sql.id(t)}${dialect.name === 'postgres' ? sql` on audit_entry` : sql``}`.execute(w.t.db);
      }
      await change(w);
    }
    const rows = async (w: AuditWorld) => w.t.db.selectFrom('audit_entry').select(['seq', 'body', 'leaf_hash', 'chain_hash']).orderBy('seq').execute();

    it('refuses after the newest entries were cut off and the head moved back', async () => {
      await attack(async (w) => {
        const nine = (await rows(w))[8]!;
        await w.t.db.deleteFrom('audit_entry').where('seq', '=', 10).execute();
        await w.t.db.updateTable('audit_head').set({ seq: 9, chain_hash: nine.chain_hash }).execute();
      });
      await expect(w!.log.checkpoint()).rejects.toMatchObject({ code: 'audit.integrity_violation' });
      expect(w!.checkpointFile.read().checkpoints.map((c) => c.treeSize)).toEqual([5]);
    });

    it('refuses after an entry since the checkpoint was edited, even with every hash recomputed', async () => {
      await attack(async (w) => {
        const all = await rows(w);
        let chain: Buffer = Buffer.from(all[4]!.chain_hash, 'hex');
        for (const r of all.slice(5)) {
          const body = r.seq === 7 ? r.body.replace('"outcome":"success"', '"outcome":"denied"') : r.body;
          const leaf = leafHash(body);
          chain = chainHash(chain, leaf);
          await w.t.db.deleteFrom('audit_entry').where('seq', '=', r.seq).execute();
          await w.t.db.insertInto('audit_entry').values({ seq: r.seq, body, leaf_hash: leaf.toString('hex'), chain_hash: chain.toString('hex') }).execute();
        }
        await w.t.db.updateTable('audit_head').set({ chain_hash: chain.toString('hex') }).execute();
      });
      await expect(w!.log.checkpoint()).rejects.toMatchObject({ code: 'audit.integrity_violation' });
    });

    it('refuses after an entry since the checkpoint was edited without re-hashing (any writer would)', async () => {
      await attack(async (w) => {
        const seven = (await rows(w))[6]!;
        await w.t.db.updateTable('audit_entry').set({ body: seven.body.replace('"outcome":"success"', '"outcome":"denied"') }).where('seq', '=', 7).execute();
      });
      const fresh = new AuditLog({ db: w!.t.db, clock: w!.clock, signingKey: w!.privateKey, checkpointSink: w!.checkpointFile });
      await expect(fresh.checkpoint()).rejects.toMatchObject({ code: 'audit.integrity_violation' });
    });
  });
});
