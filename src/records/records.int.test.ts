/**
 * Protected records end to end on every database: Synthea bulk data imported, encrypted at
 * rest under per-patient keys, read only through views, found through blind indexes,
 * rotated, exported and erased. The proofs: no canary PHI in the raw database, a
 * transplanted ciphertext fails, erasure leaves nothing recoverable and others untouched.
 */
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createRecordsWorld, SYNTHEA_BULK, WHO } from './testing/records-world.js';
import type { RecordsWorld } from './testing/records-world.js';
import type { ReadContext } from './records-service.js';
import type { FhirResource } from './fhir-resource.js';
import { purgeDeleted } from '../storage/purge-deleted.js';
import { patientKeySubject } from '../storage/data-key-ring.js';
import { DataKeyRing } from '../storage/data-key-ring.js';

const bulk = (type: string): FhirResource[] =>
  gunzipSync(readFileSync(join(SYNTHEA_BULK, `${type}.000.ndjson.gz`))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as FhirResource);

const patients = bulk('Patient');
const ALICE = '7bc002fa-dc52-17d6-1563-fd8901826f7d'; // Champlin946 An125, living, encounters to 2023-01
const BOB = 'ca15b832-01e4-41dd-6a52-97bd3e5510cb'; // Jast432 Corrin41, encounters to 2023-03
const AFTER_DATA = new Date('2023-04-01T00:00:00.000Z');

/** PHI values that appear in the imported data: names, SSNs, phone numbers, addresses, notes. */
function canariesOf(patientIds: readonly string[] | 'all'): string[] {
  const out = new Set<string>();
  const pick = (p: FhirResource): boolean => patientIds === 'all' || patientIds.includes(p.id ?? '');
  for (const p of patients.filter(pick)) {
    const r = p as { name?: Array<{ family?: string; given?: string[] }>; identifier?: Array<{ system?: string; value?: string }>; telecom?: Array<{ value?: string }>; address?: Array<{ line?: string[] }> };
    for (const n of r.name ?? []) {
      if (n.family !== undefined) out.add(n.family);
      for (const g of n.given ?? []) out.add(g);
    }
    for (const i of r.identifier ?? []) if (i.value !== undefined && i.value.length >= 8 && !i.value.includes('-' + 'x')) out.add(i.value);
    for (const t of r.telecom ?? []) if (t.value !== undefined) out.add(t.value);
    for (const a of r.address ?? []) for (const l of a.line ?? []) out.add(l);
  }
  // Clinical note text (DocumentReference attachments are base64 text/plain).
  for (const d of bulk('DocumentReference')) {
    const subject = ((d as { subject?: { reference?: string } }).subject?.reference ?? '').replace('Patient/', '');
    if (patientIds !== 'all' && !patientIds.includes(subject)) continue;
    const data = (d as { content?: Array<{ attachment?: { data?: string } }> }).content?.[0]?.attachment?.data;
    if (data === undefined) continue;
    const text = Buffer.from(data, 'base64').toString('utf8');
    const m = /history of ([^.]{12,60})\./.exec(text);
    if (m?.[1] !== undefined) out.add(m[1]);
    out.add(data.slice(0, 40));
  }
  // Resource ids are Ward's ids (they are in the audit log by design); keep PHI only.
  return [...out].filter((c) => c.length >= 6 && !/^[0-9a-f-]{36}$/.test(c));
}

function permit(view: string | undefined, deidentify = false): ReadContext {
  return {
    who: { id: 'usr_sched', kind: 'person' },
    permit: { effect: 'permit', policyVersion: 't', ruleId: 'r', obligations: { ...(view !== undefined ? { view } : {}), deidentify, humanReview: false } },
    auditFields: { purpose: 'TREAT' },
  };
}

async function rawDump(world: RecordsWorld): Promise<Buffer> {
  await world.w.log.flush();
  if (world.w.t.dialect === 'sqlite') {
    const file = (world.w.t.connection as { file: string }).file;
    const parts = [readFileSync(file)];
    for (const extra of ['-wal', '-shm']) if (existsSync(file + extra)) parts.push(readFileSync(file + extra));
    return Buffer.concat(parts);
  }
  // PostgreSQL: every row of every Ward table as text (what pg_dump would write).
  const tables = await sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`.execute(world.w.t.db);
  const chunks: string[] = [];
  for (const { tablename } of tables.rows) {
    const rows = await sql<{ t: string }>`SELECT t::text AS t FROM ${sql.table(tablename)} t`.execute(world.w.t.db);
    chunks.push(...rows.rows.map((r) => r.t));
  }
  return Buffer.from(chunks.join('\n'), 'utf8');
}

/** PostgreSQL bytea as text is `\x<hex>`: look for a byte string in either form. */
function holds(dump: Buffer, needle: Buffer | string): boolean {
  const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
  return dump.includes(bytes) || dump.includes(Buffer.from(bytes.toString('hex'), 'utf8'));
}

describe.each(testDialects())('protected records on $name', (dialect: TestDialect) => {
  let world: RecordsWorld | undefined;
  afterEach(async () => {
    await world?.dispose();
    world = undefined;
  });
  const open = async (retentionYears = 0): Promise<RecordsWorld> => {
    world = await createRecordsWorld(dialect, { retentionYears });
    world.w.clock.set(AFTER_DATA);
    return world;
  };

  it('imports the Synthea bulk data; the raw database holds none of 100+ canary PHI values', async () => {
    const w = await open();
    const report = await w.importPath(SYNTHEA_BULK);
    expect(report).toMatchObject({ invalid: 0, committed: true, patients: 13 });
    expect(report.stored).toBe(6983);
    expect(report.skippedTypes).toEqual({ Device: 16, Immunization: 161 });
    const canaries = canariesOf('all');
    expect(canaries.length).toBeGreaterThanOrEqual(100);
    const dump = await rawDump(w);
    const leaked = canaries.filter((c) => holds(dump, c));
    expect(leaked).toEqual([]);
    // The dump is not vacuous: ids (which are not PHI and are stored in clear) are found.
    expect(holds(dump, ALICE)).toBe(true);
    // Each patient has its own data key; resources sit under their patient's key.
    const keys = await w.w.t.db.selectFrom('data_key').select('subject').execute();
    expect(keys.filter((k) => k.subject.startsWith('patient:'))).toHaveLength(13);
    const mine = await w.w.t.db.selectFrom('fhir_resource').select(['key_subject']).where('patient_id', '=', ALICE).execute();
    expect(new Set(mine.map((r) => r.key_subject))).toEqual(new Set([patientKeySubject(ALICE)]));
    const imports = await w.entries('record.import');
    expect(imports.reduce((n, e) => n + Number((e.details as { resources: number }).resources), 0)).toBe(6983);
  }, 120_000);

  it('reads through the permit\'s view only, and audits the view and the elements disclosed', async () => {
    const w = await open();
    await w.importPath(SYNTHEA_BULK);
    const scheduling = await w.records.readPatient(ALICE, permit('scheduling'));
    const types = new Set(scheduling.resources.map((r) => r.resourceType));
    expect(types.has('Patient')).toBe(true);
    expect(types.has('Condition')).toBe(false);
    expect(types.has('DocumentReference')).toBe(false);
    const patient = scheduling.resources.find((r) => r.resourceType === 'Patient')!;
    expect(Object.keys(patient).sort()).toEqual(expect.not.arrayContaining(['identifier', 'address', 'extension', 'text']));
    expect(scheduling.disclosed).toContain('Patient.name');
    expect(scheduling.disclosed).not.toContain('Patient.identifier');

    const coding = await w.records.readPatient(ALICE, permit('coding'));
    expect(coding.resources.some((r) => r.resourceType === 'DocumentReference')).toBe(true);
    // Windows: only the last 365 days of encounters.
    for (const e of coding.resources.filter((r) => r.resourceType === 'Encounter')) {
      const start = Date.parse((e as unknown as { period: { start: string } }).period.start);
      expect(start).toBeGreaterThanOrEqual(AFTER_DATA.getTime() - 366 * 86_400_000);
    }
    const reads = await w.entries('patient.read');
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({ patient: ALICE, view: 'scheduling', outcome: 'success', purpose: 'TREAT', disclosed: scheduling.disclosed });
    expect(reads[1]).toMatchObject({ view: 'coding', disclosed: coding.disclosed });
  }, 120_000);

  it('fails closed: no view, a de-identification duty, an unknown or malformed patient', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    await expect(w.records.readPatient(ALICE, permit(undefined))).rejects.toMatchObject({ code: 'records.view_required', status: 403 });
    await expect(w.records.readPatient(ALICE, permit('intake', true))).rejects.toMatchObject({ code: 'records.deidentify_unsupported' });
    await expect(w.records.readPatient('no-such-patient', permit('intake'))).rejects.toMatchObject({ code: 'records.patient_not_found', status: 404 });
    await expect(w.records.readPatient('bad id', permit('intake'))).rejects.toMatchObject({ code: 'request.invalid' });
  }, 60_000);

  it('finds patients by identifier and by name + birth date through blind indexes; each match is audited', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    const byMrn = await w.records.findPatients({ identifier: { system: 'http://hospital.smarthealthit.org', value: ALICE } }, permit('scheduling'));
    expect(byMrn.resources.map((r) => r.id)).toEqual([ALICE]);
    const bySsn = await w.records.findPatients({ identifier: { system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-78-3480' } }, permit('audit'));
    expect(bySsn.resources.map((r) => r.id)).toEqual([BOB]);
    // A bare SSN finds nobody: value-only search is for record numbers, not for testing SSNs.
    expect((await w.records.findPatients({ identifier: { value: '999-78-3480' } }, permit('audit'))).resources).toEqual([]);
    const byName = await w.records.findPatients({ name: { family: '  jast432 ', given: 'CORRIN41', birthDate: '1986-11-19' } }, permit('scheduling'));
    expect(byName.resources.map((r) => r.id)).toEqual([BOB]);
    const none = await w.records.findPatients({ name: { family: 'Jast432', given: 'Corrin41', birthDate: '1986-11-20' } }, permit('scheduling'));
    expect(none.resources).toEqual([]);
    const searches = await w.entries('patient.search');
    expect(searches.map((s) => s.patient ?? null)).toEqual([ALICE, BOB, null, BOB, null]);
    // Search needs no relationship, so it shows only what tells people apart, whatever the view.
    const clinical = await w.records.findPatients({ identifier: { value: ALICE } }, permit('clinical'));
    expect(Object.keys(clinical.resources[0]!).sort()).toEqual(['birthDate', 'gender', 'id', 'name', 'resourceType']);
    expect(clinical.disclosed).toEqual(['Patient.birthDate', 'Patient.gender', 'Patient.id', 'Patient.name']);
    // The index holds keyed digests only: no identifier or name in clear.
    const rows = await w.w.t.db.selectFrom('patient_index').select('digest').execute();
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.digest))).toBe(true);
  }, 60_000);

  it('shared resources come only through references the view shows, never through withheld ones', async () => {
    const w = await open();
    const dir = mkdtempSync(join(tmpdir(), 'ward-shared-'));
    try {
      const enc = (id: string, start: string, practitioner: string): string => JSON.stringify({
        resourceType: 'Encounter', id, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${ALICE}` }, period: { start },
        participant: [{ individual: { reference: `Practitioner/${practitioner}` } }],
      });
      const doc = (id: string, name: string): string => JSON.stringify({ resourceType: 'Practitioner', id, name: [{ family: name }] });
      writeFileSync(join(dir, 'a.ndjson'), [
        JSON.stringify(patients.find((p) => p.id === ALICE)),
        enc('enc-recent', '2023-03-01T10:00:00Z', 'doc-recent'),
        enc('enc-old', '2015-03-01T10:00:00Z', 'doc-psychiatry'),
        doc('doc-recent', 'Recentdoc'),
        doc('doc-psychiatry', 'Withhelddoc'),
      ].join('\n'));
      expect(await w.importPath(dir)).toMatchObject({ invalid: 0, stored: 5 });
      const coding = await w.records.readPatient(ALICE, permit('coding'));
      const ids = coding.resources.map((r) => `${r.resourceType}/${r.id ?? ''}`);
      expect(ids).toContain('Encounter/enc-recent');
      expect(ids).not.toContain('Encounter/enc-old');
      expect(ids).not.toContain('Practitioner/doc-psychiatry');
      // The scheduling view lists practitioners but no encounters: nothing pulls them in.
      const scheduling = await w.records.readPatient(ALICE, permit('scheduling'));
      expect(scheduling.resources.filter((r) => r.resourceType === 'Practitioner')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a resource cannot move to another patient\'s chart, by re-import or by editing the clear patient column', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    const dir = mkdtempSync(join(tmpdir(), 'ward-move-'));
    try {
      const condition = (patient: string): string => JSON.stringify({ resourceType: 'Condition', id: 'cond-1', subject: { reference: `Patient/${patient}` }, code: { text: 'x' }, recordedDate: '2023-01-01' });
      writeFileSync(join(dir, 'c.ndjson'), condition(ALICE));
      expect(await w.importPath(dir)).toMatchObject({ stored: 1, invalid: 0 });
      writeFileSync(join(dir, 'c.ndjson'), condition(BOB));
      const moved = await w.importPath(dir);
      expect(moved.problems.map((p) => p.code)).toEqual(['records.compartment_changed']);
      const row = await w.w.t.db.selectFrom('fhir_resource').select('patient_id').where('resource_id', '=', 'cond-1').executeTakeFirstOrThrow();
      expect(row.patient_id).toBe(ALICE);
      // Someone with database access rewrites the clear column: the row is refused, not shown in Bob's chart.
      await w.w.t.db.updateTable('fhir_resource').set({ patient_id: BOB }).where('resource_id', '=', 'cond-1').execute();
      await expect(w.records.readPatient(BOB, permit('clinical'))).rejects.toMatchObject({ code: 'storage.decrypt_failed' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.runIf(dialect.name === 'sqlite')('says so when another process keeps the WAL from being emptied after an erasure', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    const reader = w.w.t.reopen();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => { release = r; });
    let reading: Promise<unknown> = Promise.resolve();
    try {
      // Another process (the server) is in the middle of a read: its snapshot pins the WAL.
      const started = new Promise<void>((ready) => {
        reading = reader.db.transaction().execute(async (trx) => {
          await trx.selectFrom('fhir_resource').select('resource_id').limit(1).execute();
          ready();
          await held;
        });
      });
      await started;
      await w.records.erasePatient(ALICE, WHO);
      await expect(purgeDeleted(w.w.t, { attempts: 1, delayMs: 10 })).rejects.toMatchObject({ code: 'storage.purge_incomplete' });
      release();
      await reading;
      await reader.close();
      await expect(purgeDeleted(w.w.t)).resolves.toBeUndefined();
    } finally {
      release();
      await reading.catch(() => undefined);
      await reader.close().catch(() => undefined);
    }
  }, 60_000);

  it('a rotation by another process takes effect at once for new data keys', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    const console = new DataKeyRing(w.w.t.db, w.provider, w.w.clock);
    await console.rotate();
    await w.importPath(join(SYNTHEA_BULK, 'Organization.000.ndjson.gz'));
    const directory = await w.w.t.db.selectFrom('data_key').select('kek_version').where('subject', '=', 'directory').executeTakeFirstOrThrow();
    expect(directory.kek_version).toBe(2);
  }, 60_000);

  it('a ciphertext copied to another row or another patient\'s row fails to decrypt', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    await w.importPath(join(SYNTHEA_BULK, 'AllergyIntolerance.000.ndjson.gz'));
    const db = w.w.t.db;
    const alice = await db.selectFrom('fhir_resource').selectAll().where('resource_type', '=', 'Patient').where('resource_id', '=', ALICE).executeTakeFirstOrThrow();
    const bob = await db.selectFrom('fhir_resource').selectAll().where('resource_type', '=', 'Patient').where('resource_id', '=', BOB).executeTakeFirstOrThrow();
    // Another patient's row: Bob's Patient body replaced by Alice's.
    await db.updateTable('fhir_resource').set({ body: alice.body }).where('resource_type', '=', 'Patient').where('resource_id', '=', BOB).execute();
    await expect(w.records.readPatient(BOB, permit('audit'))).rejects.toMatchObject({ code: 'storage.decrypt_failed' });
    // Even with the key subject rewritten to Alice's, the row binding differs.
    await db.updateTable('fhir_resource').set({ key_subject: patientKeySubject(ALICE), patient_id: BOB }).where('resource_type', '=', 'Patient').where('resource_id', '=', BOB).execute();
    await expect(w.records.readPatient(BOB, permit('audit'))).rejects.toMatchObject({ code: 'storage.decrypt_failed' });
    await db.updateTable('fhir_resource').set({ body: bob.body, key_subject: bob.key_subject }).where('resource_type', '=', 'Patient').where('resource_id', '=', BOB).execute();
    await expect(w.records.readPatient(BOB, permit('audit'))).resolves.toMatchObject({ view: 'audit' });
    // Another row of the same patient: one of Alice's allergies gets her Patient body.
    const allergy = await db.selectFrom('fhir_resource').select('resource_id').where('resource_type', '=', 'AllergyIntolerance').where('patient_id', '=', ALICE).executeTakeFirst();
    if (allergy !== undefined) {
      await db.updateTable('fhir_resource').set({ body: alice.body }).where('resource_type', '=', 'AllergyIntolerance').where('resource_id', '=', allergy.resource_id).execute();
      await expect(w.records.readPatient(ALICE, permit('intake'))).rejects.toMatchObject({ code: 'storage.decrypt_failed' });
    }
    // A wrapped data key moved to another patient does not unwrap either.
    const aliceKey = await db.selectFrom('data_key').select('wrapped').where('subject', '=', patientKeySubject(ALICE)).executeTakeFirstOrThrow();
    await db.updateTable('data_key').set({ wrapped: aliceKey.wrapped }).where('subject', '=', patientKeySubject(BOB)).execute();
    const fresh = new DataKeyRing(db, w.provider, w.w.clock);
    await expect(fresh.existingKey(db, patientKeySubject(BOB))).rejects.toMatchObject({ code: 'keys.unwrap_failed' });
  }, 60_000);

  it('rotation rewraps every data key under a new KEK version without touching records', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    const db = w.w.t.db;
    const before = await db.selectFrom('fhir_resource').select(['resource_id', 'body']).orderBy('resource_id').execute();
    const keysBefore = await db.selectFrom('data_key').select(['subject', 'wrapped', 'kek_version']).orderBy('subject').execute();
    const report = await w.keyRing.rotate({ batchSize: 5 });
    expect(report).toMatchObject({ provider: 'local', fromVersions: [1], toVersion: 2, rewrapped: keysBefore.length });
    const after = await db.selectFrom('fhir_resource').select(['resource_id', 'body']).orderBy('resource_id').execute();
    expect(after.map((r) => Buffer.from(r.body).toString('hex'))).toEqual(before.map((r) => Buffer.from(r.body).toString('hex')));
    const keysAfter = await db.selectFrom('data_key').select(['subject', 'wrapped', 'kek_version']).orderBy('subject').execute();
    expect(keysAfter.every((k) => k.kek_version === 2)).toBe(true);
    expect(keysAfter.every((k, i) => !Buffer.from(k.wrapped).equals(Buffer.from(keysBefore[i]!.wrapped)))).toBe(true);
    expect(await w.keyRing.status()).toEqual([
      { provider: 'local', version: 1, state: 'retired', dataKeys: 0 },
      { provider: 'local', version: 2, state: 'active', dataKeys: keysAfter.length },
    ]);
    // A reader in another process (a fresh ring, empty cache) still reads everything.
    const read = await w.records.readPatient(ALICE, permit('audit'));
    expect(read.resources).toHaveLength(1);
    // An interrupted rotation resumes: put one key back under version 1 and rotate again.
    await db.updateTable('data_key').set({ kek_version: 1, wrapped: keysBefore[0]!.wrapped }).where('subject', '=', keysBefore[0]!.subject).execute();
    const resumed = await w.keyRing.rotate();
    expect(resumed).toMatchObject({ toVersion: 2, rewrapped: 1 });
  }, 60_000);

  it('erasure destroys the patient\'s key: nothing of theirs is recoverable, others are untouched', async () => {
    const w = await open();
    await w.importPath(SYNTHEA_BULK);
    const db = w.w.t.db;
    const wrapped = Buffer.from((await db.selectFrom('data_key').select('wrapped').where('subject', '=', patientKeySubject(ALICE)).executeTakeFirstOrThrow()).wrapped);
    const bodies = (await db.selectFrom('fhir_resource').select('body').where('patient_id', '=', ALICE).execute()).map((r) => Buffer.from(r.body));
    expect(bodies.length).toBeGreaterThan(100);
    // A second reader (another process) that has Alice's key cached before the erasure.
    const other = new DataKeyRing(db, w.provider, w.w.clock);
    expect(await other.existingKey(db, patientKeySubject(ALICE))).toBeDefined();
    const bobBefore = await w.records.readPatient(BOB, permit('clinical'));

    const result = await w.records.erasePatient(ALICE, WHO);
    expect(result.keys).toBe(1);
    expect(result.resources).toBe(bodies.length);
    await purgeDeleted(w.w.t);

    // Unreadable everywhere: this process, the other one, search, export, re-import.
    await expect(w.records.readPatient(ALICE, permit('clinical'))).rejects.toMatchObject({ code: 'records.patient_erased', status: 410 });
    expect(await other.existingKey(db, patientKeySubject(ALICE))).toBeUndefined();
    expect((await w.records.findPatients({ identifier: { value: ALICE } }, permit('audit'))).resources).toEqual([]);
    await expect(w.records.exportPatient(ALICE, WHO, { observerId: 'ward' })).rejects.toMatchObject({ code: 'records.patient_erased' });
    const again = await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    expect(again.problems.map((p) => p.code)).toEqual(['records.patient_erased']);
    // The same person fed again under a new id (same record numbers): refused with their chart.
    const dir = mkdtempSync(join(tmpdir(), 'ward-refeed-'));
    try {
      const alice = patients.find((p) => p.id === ALICE)!;
      writeFileSync(join(dir, 'refeed.ndjson'), [
        JSON.stringify({ ...alice, id: 'alice-new-id' }),
        JSON.stringify({ resourceType: 'Condition', id: 'refeed-cond', subject: { reference: 'Patient/alice-new-id' }, code: { text: 'x' } }),
      ].join('\n'));
      const refeed = await w.importPath(dir);
      expect(refeed.problems.map((p) => p.code)).toEqual(['records.patient_erased', 'records.patient_erased']);
      expect(await w.w.t.db.selectFrom('fhir_resource').select('resource_id').where('patient_id', '=', 'alice-new-id').execute()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Nothing recoverable from the database bytes (SQLite: file + WAL; PostgreSQL: rows).
    const dump = await rawDump(w);
    expect(holds(dump, wrapped)).toBe(false);
    expect(bodies.some((b) => holds(dump, b.subarray(13, 45)))).toBe(false);
    expect(canariesOf([ALICE]).filter((c) => holds(dump, c))).toEqual([]);
    if (w.w.t.dialect === 'postgres') {
      // The data-key table's files on disk (VACUUM FULL rewrote them) hold no copy either.
      const path = await sql<{ p: string; d: string }>`SELECT pg_relation_filepath('data_key') AS p, current_setting('data_directory') AS d`.execute(db);
      const file = join(path.rows[0]!.d, path.rows[0]!.p);
      if (existsSync(file)) expect(readFileSync(file).includes(wrapped)).toBe(false);
    }
    // Other patients untouched.
    const bobAfter = await w.records.readPatient(BOB, permit('clinical'));
    expect(bobAfter.resources).toEqual(bobBefore.resources);
    // The audit log keeps ids only.
    const erase = (await w.entries('patient.erase')).at(-1)!;
    expect(erase).toMatchObject({ patient: ALICE, outcome: 'success', who: WHO });
    expect(await w.w.t.db.selectFrom('patient_state').selectAll().where('patient_id', '=', ALICE).execute()).toHaveLength(1);
  }, 180_000);

  it('erasure is refused, with the reason, under a legal hold or the retention rule; both audited', async () => {
    const w = await open(6);
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    await w.importPath(join(SYNTHEA_BULK, 'Encounter.000.ndjson.gz'));
    const hold = await w.records.placeHold(ALICE, 'litigation', WHO);
    await expect(w.records.erasePatient(ALICE, WHO)).rejects.toMatchObject({ code: 'records.legal_hold', status: 409, extra: { hold: hold.id, holdReason: 'litigation' } });
    await w.records.releaseHold(hold.id, WHO);
    await expect(w.records.releaseHold(hold.id, WHO)).rejects.toMatchObject({ code: 'records.hold_released' });
    // Alice's latest encounter is in 2023: a 6-year rule keeps her records until the end of 2029.
    await expect(w.records.erasePatient(ALICE, WHO)).rejects.toMatchObject({ code: 'records.retention', extra: { retainUntil: 2029 } });
    w.w.clock.set(new Date('2030-01-02T00:00:00.000Z'));
    await expect(w.records.erasePatient(ALICE, WHO)).resolves.toMatchObject({ keys: 1 });
    const erases = await w.entries('patient.erase');
    expect(erases.map((e) => [e.outcome, e.reason ?? null])).toEqual([['denied', 'records.legal_hold'], ['denied', 'records.retention'], ['success', null]]);
    await expect(w.records.placeHold(ALICE, 'Has a lawyer', WHO)).rejects.toMatchObject({ code: 'request.invalid' });
  }, 60_000);

  it('retention does not fail open for a patient without dated resources: the import year stands in', async () => {
    const w = await open(6);
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    await expect(w.records.erasePatient(BOB, WHO)).rejects.toMatchObject({ code: 'records.retention', extra: { retainUntil: 2029 } });
  }, 60_000);

  it('export holds every resource of the patient and the accounting of disclosures', async () => {
    const w = await open();
    await w.importPath(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz'));
    await w.importPath(join(SYNTHEA_BULK, 'Condition.000.ndjson.gz'));
    await w.records.readPatient(ALICE, permit('coding'));
    const bundle = await w.records.exportPatient(ALICE, WHO, { observerId: 'ward' });
    const entries = (bundle.entry as Array<{ resource: FhirResource }>).map((e) => e.resource);
    const expected = 1 + bulk('Condition').filter((c) => (c as unknown as { subject: { reference: string } }).subject.reference === `Patient/${ALICE}`).length;
    expect(entries.filter((r) => r.resourceType !== 'AuditEvent')).toHaveLength(expected);
    const events = entries.filter((r) => r.resourceType === 'AuditEvent');
    expect(events.length).toBe(1);
    expect(JSON.stringify(events[0])).toContain('urn:ward:data-view');
    expect((await w.entries('patient.export')).at(-1)).toMatchObject({ patient: ALICE, details: { resources: expected, disclosures: 1 } });
  }, 60_000);

  it('atomic imports keep nothing when anything is bad; plain imports keep the good ones', async () => {
    const w = await open();
    const dir = mkdtempSync(join(tmpdir(), 'ward-import-'));
    try {
      const good = patients.slice(0, 3).map((p) => JSON.stringify(p));
      writeFileSync(join(dir, 'Patient.ndjson'), [...good, '{"resourceType":"Patient","id":"x1","gender":"zebra"}', 'not json'].join('\n'));
      const atomic = await w.importPath(dir, true);
      expect(atomic).toMatchObject({ committed: false, stored: 0, invalid: 2 });
      expect(atomic.problems.map((p) => p.location)).toEqual([expect.stringMatching(/Patient\.ndjson:4$/), expect.stringMatching(/Patient\.ndjson:5$/)]);
      expect(await w.w.t.db.selectFrom('fhir_resource').select('resource_id').execute()).toEqual([]);
      expect(await w.w.t.db.selectFrom('data_key').select('subject').execute()).toEqual([]);
      const plain = await w.importPath(dir, false);
      expect(plain).toMatchObject({ committed: true, stored: 3, invalid: 2 });
      expect(readdirSync(dir)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
