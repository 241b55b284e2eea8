/**
 * The records commands as administrators run them: the real `ward` binary in a child process
 * for `import`, `patient export|hold|holds|release-hold|erase` and `keys status|rotate`, on
 * SQLite and on PostgreSQL (DATABASE_URL; `WARD_TEST_DIALECTS` narrows the list), each on one
 * data directory whose tests build on each other's state, in file order. Input is Synthea's
 * synthetic FHIR R4 data from test-data/. Checked: exit codes (0, 3 for a partial import,
 * 1 for a rolled-back atomic one), one-line `ward:` errors, reports that name locations and
 * rules but never PHI, the export Bundle with its accounting of disclosures, legal holds and
 * retention stopping erasure, crypto-shredding leaving nothing of the patient at rest (the
 * SQLite file and WAL scanned byte for byte), KEK rotation, and an audit entry for every one
 * of these commands with an intact log at the end.
 */
import { SYNTHEA_BULK, SYNTHEA_BUNDLES } from '../records/testing/synthea-data.js';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runWard, WARD_BIN } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import { expectOk, expectOneLineFailure, jsonLines, tableRows } from './testing/cli-expectations.js';
import type { JsonObject } from './testing/cli-expectations.js';
import { countWardDb, queryWardDb } from './testing/ward-db-reader.js';
import { serveWard } from './testing/serve-ward.js';
import type { WardDbTarget } from './testing/ward-db-reader.js';
import { createTestPgDatabase, testDialects } from '../storage/testing/test-databases.js';

const BULK = SYNTHEA_BULK;
const BUNDLES = SYNTHEA_BUNDLES;

const TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// The synthetic source data, read independently of Ward's importer.

interface SourcePatient {
  id: string;
  /** Values that identify the patient and must never appear where PHI may not be. */
  canaries: string[];
}

type Json = Record<string, unknown>;

function asObject(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strings(v: unknown): string[] {
  return asArray(v).filter((s): s is string => typeof s === 'string');
}

/** Names, SSN, street lines and phone numbers of a Patient resource. */
function patientOf(resource: Json): SourcePatient {
  const canaries: string[] = [];
  for (const n of asArray(resource.name)) {
    const name = asObject(n);
    if (typeof name.family === 'string') canaries.push(name.family);
    canaries.push(...strings(name.given));
  }
  for (const i of asArray(resource.identifier)) {
    const identifier = asObject(i);
    if (identifier.system === 'http://hl7.org/fhir/sid/us-ssn' && typeof identifier.value === 'string') canaries.push(identifier.value);
  }
  for (const a of asArray(resource.address)) canaries.push(...strings(asObject(a).line));
  for (const t of asArray(resource.telecom)) {
    const value = asObject(t).value;
    if (typeof value === 'string') canaries.push(value);
  }
  return { id: String(resource.id), canaries: [...new Set(canaries.filter((c) => c.length >= 4))] };
}

function ndjsonGz(file: string): { text: string; resource: Json }[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter((l) => l.trim() !== '').map((text) => ({ text, resource: asObject(JSON.parse(text)) }));
}

const bulkPatients = ndjsonGz(join(BULK, 'Patient.000.ndjson.gz')).map((l) => patientOf(l.resource));
const bundleFiles = readdirSync(BUNDLES).filter((f) => f.endsWith('.json')).sort();
const bundlePatients = bundleFiles.flatMap((f) => asArray(asObject(JSON.parse(readFileSync(join(BUNDLES, f), 'utf8'))).entry)
  .map((e) => asObject(asObject(e).resource))
  .filter((r) => r.resourceType === 'Patient')
  .map(patientOf));

/** Types the bulk import skips (Ward does not keep them); the report names them. */
const SKIPPED_BULK_TYPES = new Set(['Device', 'Immunization']);

/** How many resources the bulk folder holds in a patient's compartment (the Patient included). */
function bulkResourcesOf(patientId: string): number {
  let n = 0;
  for (const f of readdirSync(BULK).filter((name) => name.endsWith('.ndjson.gz') && !name.startsWith('log.'))) {
    for (const { text, resource } of ndjsonGz(join(BULK, f))) {
      if (SKIPPED_BULK_TYPES.has(String(resource.resourceType))) continue;
      if ((resource.resourceType === 'Patient' && resource.id === patientId) || text.includes(`"Patient/${patientId}"`)) n += 1;
    }
  }
  return n;
}

function bulkPatient(id: string): SourcePatient {
  const p = bulkPatients.find((x) => x.id === id);
  if (p === undefined) throw new Error(`no patient ${id} in the bulk data`);
  return p;
}

/** Exported: Gladys682 Schumm995. Erased: Yvone889 Cummings51. */
const EXPORTED = bulkPatient('a4a401d1-a46a-eb4a-8a38-760d5d79d6ec');
const ERASED = bulkPatient('6a4160eb-a793-2f86-2302-378626f46cce');
/** Ned Hintz's bundle, used (with one entry broken) by the partial-import tests. */
const HINTZ_BUNDLE = 'smart-Ned_Hintz_e4b9259d-0f54-48d1-a35d-b526729a4dfe.json';
const HINTZ = '616eaeb2-a67a-44e5-a7e6-9bbd85e47c5c';

function expectNoCanaries(text: string, patients: readonly SourcePatient[], where: string): void {
  const found = patients.flatMap((p) => p.canaries.filter((c) => text.includes(c)));
  expect(found, `PHI in ${where}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Data directories on either database.

const temps: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-records-'));
  temps.push(d);
  return d;
}

interface WardSite {
  root: string;
  data: string;
  env: Record<string, string>;
  db: WardDbTarget;
  ward(args: string[]): Promise<RunResult>;
}

/** A fresh, initialized data directory on `dialect` (PostgreSQL: a fresh database). */
async function newSite(dialect: 'sqlite' | 'postgres'): Promise<WardSite> {
  const root = tempDir();
  const data = join(root, 'ward-data');
  let env: Record<string, string> = {};
  let db: WardDbTarget = { dialect: 'sqlite', file: join(data, 'ward.db') };
  if (dialect === 'postgres') {
    const { url, drop } = await createTestPgDatabase('ward_t_reccli');
    cleanups.push(drop);
    env = { DATABASE_URL: url };
    db = { dialect: 'postgres', url };
  }
  const ward = (args: string[]): Promise<RunResult> => runWard([...args, '--data', data], { env, timeoutMs: 120_000 });
  expectOk(await ward(['init']));
  return { root, data, env, db, ward };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ path: p, bytes: readFileSync(p) });
  }
  return out;
}

function readBundle(file: string): { type: unknown; resources: Json[] } {
  const bundle = asObject(JSON.parse(readFileSync(file, 'utf8')));
  expect(bundle.resourceType).toBe('Bundle');
  return { type: bundle.type, resources: asArray(bundle.entry).map((e) => asObject(asObject(e).resource)) };
}

async function auditEntries(site: WardSite): Promise<JsonObject[]> {
  return jsonLines(expectOk(await site.ward(['audit', 'export', '--format', 'jsonl'])));
}

function keysStatus(stdout: string): Array<{ provider: string; version: number; state: string; dataKeys: number }> {
  expect(stdout.split('\n')[0]).toMatch(/^provider\s+version\s+state\s+data keys/);
  return tableRows(stdout).map(([provider, version, state, dataKeys]) => ({ provider: provider ?? '', version: Number(version), state: state ?? '', dataKeys: Number(dataKeys) }));
}

/** `script` (util-linux) gives the child a terminal, to show the progress bar is really there. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------

for (const { name: dialect } of testDialects()) {
  const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL (DATABASE_URL)';

  describe(`records commands on ${label} (one data directory, tests in order)`, () => {
    let site: WardSite;
    const firstExport: { file: string; seq: number } = { file: '', seq: 0 };
    let holdId = '';
    /** What of the erased patient was at rest before the erasure, to look for afterwards. */
    const erasedAtRest: { wrapped: Buffer[]; body: Buffer | undefined; digests: Array<{ kind: string; digest: string }> } = { wrapped: [], body: undefined, digests: [] };

    beforeAll(async () => {
      site = await newSite(dialect);
    }, TIMEOUT);

    it('import of the bulk NDJSON folder: exit 0, the report counts and skipped types, no progress bar off a terminal, no PHI', async () => {
      const r = await site.ward(['import', BULK]);
      const out = expectOk(r);
      expect(out.split('\n')).toEqual([
        'stored 6983 resource(s) for 13 patient(s); 0 invalid; 177 skipped',
        'skipped (types Ward does not keep): Device 16, Immunization 161',
        '',
      ]);
      // stderr is a pipe here, not a terminal: no progress bar, nothing at all.
      expect(r.stderr).toBe('');
      expectNoCanaries(r.stdout + r.stderr, bulkPatients, 'the import report');
      expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource')).toBe(6983);
      expect(await countWardDb(site.db, "select count(*) as n from fhir_resource where resource_type = 'Patient'")).toBe(13);
    }, TIMEOUT);

    it('import of the bundles folder (copied to neutral file names): exit 0, no PHI in the report', async () => {
      // Synthea names bundle files after their patients: neutral names keep the check honest.
      const neutral = join(site.root, 'bundles');
      mkdirSync(neutral);
      bundleFiles.forEach((f, i) => copyFileSync(join(BUNDLES, f), join(neutral, `bundle-${String(i + 1).padStart(2, '0')}.json`)));
      const r = await site.ward(['import', neutral]);
      expect(expectOk(r).split('\n')).toEqual([
        'stored 674 resource(s) for 6 patient(s); 0 invalid; 179 skipped',
        'skipped (types Ward does not keep): CarePlan 4, CareTeam 4, DiagnosticReport 61, ExplanationOfBenefit 58, Immunization 49, Provenance 3',
        '',
      ]);
      expect(r.stderr).toBe('');
      expectNoCanaries(r.stdout + r.stderr, [...bundlePatients, ...bulkPatients], 'the import report');
      expect(await countWardDb(site.db, "select count(*) as n from fhir_resource where resource_type = 'Patient'")).toBe(19);
      // Some providers come more than once (same ids, several bundles): they are updated, not
      // duplicated (on PostgreSQL a batch holding one twice once failed the whole import).
      const held = await countWardDb(site.db, 'select count(*) as n from fhir_resource');
      expect(held).toBeGreaterThan(6983 + 600);
      expect(held).toBeLessThanOrEqual(6983 + 674);
      // The folder itself, names and all, imports the same way (an upsert: nothing new).
      const original = await site.ward(['import', BUNDLES]);
      expect(expectOk(original).split('\n')[0]).toBe('stored 674 resource(s) for 6 patient(s); 0 invalid; 179 skipped');
      expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource')).toBe(held);
    }, TIMEOUT);

    it.skipIf(dialect !== 'sqlite' || !hasScript)('on a terminal the import draws a progress bar on stderr (the control for the check above)', async () => {
      const file = join(BULK, 'Patient.000.ndjson.gz');
      const command = [process.execPath, WARD_BIN, 'import', file, '--data', site.data].map(shellQuote).join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { env: cleanEnv(site.env), encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/import \[=+\] 100% \| 4187\/4187 bytes/);
      expect(r.stdout).toMatch(/stored 13 resource\(s\) for 13 patient\(s\)/);
    }, TIMEOUT);

    it('patient export: a 0600 FHIR Bundle of the patient\'s resources; the next export carries the first one\'s AuditEvent', async () => {
      const file = join(site.root, 'export-1.json');
      const out = expectOk(await site.ward(['patient', 'export', EXPORTED.id, '--out', file]));
      const expected = bulkResourcesOf(EXPORTED.id);
      expect(expected).toBeGreaterThan(100);
      // Nothing about the patient had been recorded before: no AuditEvent yet (imports name no patient).
      expect(out).toBe(`wrote ${expected} entries for patient ${EXPORTED.id} to ${file}\n`);
      expect(mode(file)).toBe(0o600);
      const first = readBundle(file);
      expect(first.type).toBe('collection');
      expect(first.resources.filter((r) => r.resourceType === 'AuditEvent')).toEqual([]);
      expect(first.resources).toHaveLength(expected);
      const patients = first.resources.filter((r) => r.resourceType === 'Patient');
      expect(patients.map((p) => p.id)).toEqual([EXPORTED.id]);
      for (const r of first.resources.filter((x) => x.resourceType !== 'Patient')) {
        expect(JSON.stringify(r), `${String(r.resourceType)}/${String(r.id)}`).toContain(`Patient/${EXPORTED.id}`);
      }
      // It is the patient's real data, decrypted (the control for every "no PHI" check here).
      for (const c of EXPORTED.canaries) expect(readFileSync(file, 'utf8')).toContain(c);
      expectNoCanaries(out, bulkPatients, 'the export command output');

      const exports = (await auditEntries(site)).filter((e) => e.action === 'patient.export' && e.patient === EXPORTED.id);
      expect(exports).toHaveLength(1);
      expect(exports[0]).toMatchObject({ outcome: 'success', details: { resources: expected, disclosures: 0 } });
      firstExport.file = file;
      firstExport.seq = Number(exports[0]?.seq);

      const file2 = join(site.root, 'export-2.json');
      expect(expectOk(await site.ward(['patient', 'export', EXPORTED.id, '--out', file2]))).toBe(`wrote ${expected + 1} entries for patient ${EXPORTED.id} to ${file2}\n`);
      const events = readBundle(file2).resources.filter((r) => r.resourceType === 'AuditEvent');
      expect(events).toHaveLength(1);
      const event = events[0] ?? {};
      expect(event.id).toBe(`ward-audit-${firstExport.seq}`);
      expect(event.outcome).toBe('0');
      expect(asArray(event.subtype)).toContainEqual({ system: 'urn:ward:audit-action', code: 'patient.export' });
      expect(asArray(event.entity).map((e) => asObject(asObject(e).what).reference)).toContain(`Patient/${EXPORTED.id}`);
    }, TIMEOUT);

    it('patient export --out to an existing file refuses with one line, overwrites nothing and records no disclosure', async () => {
      const before = readFileSync(firstExport.file);
      const disclosuresBefore = (await auditEntries(site)).filter((e) => e.action === 'patient.export' && e.outcome === 'success').length;
      const line = expectOneLineFailure(await site.ward(['patient', 'export', EXPORTED.id, '--out', firstExport.file]));
      expect(line).toContain(firstExport.file);
      expect(line).toMatch(/exists/);
      expect(readFileSync(firstExport.file).equals(before)).toBe(true);
      const after = await auditEntries(site);
      expect(after.filter((e) => e.action === 'patient.export' && e.outcome === 'success')).toHaveLength(disclosuresBefore);
      expect(after.filter((e) => e.action === 'patient.export').at(-1)).toMatchObject({ outcome: 'denied', reason: 'export.file_exists' });

      // An unknown patient: one line, no file.
      const missing = join(site.root, 'nobody.json');
      expect(expectOneLineFailure(await site.ward(['patient', 'export', 'no-such-patient', '--out', missing]))).toMatch(/no patient no-such-patient .*\[records\.patient_not_found\]/);
      expect(existsSync(missing)).toBe(false);
    }, TIMEOUT);

    it('a legal hold refuses erasure (naming hold and reason), holds lists it, the retention rule refuses naming the year, then erase works once', async () => {
      // What of the patient is at rest now, to look for after the erasure.
      const keyRows = await queryWardDb<{ wrapped: Buffer }>(site.db, 'select wrapped from data_key where subject = $1', [`patient:${ERASED.id}`]);
      expect(keyRows).toHaveLength(1);
      erasedAtRest.wrapped.push(...keyRows.map((k) => Buffer.from(k.wrapped)));
      erasedAtRest.body = (await queryWardDb<{ body: Buffer }>(site.db, "select body from fhir_resource where resource_type = 'Patient' and resource_id = $1", [ERASED.id]))[0]?.body;
      erasedAtRest.digests = await queryWardDb<{ kind: string; digest: string }>(site.db, 'select kind, digest from patient_index where patient_id = $1', [ERASED.id]);
      expect(erasedAtRest.digests.filter((d) => d.kind === 'name-birthdate').length).toBeGreaterThan(0);
      const resources = await countWardDb(site.db, 'select count(*) as n from fhir_resource where patient_id = $1', [ERASED.id]);
      expect(resources).toBe(bulkResourcesOf(ERASED.id));

      const placed = expectOk(await site.ward(['patient', 'hold', ERASED.id, '--reason', 'litigation']));
      const m = /^legal hold (hold_[0-9a-f-]{36}) \(litigation\) placed on patient (\S+)\n$/.exec(placed);
      expect(m, placed).not.toBeNull();
      holdId = m?.[1] ?? '';
      expect(m?.[2]).toBe(ERASED.id);

      const refused = expectOneLineFailure(await site.ward(['patient', 'erase', ERASED.id]));
      expect(refused).toContain(holdId);
      expect(refused).toContain('(litigation)');
      expect(refused).toMatch(/\[records\.legal_hold\]$/);
      expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource where patient_id = $1', [ERASED.id])).toBe(resources);

      const listed = tableRows(expectOk(await site.ward(['patient', 'holds'])));
      expect(listed).toHaveLength(1);
      expect(listed[0]?.slice(0, 3)).toEqual([holdId, ERASED.id, 'litigation']);
      expect(listed[0]?.[4]).toMatch(/^os:/);
      expect(listed[0]).toHaveLength(5); // not released: the last column is empty
      expect(tableRows(expectOk(await site.ward(['patient', 'holds', '--patient', EXPORTED.id])))).toEqual([]);
      expect(tableRows(expectOk(await site.ward(['patient', 'holds', '--patient', ERASED.id]))).map((r) => r[0])).toEqual([holdId]);

      // A reason is a code, not free text (it is audited).
      expect(expectOneLineFailure(await site.ward(['patient', 'hold', ERASED.id, '--reason', 'Sued by Ms Cummings']))).toMatch(/\[request\.invalid\]/);

      expect(expectOk(await site.ward(['patient', 'release-hold', holdId]))).toBe(`legal hold ${holdId} on patient ${ERASED.id} released\n`);
      expect(expectOneLineFailure(await site.ward(['patient', 'release-hold', holdId]))).toMatch(/already released .*\[records\.hold_released\]/);
      const released = tableRows(expectOk(await site.ward(['patient', 'holds'])));
      expect(released[0]?.[5]).toMatch(/^\d{4}-\d{2}-\d{2}T/);

      // Retention: 50 years after the latest clinical activity the patient's records are kept.
      const latest = (await queryWardDb<{ y: number | string }>(site.db, 'select max(activity_year) as y from fhir_resource where patient_id = $1', [ERASED.id]))[0]?.y;
      const latestYear = Number(latest);
      expect(latestYear).toBeGreaterThan(1900);
      writeFileSync(join(site.data, 'ward.json'), JSON.stringify({ records: { retentionYears: 50 } }), { mode: 0o600 });
      const retained = expectOneLineFailure(await site.ward(['patient', 'erase', ERASED.id]));
      expect(retained).toContain(`until the end of ${latestYear + 50}`);
      expect(retained).toContain(`in ${latestYear}`);
      expect(retained).toMatch(/\[records\.retention\]$/);
      rmSync(join(site.data, 'ward.json'));

      const erased = expectOk(await site.ward(['patient', 'erase', ERASED.id]));
      // Identifier digests may stay behind as a suppression list (keyed hashes, not searchable).
      const kept = await countWardDb(site.db, 'select count(*) as n from patient_index where patient_id = $1', [ERASED.id]);
      expect(erased).toBe(`erased patient ${ERASED.id}: data key destroyed, ${resources} resource(s) and ${erasedAtRest.digests.length - kept} index entries deleted\n`);
      expect(expectOneLineFailure(await site.ward(['patient', 'erase', ERASED.id]))).toMatch(/already erased .*\[records\.patient_erased\]/);
      const gone = join(site.root, 'erased.json');
      expect(expectOneLineFailure(await site.ward(['patient', 'export', ERASED.id, '--out', gone]))).toMatch(/\[records\.patient_erased\]/);
      expect(existsSync(gone)).toBe(false);
    }, TIMEOUT);

    it('after erasure nothing of the patient is at rest (key, rows, index, canaries), others still export, a new feed is refused', async () => {
      expect(await countWardDb(site.db, 'select count(*) as n from data_key where subject = $1', [`patient:${ERASED.id}`])).toBe(0);
      expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource where patient_id = $1', [ERASED.id])).toBe(0);
      // Nothing that finds the patient remains (an identifier may stay only as an erased-person marker).
      expect(await countWardDb(site.db, "select count(*) as n from patient_index where patient_id = $1 and kind in ('identifier', 'name-birthdate')", [ERASED.id])).toBe(0);
      expect(await countWardDb(site.db, 'select count(*) as n from patient_state where patient_id = $1', [ERASED.id])).toBe(1);

      // Every file of the data directory (on SQLite the database, its WAL and shared memory),
      // byte for byte: no wrapped key, no ciphertext, no name/birth-date digest, no PHI.
      const files = filesUnder(site.data);
      if (dialect === 'sqlite') expect(files.map((f) => f.path)).toContain(join(site.data, 'ward.db'));
      const body = erasedAtRest.body;
      expect(body?.length).toBeGreaterThan(64);
      const needles: Array<{ what: string; bytes: Buffer }> = [
        ...erasedAtRest.wrapped.map((w, i) => ({ what: `wrapped data key ${i}`, bytes: w })),
        ...(body === undefined ? [] : [{ what: 'Patient ciphertext', bytes: body.subarray(16, 48) }]),
        ...erasedAtRest.digests.filter((d) => d.kind === 'name-birthdate').map((d) => ({ what: `name/birth-date digest ${d.digest}`, bytes: Buffer.from(d.digest, 'utf8') })),
        ...ERASED.canaries.map((c) => ({ what: `canary ${c}`, bytes: Buffer.from(c, 'utf8') })),
      ];
      const found = files.flatMap((f) => needles.filter((n) => f.bytes.includes(n.bytes)).map((n) => `${n.what} in ${f.path}`));
      expect(found).toEqual([]);

      const file = join(site.root, 'export-after-erase.json');
      expectOk(await site.ward(['patient', 'export', EXPORTED.id, '--out', file]));
      expect(readBundle(file).resources.filter((r) => r.resourceType !== 'AuditEvent')).toHaveLength(bulkResourcesOf(EXPORTED.id));

      // The next feed does not bring the erased patient back.
      const again = await site.ward(['import', join(BULK, 'Patient.000.ndjson.gz')]);
      expect(again.code, again.stderr).toBe(3);
      const lines = again.stdout.split('\n');
      expect(lines[0]).toBe('stored 12 resource(s) for 12 patient(s); 1 invalid; 0 skipped');
      expect(lines.filter((l) => /^ {2}Patient\.000\.ndjson\.gz:\d+: records\.patient_erased: /.test(l))).toHaveLength(1);
      expectNoCanaries(again.stdout + again.stderr, bulkPatients, 'the import report');
      expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource where patient_id = $1', [ERASED.id])).toBe(0);
      expect(await countWardDb(site.db, 'select count(*) as n from data_key where subject = $1', [`patient:${ERASED.id}`])).toBe(0);
    }, TIMEOUT);

    it('keys rotate: a new local KEK version, every data key rewrapped, version 1 retired with none, records still export', async () => {
      const dataKeys = await countWardDb(site.db, 'select count(*) as n from data_key');
      // 18 patients left (13 + 6 - 1 erased), the directory and the blind-index keys.
      expect(dataKeys).toBe(20);
      expect(keysStatus(expectOk(await site.ward(['keys', 'status'])))).toEqual([{ provider: 'local', version: 1, state: 'active', dataKeys }]);
      const wrappedBefore = await queryWardDb<{ subject: string; wrapped: Buffer }>(site.db, 'select subject, wrapped from data_key order by subject');

      expect(expectOk(await site.ward(['keys', 'rotate']))).toBe(`local KEK version 2 is active; rewrapped ${dataKeys} data key(s) from version(s) 1\n`);
      expect(keysStatus(expectOk(await site.ward(['keys', 'status'])))).toEqual([
        { provider: 'local', version: 1, state: 'retired', dataKeys: 0 },
        { provider: 'local', version: 2, state: 'active', dataKeys },
      ]);
      const wrappedAfter = await queryWardDb<{ subject: string; kek_version: number; wrapped: Buffer }>(site.db, 'select subject, kek_version, wrapped from data_key order by subject');
      expect(wrappedAfter.map((k) => k.subject)).toEqual(wrappedBefore.map((k) => k.subject));
      expect(wrappedAfter.every((k) => Number(k.kek_version) === 2)).toBe(true);
      for (const [i, k] of wrappedAfter.entries()) expect(Buffer.from(k.wrapped).equals(Buffer.from(wrappedBefore[i]?.wrapped ?? Buffer.alloc(0))), k.subject).toBe(false);

      const keyFile = join(site.data, 'keys', 'local-kek.json');
      expect(mode(keyFile)).toBe(0o600);
      const keyDoc = asObject(JSON.parse(readFileSync(keyFile, 'utf8')));
      expect(asArray(keyDoc.keys).map((k) => asObject(k).id)).toEqual(['kek-1', 'kek-2']);
      expect(keyDoc.active).toBe('kek-2');

      const file = join(site.root, 'export-after-rotate.json');
      expectOk(await site.ward(['patient', 'export', EXPORTED.id, '--out', file]));
      const resources = readBundle(file).resources.filter((r) => r.resourceType !== 'AuditEvent');
      expect(resources).toHaveLength(bulkResourcesOf(EXPORTED.id));
      expect(JSON.stringify(resources)).toBe(JSON.stringify(readBundle(firstExport.file).resources));
    }, TIMEOUT);

    it('every command left its audit entry (refusals included), without PHI, and the log verifies', async () => {
      const entries = await auditEntries(site);
      const has = (action: string, outcome: string, extra: Partial<JsonObject> = {}): void => {
        const match = entries.filter((e) => e.action === action && e.outcome === outcome && Object.entries(extra).every(([k, v]) => isDeepStrictEqual(e[k], v)));
        expect(match.length, `${action} ${outcome} ${JSON.stringify(extra)}`).toBeGreaterThan(0);
      };
      has('record.import', 'success');
      expect(entries.filter((e) => e.action === 'record.import' && e.outcome === 'success').every((e) => e.patient === undefined && typeof asObject(e.details).resources === 'number')).toBe(true);
      has('patient.export', 'success', { patient: EXPORTED.id });
      has('patient.export', 'denied', { reason: 'export.file_exists' });
      has('patient.export', 'denied', { reason: 'records.patient_not_found' });
      has('patient.export', 'denied', { reason: 'records.patient_erased' });
      has('patient.hold', 'success', { patient: ERASED.id, reason: 'litigation', resource: { id: holdId, type: 'LegalHold' } });
      has('patient.hold', 'denied', { reason: 'request.invalid' });
      has('patient.hold_release', 'success', { patient: ERASED.id, resource: { id: holdId, type: 'LegalHold' } });
      has('patient.hold_release', 'denied', { reason: 'records.hold_released' });
      has('patient.erase', 'denied', { patient: ERASED.id, reason: 'records.legal_hold' });
      has('patient.erase', 'denied', { patient: ERASED.id, reason: 'records.retention' });
      has('patient.erase', 'denied', { patient: ERASED.id, reason: 'records.patient_erased' });
      has('patient.erase', 'success', { patient: ERASED.id });
      has('keys.rewrap', 'success');
      has('keys.rotate', 'success', { details: { provider: 'local', rewrapped: 20, toVersion: 2 } });
      // Everyone at the console is named.
      for (const e of entries.filter((x) => String(x.action).startsWith('patient.') || String(x.action).startsWith('keys.') || x.action === 'record.import')) {
        expect(asObject(e.who).id, String(e.action)).toMatch(/^os:/);
      }
      expectNoCanaries(JSON.stringify(entries), [...bulkPatients, ...bundlePatients], 'the audit log');

      const verify = expectOk(await site.ward(['audit', 'verify']));
      expect(verify).toMatch(/intact/);
      expect(verify).not.toMatch(/NOT intact/);
    }, TIMEOUT);
  });

  describe(`a partial import on ${label}: bad lines and entries are located, good ones kept; --atomic keeps nothing`, () => {
    let site: WardSite;
    let folder = '';
    /** Canaries from real patients put into invalid values: the report must not echo them. */
    const leaked = bulkPatient('a4a401d1-a46a-eb4a-8a38-760d5d79d6ec');
    const hintz = bundlePatients.find((p) => p.id === HINTZ);

    beforeAll(async () => {
      site = await newSite(dialect);
      folder = join(site.root, 'feed');
      mkdirSync(folder);
      const [family = '', given = '', ssn = ''] = [leaked.canaries[0], leaked.canaries[1], leaked.canaries.find((c) => /^\d{3}-\d{2}-\d{4}$/.test(c))];
      writeFileSync(join(folder, 'feed.ndjson'), [
        { resourceType: 'Patient', id: 'imp-good-1', name: [{ family: 'Quillfeather', given: ['Zephyrine'] }], gender: 'female', birthDate: '1970-01-01' },
        '{"resourceType":"Patient","id":"imp-good-2","name":[{"family":"Brackenridge"}]',
        { resourceType: 'Encounter', id: 'enc-good-1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/imp-good-1' }, period: { start: '2019-03-04T10:00:00Z' } },
        { resourceType: 'Patient', id: 'imp-bad-1', gender: family, birthDate: given },
        { resourceType: 'Condition', id: 'cond-bad-1', subject: { reference: 'Patient/imp-good-1' }, onsetDateTime: ssn },
        // A value where a type name belongs: FHIR's rule text quotes it ("Unknown data type: ...").
        { resourceType: 'Patient', id: 'imp-bad-3', contained: [{ resourceType: ssn }] },
      ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
      // A real bundle under a neutral name, one Encounter broken with the patient's own name and SSN.
      const bundle = asObject(JSON.parse(readFileSync(join(BUNDLES, HINTZ_BUNDLE), 'utf8')));
      const entry3 = asObject(asObject(asArray(bundle.entry)[3]).resource);
      expect(entry3.resourceType).toBe('Encounter');
      entry3.period = { start: `${hintz?.canaries.join(' ') ?? ''}` };
      writeFileSync(join(folder, 'bundle.json'), JSON.stringify(bundle));
    }, TIMEOUT);

    const LOCATIONS = [
      /^ {2}bundle\.json#entry\[3\]: records\.invalid_resource: .*Encounter\.period\.start/m,
      /^ {2}feed\.ndjson:2: import\.invalid_json: /m,
      /^ {2}feed\.ndjson:4: records\.invalid_resource: .*Patient\.gender/m,
      /^ {2}feed\.ndjson:5: records\.invalid_resource: .*Condition\.onset/m,
      /^ {2}feed\.ndjson:6: records\.invalid_resource: .*Patient\.contained\[0\]\.resourceType/m,
    ];

    it('--atomic: exit 1, one line on stderr, the problems located in the report, nothing stored (export: not found)', async () => {
      const limited = await site.ward(['import', folder, '--atomic', '--max-problems', '2']);
      expect(expectOneLineFailure(limited)).toBe('ward: import rolled back (--atomic): 5 invalid resource(s), nothing stored');
      const lines = limited.stdout.split('\n').filter((l) => l !== '');
      expect(lines[0]).toBe('stored 0 resource(s) for 0 patient(s); 5 invalid; 14 skipped');
      expect(lines.slice(-3)).toEqual([expect.stringMatching(/^ {2}bundle\.json#entry\[3\]: /), expect.stringMatching(/^ {2}feed\.ndjson:2: /), '  ... 3 more']);

      const r = await site.ward(['import', folder, '--atomic']);
      expect(expectOneLineFailure(r)).toBe('ward: import rolled back (--atomic): 5 invalid resource(s), nothing stored');
      for (const l of LOCATIONS) expect(r.stdout).toMatch(l);
      expectNoCanaries(r.stdout + r.stderr, [leaked, ...bundlePatients], 'the import report');

      for (const table of ['fhir_resource', 'data_key', 'patient_index']) {
        expect(await countWardDb(site.db, `select count(*) as n from ${table}`), table).toBe(0);
      }
      for (const id of ['imp-good-1', HINTZ]) {
        const file = join(site.root, `${id}.json`);
        expect(expectOneLineFailure(await site.ward(['patient', 'export', id, '--out', file]))).toMatch(/\[records\.patient_not_found\]$/);
        expect(existsSync(file)).toBe(false);
      }
      const entries = await auditEntries(site);
      expect(entries.filter((e) => e.action === 'record.import').map((e) => [e.outcome, e.reason])).toEqual([
        ['error', 'records.import_rolled_back'],
        ['error', 'records.import_rolled_back'],
      ]);
    }, TIMEOUT);

    it('without --atomic: exit 3, every problem at its file:line or file#entry[i], no PHI, the good resources kept and exportable', async () => {
      const r = await site.ward(['import', folder]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      // Hintz's bundle: 57 kept less the broken Encounter; the feed: imp-good-1 and its Encounter.
      expect(lines[0]).toBe('stored 58 resource(s) for 2 patient(s); 5 invalid; 14 skipped');
      for (const l of LOCATIONS) expect(r.stdout).toMatch(l);
      expect(lines.filter((l) => l.startsWith('  '))).toHaveLength(5);
      expectNoCanaries(r.stdout + r.stderr, [leaked, ...bundlePatients], 'the import report');
      expect(r.stdout).not.toContain('Quillfeather');

      const mine = join(site.root, 'imp-good-1.json');
      expectOk(await site.ward(['patient', 'export', 'imp-good-1', '--out', mine]));
      expect(readBundle(mine).resources.map((x) => `${String(x.resourceType)}/${String(x.id)}`).sort()).toEqual(['Encounter/enc-good-1', 'Patient/imp-good-1']);
      const his = join(site.root, 'hintz.json');
      expectOk(await site.ward(['patient', 'export', HINTZ, '--out', his]));
      const resources = readBundle(his).resources;
      expect(resources.some((x) => x.resourceType === 'Patient' && x.id === HINTZ)).toBe(true);
      expect(resources.some((x) => x.resourceType === 'Encounter' && x.period !== undefined && JSON.stringify(x.period).includes(hintz?.canaries[0] ?? '?'))).toBe(false);
      for (const id of ['imp-good-2', 'imp-bad-1', 'imp-bad-3']) {
        expect(await countWardDb(site.db, 'select count(*) as n from fhir_resource where resource_id = $1', [id]), id).toBe(0);
      }
      expect(await countWardDb(site.db, "select count(*) as n from fhir_resource where resource_id = 'cond-bad-1'")).toBe(0);
      expectOk(await site.ward(['audit', 'verify']));
    }, TIMEOUT);
  });
}

describe.skipIf(!testDialects().some((d) => d.name === 'sqlite'))('erasure while `ward serve` holds the SQLite database open', () => {
  it('the WAL, which the server keeps alive, is cut too: neither ward.db nor ward.db-wal keeps the wrapped key', async () => {
    const site = await newSite('sqlite');
    const server = await serveWard(site.data);
    try {
      expect(expectOk(await site.ward(['import', join(BUNDLES, HINTZ_BUNDLE)])).split('\n')[0]).toBe('stored 57 resource(s) for 1 patient(s); 0 invalid; 14 skipped');
      const [key] = await queryWardDb<{ wrapped: Buffer }>(site.db, 'select wrapped from data_key where subject = $1', [`patient:${HINTZ}`]);
      const wrapped = Buffer.from(key?.wrapped ?? Buffer.alloc(0));
      expect(wrapped.length).toBe(61);
      const digests = (await queryWardDb<{ digest: string }>(site.db, "select digest from patient_index where patient_id = $1 and kind = 'name-birthdate'", [HINTZ])).map((d) => d.digest);
      const wal = join(site.data, 'ward.db-wal');
      // The control: with the server holding the database, the WAL outlives each command and
      // holds the new data key's page.
      expect(existsSync(wal)).toBe(true);
      expect(readFileSync(wal).includes(wrapped)).toBe(true);

      const resources = await countWardDb(site.db, 'select count(*) as n from fhir_resource where patient_id = $1', [HINTZ]);
      const erased = await site.ward(['patient', 'erase', HINTZ]);
      expect(expectOk(erased)).toMatch(new RegExp(`^erased patient ${HINTZ}: data key destroyed, ${resources} resource`));
      expect(erased.stderr).toBe('');
      const hintz = bundlePatients.find((p) => p.id === HINTZ);
      const needles = [
        { what: 'wrapped data key', bytes: wrapped },
        ...digests.map((d) => ({ what: `name/birth-date digest ${d}`, bytes: Buffer.from(d, 'utf8') })),
        ...(hintz?.canaries ?? []).map((c) => ({ what: `canary ${c}`, bytes: Buffer.from(c, 'utf8') })),
      ];
      const files = ['ward.db', 'ward.db-wal'].map((f) => join(site.data, f)).filter((f) => existsSync(f));
      expect(files).toHaveLength(2);
      const found = files.flatMap((f) => {
        const bytes = readFileSync(f);
        return needles.filter((n) => bytes.includes(n.bytes)).map((n) => `${n.what} in ${f}`);
      });
      expect(found).toEqual([]);
    } finally {
      const stopped = await server.stop();
      expect(stopped.code, server.stderr()).toBe(0);
    }
    expectOk(await site.ward(['audit', 'verify']));
  }, TIMEOUT);
});

// The data must be where the suite expects it (a missing folder must fail, not skip).
describe('the synthetic data the suite reads', () => {
  it('is present', () => {
    expect(bulkPatients).toHaveLength(13);
    expect(bundlePatients).toHaveLength(6);
    expect(bundleFiles).toContain(HINTZ_BUNDLE);
  });
});
