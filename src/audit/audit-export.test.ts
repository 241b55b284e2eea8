/**
 * Audit export: line format for both formats, since/patient filters, hash cross-check for a
 * SIEM, refusal of tampered rows, and one run over a real log (SQLite/PostgreSQL per
 * WARD_TEST_DIALECTS).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { StoredAuditRow } from '../storage/schema.js';
import { canonicalJson } from '../shared/canonical-json.js';
import type { JsonValue } from '../shared/canonical-json.js';
import { testDialects } from '../storage/testing/test-databases.js';
import type { AuditEntry, AuditEntryInput } from './audit-entry.js';
import { auditRowOf } from './audit-log.js';
import { GENESIS_CHAIN, chainHash } from './hash-chain.js';
import { leafHash } from './merkle.js';
import { exportAudit } from './audit-export.js';
import type { AuditExportOptions } from './audit-export.js';
import { streamAuditRows } from './audit-reader.js';
import { createAuditWorld, sampleEntry } from './testing/audit-world.js';
import type { AuditWorld } from './testing/audit-world.js';

const observerId = 'ward-test.example.org';

/** Rows exactly as the log writer stores them (body, leaf hash, chain hash), without a database. */
function rowsOf(inputs: { input: AuditEntryInput; time: string }[]): StoredAuditRow[] {
  let chain: Buffer = GENESIS_CHAIN;
  return inputs.map(({ input, time }, i) => {
    const entry: AuditEntry = { v: 1, seq: i + 1, time, ...input };
    const body = canonicalJson(entry as unknown as JsonValue);
    const leaf = leafHash(body);
    chain = chainHash(chain, leaf);
    return auditRowOf(entry, body, leaf, chain);
  });
}

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

async function run(rows: readonly StoredAuditRow[], options: Partial<AuditExportOptions> = {}): Promise<{ lines: string[]; exported: number }> {
  const lines: string[] = [];
  const { exported } = await exportAudit(stream(rows), { format: 'jsonl', observerId, ...options }, (line) => {
    lines.push(line);
  });
  return { lines, exported };
}

const fixture = rowsOf([
  { input: sampleEntry(1, { patient: 'pt-a', resource: { type: 'Patient', id: 'pt-a' } }), time: '2026-03-01T08:59:59.999Z' },
  { input: sampleEntry(2, { patient: 'pt-b', resource: { type: 'Patient', id: 'pt-b' } }), time: '2026-03-01T09:00:00.000Z' },
  { input: sampleEntry(3, { patient: 'pt-a', resource: { type: 'Patient', id: 'pt-a' } }), time: '2026-03-01T09:00:00.001Z' },
  { input: sampleEntry(4, { patient: undefined, resource: undefined, action: 'auth.login' }), time: '2026-03-02T00:00:00.000Z' },
]);

describe('exportAudit line format', () => {
  it('jsonl: one canonical entry per line with leafHash and chainHash a SIEM can recompute', async () => {
    const { lines, exported } = await run(fixture);
    expect(exported).toBe(4);
    expect(lines).toHaveLength(4);
    lines.forEach((line, i) => {
      const row = fixture[i] as StoredAuditRow;
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      const doc = JSON.parse(line) as Record<string, unknown>;
      expect(doc).toMatchObject({ seq: i + 1, leafHash: row.leaf_hash, chainHash: row.chain_hash });
      const { leafHash: leaf, chainHash: _chain, ...entry } = doc;
      // The SIEM's check: re-canonicalising the entry gives the stored bytes and their leaf hash.
      expect(canonicalJson(entry as JsonValue)).toBe(row.body);
      expect(leafHash(canonicalJson(entry as JsonValue)).toString('hex')).toBe(leaf);
    });
  });

  it('fhir: one AuditEvent per line (FHIR bulk-data NDJSON)', async () => {
    const { lines } = await run(fixture, { format: 'fhir' });
    expect(lines).toHaveLength(4);
    for (const [i, line] of lines.entries()) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      const ev = JSON.parse(line) as AuditEvent;
      expect(ev.resourceType).toBe('AuditEvent');
      expect(ev.id).toBe(`ward-audit-${i + 1}`);
      expect(ev.source.observer.identifier?.value).toBe(observerId);
      expect(ev).not.toHaveProperty('leafHash');
    }
  });

  it('writes nothing for an empty log', async () => {
    expect(await run([])).toEqual({ lines: [], exported: 0 });
  });

  it('waits for an async writer before reading on', async () => {
    const order: string[] = [];
    async function* tracked(): AsyncGenerator<StoredAuditRow> {
      for (const row of fixture) {
        await Promise.resolve();
        order.push(`read ${row.seq}`);
        yield row;
      }
    }
    await exportAudit(tracked(), { format: 'jsonl', observerId }, async (line) => {
      await new Promise((r) => setTimeout(r, 1));
      order.push(`wrote ${String((JSON.parse(line) as AuditEntry).seq)}`);
    });
    expect(order).toEqual(['read 1', 'wrote 1', 'read 2', 'wrote 2', 'read 3', 'wrote 3', 'read 4', 'wrote 4']);
  });
});

describe('exportAudit filters', () => {
  const seqs = (lines: string[]): number[] => lines.map((l) => (JSON.parse(l) as AuditEntry).seq);

  it.each([
    { name: 'no filter', options: {}, want: [1, 2, 3, 4] },
    { name: 'since is inclusive', options: { since: '2026-03-01T09:00:00.000Z' }, want: [2, 3, 4] },
    { name: 'since with an offset', options: { since: '2026-03-01T10:00:00.001+01:00' }, want: [3, 4] },
    { name: 'since a date', options: { since: '2026-03-02' }, want: [4] },
    { name: 'since after everything', options: { since: '2027-01-01T00:00:00Z' }, want: [] },
    { name: 'patient', options: { patient: 'pt-a' }, want: [1, 3] },
    { name: 'patient and since', options: { patient: 'pt-a', since: '2026-03-01T09:00:00.000Z' }, want: [3] },
    { name: 'unknown patient', options: { patient: 'pt-zzz' }, want: [] },
  ])('$name', async ({ options, want }) => {
    for (const format of ['jsonl', 'fhir'] as const) {
      const { lines, exported } = await run(fixture, { ...options, format });
      expect(exported).toBe(want.length);
      const got = format === 'jsonl'
        ? seqs(lines)
        : lines.map((l) => Number((JSON.parse(l) as AuditEvent).id?.replace('ward-audit-', '')));
      expect(got).toEqual(want);
    }
  });

  it('rejects a since that is not an ISO time', async () => {
    await expect(run(fixture, { since: 'yesterday' })).rejects.toMatchObject({ code: 'audit.export_invalid_since' });
    await expect(run(fixture, { since: '2026-13-45' })).rejects.toMatchObject({ code: 'audit.export_invalid_since' });
  });
});

describe('exportAudit refuses what it cannot vouch for', () => {
  const canary = 'Zyxwarda Quintrell';
  const tamper = (patch: (entry: Record<string, unknown>) => void): StoredAuditRow[] => {
    const rows = fixture.map((r) => ({ ...r }));
    const row = rows[1] as StoredAuditRow;
    const entry = JSON.parse(row.body) as Record<string, unknown>;
    patch(entry);
    row.body = JSON.stringify(entry);
    return rows;
  };

  it.each([
    { name: 'free text where an id belongs', rows: tamper((e) => (e.patient = canary)) },
    { name: 'an extra field', rows: tamper((e) => (e.note = canary)) },
    { name: 'a renumbered entry', rows: tamper((e) => (e.seq = 9)) },
    { name: 'an unknown version', rows: tamper((e) => (e.v = 2)) },
    { name: 'a body that is not JSON', rows: fixture.map((r, i) => (i === 1 ? { ...r, body: `{${canary}` } : r)) },
  ])('$name: fails with audit.export_failed naming the seq, not the content', async ({ rows }) => {
    for (const format of ['jsonl', 'fhir'] as const) {
      const lines: string[] = [];
      const err = await exportAudit(stream(rows), { format, observerId }, (l) => {
        lines.push(l);
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'audit.export_failed', extra: { seq: 2 } });
      expect(String((err as Error).message)).not.toContain('Zyxwarda');
      expect(lines).toHaveLength(1);
      expect(lines.join('')).not.toContain('Zyxwarda');
    }
  });

  it('wraps a failing writer or source in audit.export_failed', async () => {
    const failingWrite = exportAudit(stream(fixture), { format: 'jsonl', observerId }, () => {
      throw new Error('disk full');
    });
    await expect(failingWrite).rejects.toMatchObject({ code: 'audit.export_failed' });
    async function* broken(): AsyncGenerator<StoredAuditRow> {
      yield fixture[0] as StoredAuditRow;
      await Promise.resolve();
      throw new Error('connection reset');
    }
    await expect(exportAudit(broken(), { format: 'fhir', observerId }, () => undefined)).rejects.toMatchObject({
      code: 'audit.export_failed',
      message: 'audit export failed after 1 entries',
    });
  });
});

describe.each(testDialects())('exportAudit over a stored log on $name', (dialect) => {
  let w: AuditWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('exports what the log wrote, filtered by patient, in sequence order', async () => {
    w = await createAuditWorld(dialect);
    for (let i = 0; i < 30; i++) await w.log.append(sampleEntry(i));
    const want = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 11 === 3).map((i) => i + 1);
    const lines: string[] = [];
    const { exported } = await exportAudit(
      streamAuditRows(w.t.db, { pageSize: 7 }),
      { format: 'jsonl', patient: 'pt-3', observerId },
      (l) => {
        lines.push(l);
      },
    );
    expect(exported).toBe(want.length);
    expect(lines.map((l) => (JSON.parse(l) as AuditEntry).seq)).toEqual(want);
    const rows = await w.t.db.selectFrom('audit_entry').selectAll().where('patient_id', '=', 'pt-3').orderBy('seq').execute();
    expect(lines.map((l) => (JSON.parse(l) as { chainHash: string }).chainHash)).toEqual(rows.map((r) => r.chain_hash));
  });
});
