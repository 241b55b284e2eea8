/**
 * Storage conformance: the same expectations on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { testDialects } from './testing/test-databases.js';
import type { TestDatabase } from './testing/test-databases.js';
import { migrateToLatest } from './migrate.js';

describe.each(testDialects())('storage on $name', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });

  it('applies all migrations once; a second run applies none', async () => {
    t = await dialect.create({ migrate: false });
    const first = await migrateToLatest(t.db);
    expect(first.applied).toContain('0001-foundation');
    const second = await migrateToLatest(t.db);
    expect(second.applied).toEqual([]);
  });

  it('starts with an empty audit head', async () => {
    t = await dialect.create();
    const head = await t.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    expect(head).toEqual({ id: 1, seq: 0, chain_hash: '0'.repeat(64), frontier: '[]' });
  });

  it('returns bigint sequence numbers as numbers and keeps text exactly', async () => {
    t = await dialect.create();
    const body = '{"note":"é ✓ \\u0000"}';
    await t.db
      .insertInto('audit_checkpoint')
      .values({ tree_size: 2 ** 40, ts: '2026-01-01T00:00:00.000Z', body })
      .execute();
    const row = await t.db.selectFrom('audit_checkpoint').selectAll().executeTakeFirstOrThrow();
    expect(row.tree_size).toBe(2 ** 40);
    expect(row.body).toBe(body);
  });

  it('refuses to update or delete audit entries (append-only guard)', async () => {
    t = await dialect.create();
    await t.db
      .insertInto('audit_entry')
      .values({ seq: 1, body: '{"action":"x.y","outcome":"success","seq":1}', leaf_hash: 'a', chain_hash: 'b' })
      .execute();
    await expect(t.db.updateTable('audit_entry').set({ body: '{}' }).execute()).rejects.toThrow(/append_only/);
    await expect(t.db.deleteFrom('audit_entry').execute()).rejects.toThrow(/append_only/);
    const n = await t.db.selectFrom('audit_entry').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
  });

  it('derives the searchable audit columns from the entry body', async () => {
    t = await dialect.create();
    const body = JSON.stringify({ action: 'patient.read', outcome: 'denied', patient: 'pt-9', purpose: 'TREAT', requestId: 'r-1', resource: { id: 'x', type: 'Patient' }, seq: 1, time: '2026-01-01T00:00:00.000Z', v: 1, who: { id: 'usr_1', kind: 'person' } });
    await t.db.insertInto('audit_entry').values({ seq: 1, body, leaf_hash: 'a', chain_hash: 'b' }).execute();
    const row = await t.db.selectFrom('audit_entry').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      ts: '2026-01-01T00:00:00.000Z', principal_id: 'usr_1', principal_kind: 'person', action: 'patient.read', resource_type: 'Patient',
      resource_id: 'x', patient_id: 'pt-9', purpose: 'TREAT', outcome: 'denied', request_id: 'r-1',
    });
  });

  it('accepts audit sequence numbers from 1 only', async () => {
    t = await dialect.create();
    const row = { body: '{}', leaf_hash: 'a', chain_hash: 'b' };
    await expect(t.db.insertInto('audit_entry').values({ ...row, seq: 0 }).execute()).rejects.toThrow();
    await expect(t.db.insertInto('audit_entry').values({ ...row, seq: -5 }).execute()).rejects.toThrow();
    await t.db.insertInto('audit_entry').values({ ...row, seq: 1 }).execute();
  });

  it('rolls back a failed transaction completely', async () => {
    t = await dialect.create();
    const db = t.db;
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('ward_meta').values({ key: 'k', value: 'v' }).execute();
        await trx.insertInto('ward_meta').values({ key: 'k', value: 'dup' }).execute();
      }),
    ).rejects.toThrow();
    expect(await db.selectFrom('ward_meta').selectAll().execute()).toEqual([]);
  });

  it('enforces unique usernames', async () => {
    t = await dialect.create();
    const row = { id: 'usr_1', username: 'ana', roles: '[]', password_hash: 'h', must_change_password: 0, disabled: 0, created_at: 'now' };
    await t.db.insertInto('account').values(row).execute();
    await expect(t.db.insertInto('account').values({ ...row, id: 'usr_2' }).execute()).rejects.toThrow();
  });
});
