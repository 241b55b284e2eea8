/**
 * Records benchmark (`npm run bench:records`, issue 4 "Measure"). On SQLite (the embedded
 * default: the main figures) and on PostgreSQL when it is reachable (labelled), prints:
 *
 *   1. Import throughput, resources stored per second, of the Synthea bulk sample
 *      (test-data/fhir-r4-synthea-bulk-10-patients) with AES-256-GCM and with an identity
 *      sealer (no encryption; defined here, never in src/), alternating modes, a fresh database
 *      per round; best and median per mode and the encryption cost in % (throughput lost), in
 *      wall-clock time and in this process's CPU time (far less disturbed by other tenants).
 *      Twice: "end to end" (gunzip + NDJSON + Medplum validation + store, what `ward import`
 *      does) and "store only" (the items read and validated once beforehand; only
 *      `RecordImporter.import` over an in-memory iterable is timed), since validation dominates
 *      the end-to-end figure. On PostgreSQL only store only (reading and validating never touch
 *      the database).
 *   2. View read latency: `RecordsService.readPatient` (plan, fetch, decrypt, project, durable
 *      audit append) for one synthetic patient with exactly 1,000 resources (real Synthea
 *      resources cloned with fresh ids, dates spread over the 3 years before the bench clock),
 *      per default view, p50/p99/p999 over WARD_BENCH_ITERATIONS reads after warm-up. Same-run
 *      baselines, interleaved in blocks so noise hits every mode alike: the same read path with
 *      the identity sealer (the ratio is what decryption costs) and the raw SQL fetch alone.
 *      Then where the time goes (SQLite): the steps of readPatient replayed one by one,
 *      interleaved with the real call, p50 of each.
 *   3. Per-field cost of sealField/openField at 64 B, 1 KiB and 8 KiB (a FHIR element, a
 *      resource, a note), ns per op and MB/s, against SHA-256 of the same bytes (same run).
 *
 * Goals (issue 4): encryption costs at most 15% of import throughput; a view read p99 at most
 * 5 ms. Figures and ratios, never pass/fail: the machine is shared and noisy, compare within
 * a run. Last line: one-line summary.
 * Env: WARD_BENCH_ROUNDS (end-to-end import rounds per mode, default 3),
 *      WARD_BENCH_STORE_ROUNDS (store-only import rounds per mode, default 5),
 *      WARD_BENCH_ITERATIONS (AES-GCM reads per view on SQLite, default 500; each baseline gets
 *      a quarter as many), WARD_BENCH_PG_ITERATIONS (AES-GCM reads per view on PostgreSQL,
 *      default 100; baselines half as many: the run stays near 3 minutes),
 *      WARD_BENCH_FIELD_SECONDS (per field operation, size and pass, default 0.1; best of 5
 *      interleaved passes),
 *      WARD_TEST_PG_URL (default the local test server), WARD_BENCH_SKIP_PG=1 (or
 *      WARD_TEST_DIALECTS=sqlite).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { auditEntryOf } from '../src/audit/audit-entry-of.js';
import { createAuditWorld } from '../src/audit/testing/audit-world.js';
import type { AuditWorld } from '../src/audit/testing/audit-world.js';
import { createLocalKeyFile } from '../src/storage/local-key-file.js';
import { LocalKeyProvider } from '../src/storage/keys/local-key-provider.js';
import { aesGcmSealer, openField, sealField } from '../src/storage/envelope-cipher.js';
import type { FieldSealer } from '../src/storage/envelope-cipher.js';
import type { WardSchema } from '../src/storage/schema.js';
import { testDialects } from '../src/storage/testing/test-databases.js';
import type { TestDialect } from '../src/storage/testing/test-databases.js';
import { DATA_VIEW_NAMES } from '../src/policy/data-views.js';
import { buildRecords } from '../src/records/build-records.js';
import type { RecordsServices } from '../src/records/build-records.js';
import type { ReadContext } from '../src/records/records-service.js';
import { cipherBindingOf, collectReferences } from '../src/records/record-store.js';
import type { ReadPlanEntry } from '../src/records/record-store.js';
import type { FhirResource } from '../src/records/fhir-resource.js';
import type { ImportItem } from '../src/records/import/import-item.js';
import { classify, readImportSource } from '../src/records/import/read-import-source.js';
import { parseViews } from '../src/records/views/parse-views.js';
import { applyView, viewPlan } from '../src/records/views/apply-view.js';
import { DEFAULT_VIEWS_TEXT } from '../src/records/testing/records-world.js';

const ROUNDS = Number(process.env.WARD_BENCH_ROUNDS ?? 3);
const STORE_ROUNDS = Number(process.env.WARD_BENCH_STORE_ROUNDS ?? 5);
const ITERATIONS = Number(process.env.WARD_BENCH_ITERATIONS ?? 500);
const PG_ITERATIONS = Number(process.env.WARD_BENCH_PG_ITERATIONS ?? 100);
const FIELD_SECONDS = Number(process.env.WARD_BENCH_FIELD_SECONDS ?? 0.1);
const FIELD_PASSES = 5;
/** The bench clock: view windows are relative to it, and the synthetic dates too. */
const NOW = new Date('2026-12-01T12:00:00.000Z');
const DAY = 86_400_000;
const SPAN_DAYS = 3 * 365;
const BULK = fileURLToPath(new URL('../test-data/fhir-r4-synthea-bulk-10-patients', import.meta.url));
const WHO = { id: 'usr_bench', kind: 'person' } as const;
const started = performance.now();

/** "Encryption off": the bytes copied through unchanged (benchmark only; production is AES-256-GCM). */
const identitySealer: FieldSealer = {
  seal: (_key, plaintext) => Buffer.from(plaintext),
  open: (_key, sealed) => Buffer.from(sealed),
};
const MODES = [
  { name: 'aes-256-gcm', sealer: aesGcmSealer },
  { name: 'identity', sealer: identitySealer },
] as const;

const views = parseViews(DEFAULT_VIEWS_TEXT, { names: DATA_VIEW_NAMES });
const summary: Record<string, string> = {};

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
};
const ms = (v: number): string => fmt(v, 2);

async function* fromMemory(items: readonly ImportItem[]): AsyncGenerator<ImportItem> {
  yield* items;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same patient. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Worlds: a migrated database, a durable AuditLog, a local key file, the records services.

interface World {
  w: AuditWorld;
  services: RecordsServices;
  dispose(): Promise<void>;
}

async function openWorld(dialect: TestDialect, sealer: FieldSealer): Promise<World> {
  const w = await createAuditWorld(dialect);
  w.clock.set(NOW);
  const dir = mkdtempSync(join(tmpdir(), 'ward-bench-records-'));
  const keyFile = join(dir, 'local-kek.json');
  createLocalKeyFile(keyFile, NOW);
  const provider = await LocalKeyProvider.open({ file: keyFile, now: () => NOW });
  const services = buildRecords({ db: w.t.db, audit: w.log, clock: w.clock, provider, views: () => views, settings: { retentionYears: 0 }, sealer });
  return {
    w,
    services,
    async dispose() {
      await provider.close().catch(() => undefined);
      await w.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Import throughput.

/** Per mode: resources/s (wall clock) and µs of this process's CPU per resource, per round. */
interface ImportFigures {
  rates: Record<string, number[]>;
  cpu: Record<string, number[]>;
}

async function importRounds(dialect: TestDialect, rounds: number, expected: number, source: () => AsyncIterable<ImportItem>): Promise<ImportFigures> {
  const f: ImportFigures = { rates: {}, cpu: {} };
  for (const m of MODES) {
    f.rates[m.name] = [];
    f.cpu[m.name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    // Alternate which mode goes first, so drift on the machine does not favour one.
    const order = r % 2 === 0 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      const world = await openWorld(dialect, mode.sealer);
      try {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const report = await world.services.importer.import(source(), { atomic: false, who: WHO });
        const seconds = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        if (report.stored !== expected || report.invalid !== 0) {
          throw new Error(`import stored ${report.stored} of ${expected} (${report.invalid} invalid: ${JSON.stringify(report.problems.slice(0, 3))})`);
        }
        f.rates[mode.name]?.push(report.stored / seconds);
        f.cpu[mode.name]?.push((c.user + c.system) / report.stored);
      } finally {
        await world.dispose();
      }
    }
  }
  return f;
}

const AES = 'aes-256-gcm';
const bestOf = (xs: readonly number[] | undefined): number => Math.max(...(xs ?? [Number.NaN]));
const medianOf = (xs: readonly number[] | undefined): number => median(xs ?? [Number.NaN]);
/** Throughput lost to encryption, in %: 1 - AES rate / identity rate (= extra time / AES time). */
const lossPct = (aesRate: number, plainRate: number): number => (1 - aesRate / plainRate) * 100;

function printImport(label: string, f: ImportFigures, rounds: number, key: string): void {
  const aesBest = bestOf(f.rates[AES]);
  const idBest = bestOf(f.rates.identity);
  const aesMed = medianOf(f.rates[AES]);
  const idMed = medianOf(f.rates.identity);
  const cpuAes = medianOf(f.cpu[AES]);
  const cpuId = medianOf(f.cpu.identity);
  // Same loss measured in CPU time of this process: far less disturbed by the other tenants.
  const cpuLoss = (1 - cpuId / cpuAes) * 100;
  console.log(`  ${label.padEnd(11)} ${fmt(aesBest).padStart(7)} ${fmt(aesMed).padStart(7)}   ${fmt(idBest).padStart(7)} ${fmt(idMed).padStart(7)}   ${fmt(aesBest / idBest, 3).padStart(6)} ${fmt(aesMed / idMed, 3).padStart(6)}   ${fmt(lossPct(aesBest, idBest), 1).padStart(5)}% ${fmt(lossPct(aesMed, idMed), 1).padStart(5)}%  | ${fmt(cpuAes, 1).padStart(6)} ${fmt(cpuId, 1).padStart(6)} ${fmt(cpuLoss, 1).padStart(6)}%   ${rounds}`);
  summary[`${key}_aes_per_s`] = String(Math.round(aesMed));
  summary[`${key}_plain_per_s`] = String(Math.round(idMed));
  summary[`${key}_enc_cost_pct`] = lossPct(aesMed, idMed).toFixed(1);
  summary[`${key}_enc_cost_cpu_pct`] = cpuLoss.toFixed(1);
}

// ---------------------------------------------------------------------------------------------
// 2. The synthetic patient: exactly 1,000 resources in one compartment.

const COUNTS = { Encounter: 200, DocumentReference: 200, Procedure: 250, MedicationRequest: 239, Condition: 100, AllergyIntolerance: 8, Coverage: 2, Patient: 1 } as const;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function subjectOf(r: FhirResource): string | undefined {
  const ref = (isObj(r.subject) ? r.subject : isObj(r.patient) ? r.patient : undefined)?.reference;
  return typeof ref === 'string' ? ref.replace(/^Patient\//, '') : undefined;
}

/** Rewrite every literal reference of a clone: the patient, its encounter, its conditions. */
function rewriteReferences(value: unknown, map: (ref: string) => string): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, map);
    return;
  }
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'reference' && typeof v === 'string') value[k] = map(v);
    else rewriteReferences(v, map);
  }
}

function buildSyntheticPatient(resources: readonly FhirResource[]): { patientId: string; resources: FhirResource[]; source: string } {
  const rand = prng(4);
  const uuid = (): string => {
    const h = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  // The sample patient with the most resources is the template; allergies (it has none) come
  // from whoever has them.
  const perPatient = new Map<string, number>();
  for (const r of resources) {
    const s = subjectOf(r);
    if (s !== undefined) perPatient.set(s, (perPatient.get(s) ?? 0) + 1);
  }
  const source = [...perPatient.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (source === undefined) throw new Error('no patient resources in the sample');
  const templates = (type: string): FhirResource[] => {
    const own = resources.filter((r) => r.resourceType === type && (type === 'Patient' ? r.id === source : subjectOf(r) === source));
    return own.length > 0 ? own : resources.filter((r) => r.resourceType === type && subjectOf(r) !== undefined);
  };
  const organization = resources.find((r) => r.resourceType === 'Organization');
  if (organization?.id === undefined) throw new Error('no Organization in the sample');

  const patientId = uuid();
  const ids = (n: number): string[] => Array.from({ length: n }, uuid);
  const encounterIds = ids(COUNTS.Encounter);
  const conditionIds = ids(COUNTS.Condition);
  // Encounters spread evenly (with jitter) over the SPAN_DAYS before NOW, oldest first.
  const encounterAt = encounterIds.map((_, i) => NOW.getTime() - SPAN_DAYS * DAY + ((i + rand()) * SPAN_DAYS * DAY) / COUNTS.Encounter - DAY);
  const iso = (t: number): string => new Date(t).toISOString();
  const out: FhirResource[] = [];

  const clone = (type: string, i: number, id: string, encounter: number): Obj => {
    const list = templates(type);
    const template = list[i % list.length];
    if (template === undefined) throw new Error(`no ${type} in the sample`);
    const r = structuredClone(template) as Obj;
    r.id = id;
    rewriteReferences(r, (ref) => {
      if (ref.startsWith('Patient/')) return `Patient/${patientId}`;
      if (ref.startsWith('Encounter/')) return `Encounter/${encounterIds[encounter] ?? ''}`;
      if (ref.startsWith('Condition/')) return `Condition/${conditionIds[Math.floor(rand() * conditionIds.length)] ?? ''}`;
      return ref;
    });
    return r;
  };
  const pickEncounter = (): { e: number; t: number } => {
    const e = Math.floor(rand() * COUNTS.Encounter);
    return { e, t: (encounterAt[e] ?? 0) + Math.floor(rand() * 45) * 60_000 };
  };

  const patient = structuredClone(templates('Patient')[0]) as Obj | undefined;
  if (patient === undefined) throw new Error('no Patient template');
  patient.id = patientId;
  delete patient.deceasedDateTime;
  delete patient.deceasedBoolean;
  out.push(patient as FhirResource);

  encounterIds.forEach((id, i) => {
    const t = encounterAt[i] ?? 0;
    const r = clone('Encounter', i, id, i);
    const period = { start: iso(t), end: iso(t + 30 * 60_000) };
    r.period = period;
    if (Array.isArray(r.participant)) for (const p of r.participant) if (isObj(p)) p.period = period;
    out.push(r as FhirResource);
  });
  ids(COUNTS.DocumentReference).forEach((id, i) => {
    // One note per encounter, as Synthea writes them.
    const t = (encounterAt[i] ?? 0) + 35 * 60_000;
    const r = clone('DocumentReference', i, id, i);
    r.date = iso(t);
    if (isObj(r.context)) r.context.period = { start: iso(t - 35 * 60_000), end: iso(t - 5 * 60_000) };
    out.push(r as FhirResource);
  });
  conditionIds.forEach((id, i) => {
    const { e, t } = pickEncounter();
    const r = clone('Condition', i, id, e);
    if ('onsetDateTime' in r) r.onsetDateTime = iso(t);
    r.recordedDate = iso(t);
    if ('abatementDateTime' in r) r.abatementDateTime = iso(Math.min(t + 14 * DAY, NOW.getTime() - DAY));
    out.push(r as FhirResource);
  });
  ids(COUNTS.Procedure).forEach((id, i) => {
    const { e, t } = pickEncounter();
    const r = clone('Procedure', i, id, e);
    if ('performedDateTime' in r) r.performedDateTime = iso(t);
    else r.performedPeriod = { start: iso(t), end: iso(t + 15 * 60_000) };
    out.push(r as FhirResource);
  });
  ids(COUNTS.MedicationRequest).forEach((id, i) => {
    const { e, t } = pickEncounter();
    const r = clone('MedicationRequest', i, id, e);
    r.authoredOn = iso(t);
    out.push(r as FhirResource);
  });
  ids(COUNTS.AllergyIntolerance).forEach((id, i) => {
    const { e, t } = pickEncounter();
    const r = clone('AllergyIntolerance', i, id, e);
    r.recordedDate = iso(t);
    if ('onsetDateTime' in r) r.onsetDateTime = iso(t);
    out.push(r as FhirResource);
  });
  ids(COUNTS.Coverage).forEach((id, i) => {
    // Synthea's bulk sample has no Coverage: a plain commercial plan, the older one ended.
    const start = NOW.getTime() - (i === 0 ? SPAN_DAYS : 365) * DAY;
    out.push({
      resourceType: 'Coverage',
      id,
      status: i === 0 ? 'cancelled' : 'active',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIP', display: 'health insurance plan policy' }] },
      subscriberId: `W${String(100_000_000 + Math.floor(rand() * 899_999_999))}`,
      beneficiary: { reference: `Patient/${patientId}` },
      relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
      period: i === 0 ? { start: iso(start), end: iso(NOW.getTime() - 365 * DAY - DAY) } : { start: iso(start) },
      payor: [{ reference: `Organization/${organization.id}` }],
      class: [
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: `G${1000 + i}`, name: 'Employer group' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: `P${2000 + i}`, name: 'PPO' },
      ],
      order: 1,
    });
  });
  const total = Object.values(COUNTS).reduce((a, b) => a + b, 0);
  if (out.length !== 1000 || total !== 1000) throw new Error(`synthetic patient has ${out.length} resources, not 1,000`);
  return { patientId, resources: out, source };
}

// ---------------------------------------------------------------------------------------------
// 2. View reads.

function readContext(view: string): ReadContext {
  return {
    who: WHO,
    permit: { effect: 'permit', policyVersion: 'bench', ruleId: 'bench', obligations: { view, deidentify: false, humanReview: false } },
    auditFields: { purpose: 'TREAT' },
  };
}

/** The query RecordStore.readOwn runs for a plan (copied): rows only, nothing decrypted or parsed. */
async function fetchRows(db: Kysely<WardSchema>, patientId: string, plan: readonly ReadPlanEntry[]): Promise<number> {
  const rows = await db
    .selectFrom('fhir_resource')
    .select(['resource_type', 'resource_id', 'key_subject', 'key_version', 'body'])
    .where('patient_id', '=', patientId)
    .where((eb) => eb.or(plan.map((p) => {
      const conditions = [eb('resource_type', '=', p.type)];
      if (p.fromYear !== undefined) conditions.push(eb('activity_year', '>=', p.fromYear));
      if (p.toYear !== undefined) conditions.push(eb('activity_year', '<=', p.toYear));
      return eb.and(conditions);
    })))
    .orderBy('resource_type').orderBy('resource_id')
    .execute();
  return rows.length;
}

async function timed(fn: () => Promise<unknown>, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
}

interface ViewFigures {
  view: string;
  resources: number;
  elements: number;
  rows: number;
  aes: number[];
  plain: number[];
  sql: number[];
}

async function readViews(aes: World, plain: World, patientId: string, label: string, iterations: number, baselineIterations: number): Promise<ViewFigures[]> {
  const results: ViewFigures[] = [];
  const blocks = 10;
  const per = Math.max(1, Math.ceil(iterations / blocks));
  const perBase = Math.max(1, Math.ceil(baselineIterations / blocks));
  // Every view a few times in each world first, so the first view measured is not the JIT's warm-up.
  for (let i = 0; i < 3; i++) {
    for (const view of views.views.keys()) {
      for (const w of [aes, plain]) await w.services.records.readPatient(patientId, readContext(view));
    }
  }
  for (const [view, dataView] of views.views) {
    const rc = readContext(view);
    const plan = viewPlan(dataView, NOW);
    const first = await aes.services.records.readPatient(patientId, rc);
    const check = await plain.services.records.readPatient(patientId, rc);
    if (first.resources.length !== check.resources.length || first.disclosed.join() !== check.disclosed.join()) {
      throw new Error(`${view}: the identity-sealer world returned other data (${check.resources.length} vs ${first.resources.length} resources)`);
    }
    const rows = await fetchRows(aes.w.t.db, patientId, plan);
    const f: ViewFigures = { view, resources: first.resources.length, elements: first.disclosed.length, rows, aes: [], plain: [], sql: [] };
    const warm = 10;
    await timed(() => aes.services.records.readPatient(patientId, rc), warm, []);
    await timed(() => plain.services.records.readPatient(patientId, rc), warm, []);
    await timed(() => fetchRows(aes.w.t.db, patientId, plan), warm, []);
    // Interleaved blocks: a noisy second on the shared machine lands on every mode alike.
    for (let b = 0; b < blocks; b++) {
      await timed(() => aes.services.records.readPatient(patientId, rc), per, f.aes);
      await timed(() => plain.services.records.readPatient(patientId, rc), perBase, f.plain);
      await timed(() => fetchRows(aes.w.t.db, patientId, plan), perBase, f.sql);
    }
    for (const xs of [f.aes, f.plain, f.sql]) xs.sort((a, b) => a - b);
    results.push(f);
  }
  console.log(`\nview reads, ${label}: readPatient of the 1,000-resource patient, per view ${fmt(per * blocks)} AES-GCM reads, ${fmt(perBase * blocks)} of each baseline, interleaved (ms; below 1,000 reads p999 is the max)`);
  console.log('  (res: resources returned, shared ones included; elems: elements disclosed; rows: rows the plan fetches)');
  console.log('  view          res  elems  rows |  AES-GCM p50    p99   p999 | identity p50    p99   p999 | AES/identity p50   p99 | SQL fetch p50   p99');
  for (const f of results) {
    console.log(
      `  ${f.view.padEnd(12)} ${String(f.resources).padStart(4)} ${String(f.elements).padStart(6)} ${String(f.rows).padStart(5)} | ${ms(pct(f.aes, 50)).padStart(12)} ${ms(pct(f.aes, 99)).padStart(6)} ${ms(pct(f.aes, 99.9)).padStart(6)} | ${ms(pct(f.plain, 50)).padStart(12)} ${ms(pct(f.plain, 99)).padStart(6)} ${ms(pct(f.plain, 99.9)).padStart(6)} | ${fmt(pct(f.aes, 50) / pct(f.plain, 50), 2).padStart(16)} ${fmt(pct(f.aes, 99) / pct(f.plain, 99), 2).padStart(5)} | ${ms(pct(f.sql, 50)).padStart(13)} ${ms(pct(f.sql, 99)).padStart(5)}`,
    );
  }
  return results;
}

/**
 * What a read is made of, on the AES world: the steps of `RecordsService.readPatient` replayed
 * one by one (a copy of its orchestration: state check, own rows, view, shared resources the
 * shown ones reference, audit append), each timed, interleaved with the real call so both see
 * the same machine. p50 of each step; the steps' total should match readPatient.
 */
async function breakdown(world: World, patientId: string, label: string, perView: boolean): Promise<void> {
  const n = 40;
  const { store, records } = world.services;
  const p50 = (xs: number[]): number => pct(xs.sort((a, b) => a - b), 50);
  const lap = async (fn: () => Promise<unknown>, into: number[]): Promise<void> => {
    const t0 = performance.now();
    await fn();
    into.push(performance.now() - t0);
  };
  const append = (view: string, disclosed: string[], resources: number): Promise<unknown> =>
    world.w.log.append(auditEntryOf(WHO, 'patient.read', 'success', { purpose: 'TREAT', patient: patientId, resource: { type: 'Patient', id: patientId }, view, disclosed, details: { resources, views: views.version } }));
  const appendAlone: number[] = [];
  const stateAlone: number[] = [];
  for (let i = 0; i < n; i++) {
    await lap(() => append('audit', ['Patient.id'], 1), appendAlone);
    await lap(() => store.state(patientId), stateAlone);
  }
  console.log(`
where a read's time goes, ${label} (AES-GCM world; p50 ms over ${n} runs of each step, interleaved):`);
  console.log(`  every view: patient state check ${ms(p50(stateAlone))}, durable audit append of one entry ${ms(p50(appendAlone))}`);
  if (!perView) return;
  console.log('  view          state  SQL fetch  decrypt+parse  applyView  shared refs  audit append   steps total  readPatient');
  for (const [name, view] of views.views) {
    const t = { state: [] as number[], fetch: [] as number[], own: [] as number[], apply: [] as number[], shared: [] as number[], append: [] as number[], total: [] as number[], whole: [] as number[] };
    const plan = viewPlan(view, NOW);
    for (let i = 0; i < n + 5; i++) {
      const whole: number[] = [];
      await lap(() => records.readPatient(patientId, readContext(name)), whole);
      const steps = { state: [] as number[], fetch: [] as number[], own: [] as number[], apply: [] as number[], shared: [] as number[], append: [] as number[] };
      await lap(() => store.state(patientId), steps.state);
      await lap(() => fetchRows(world.w.t.db, patientId, plan), steps.fetch);
      let rows: FhirResource[] = [];
      await lap(async () => { rows = await store.readOwn(patientId, plan); }, steps.own);
      let own: ReturnType<typeof applyView> = { resources: [], disclosed: [] };
      await lap(async () => { own = applyView(view, rows, NOW); }, steps.apply);
      let disclosed = own.disclosed;
      let shown = own.resources.length;
      await lap(async () => {
        const types = new Set<string>(plan.map((p) => p.type));
        const wanted = new Map<string, Set<string>>();
        collectReferences(own.resources, (type, id) => {
          if (!types.has(type) || type === 'Patient') return;
          let ids = wanted.get(type);
          if (ids === undefined) wanted.set(type, (ids = new Set()));
          ids.add(id);
        });
        if (wanted.size === 0) return;
        const shared = applyView(view, await store.readShared(wanted), NOW);
        disclosed = [...new Set([...own.disclosed, ...shared.disclosed])].sort();
        shown += shared.resources.length;
      }, steps.shared);
      await lap(() => append(name, disclosed, shown), steps.append);
      if (i < 5) continue; // warm-up
      t.whole.push(whole[0] ?? Number.NaN);
      let total = 0;
      for (const k of ['state', 'fetch', 'own', 'apply', 'shared', 'append'] as const) {
        const v = steps[k][0] ?? Number.NaN;
        t[k].push(v);
        if (k !== 'fetch') total += v;
      }
      t.total.push(total);
    }
    const fetch = p50(t.fetch);
    console.log(`  ${name.padEnd(12)} ${ms(p50(t.state)).padStart(6)} ${ms(fetch).padStart(10)} ${ms(p50(t.own) - fetch).padStart(14)} ${ms(p50(t.apply)).padStart(10)} ${ms(p50(t.shared)).padStart(12)} ${ms(p50(t.append)).padStart(13)} ${ms(p50(t.total)).padStart(13)} ${ms(p50(t.whole)).padStart(12)}`);
  }
  console.log('  (decrypt+parse = readOwn - the same SQL fetch alone; shared refs = collect the references of the shown resources,');
  console.log('   fetch, decrypt and project the shared ones; steps total excludes the separate SQL fetch)');
}

// ---------------------------------------------------------------------------------------------
// 3. Per-field cost.

/** ns per call of `op`, run for FIELD_SECONDS. */
function nsPerOp(op: () => void): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(FIELD_SECONDS * 1e9));
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 64; i++) op();
    n += 64;
    now = process.hrtime.bigint();
  }
  return Number(now - t0) / n;
}

function fieldCosts(): void {
  const key = randomBytes(32);
  const binding = cipherBindingOf('DocumentReference', '3f1c9a2e-7b4d-4e8a-9c1f-0a2b3c4d5e6f', 'patient:7bc002fa-dc52-17d6-1563-fd8901826f7d', 1);
  let sink = 0;
  const cells = ([[64, '64b'], [1024, '1k'], [8192, '8k']] as const).map(([size, tag]) => {
    const plaintext = randomBytes(size);
    const sealed = sealField(key, plaintext, binding);
    if (!openField(key, sealed, binding).equals(plaintext)) throw new Error('round trip failed');
    return { size, tag, plaintext, sealed, seal: Number.POSITIVE_INFINITY, open: Number.POSITIVE_INFINITY, sha: Number.POSITIVE_INFINITY };
  });
  // Interleaved passes, best of each: a burst of load from the other tenants hits one pass of
  // one cell, not every pass of it.
  for (let pass = 0; pass < FIELD_PASSES; pass++) {
    for (const c of cells) {
      c.seal = Math.min(c.seal, nsPerOp(() => { sink += sealField(key, c.plaintext, binding).length; }));
      c.open = Math.min(c.open, nsPerOp(() => { sink += openField(key, c.sealed, binding).length; }));
      c.sha = Math.min(c.sha, nsPerOp(() => { sink += createHash('sha256').update(c.plaintext).digest().length; }));
    }
  }
  console.log(`\nper-field encryption (AES-256-GCM, fresh nonce, associated data of the binding; best of ${FIELD_PASSES} interleaved passes of ${FIELD_SECONDS} s per cell):`);
  console.log('  size       seal ns    MB/s    open ns    MB/s   SHA-256 ns    MB/s   seal/SHA  open/SHA');
  for (const { size, tag, seal, open, sha } of cells) {
    const mbs = (ns: number): string => fmt((size / ns) * 1e3, 0);
    console.log(`  ${`${fmt(size)} B`.padEnd(8)} ${fmt(seal).padStart(9)} ${mbs(seal).padStart(7)} ${fmt(open).padStart(10)} ${mbs(open).padStart(7)} ${fmt(sha).padStart(12)} ${mbs(sha).padStart(7)} ${fmt(seal / sha, 2).padStart(9)} ${fmt(open / sha, 2).padStart(9)}`);
    summary[`seal_${tag}_ns`] = String(Math.round(seal));
    summary[`open_${tag}_ns`] = String(Math.round(open));
    summary[`seal_vs_sha_${tag}`] = (seal / sha).toFixed(2);
  }
  if (sink < 0) console.log(sink);
}

// ---------------------------------------------------------------------------------------------

const [load1, load5, load15] = loadavg();
console.log(`node ${process.version}, ${availableParallelism()} cpus (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${fmt(load1 ?? 0, 2)} ${fmt(load5 ?? 0, 2)} ${fmt(load15 ?? 0, 2)}`);
console.log(`bench clock ${NOW.toISOString()}; import rounds per mode ${ROUNDS} end to end, ${STORE_ROUNDS} store only; reads per view ${fmt(ITERATIONS)} (PostgreSQL ${fmt(PG_ITERATIONS)})`);

// Read and validate the bulk sample once: warms Medplum's definitions and the JIT, and gives
// the in-memory items for the store-only figures.
const preRead0 = performance.now();
const bulkItems: ImportItem[] = [];
for await (const item of readImportSource(BULK)) bulkItems.push(item);
const bulkResources = bulkItems.flatMap((i) => (i.kind === 'resource' ? [i.resource] : []));
const expected = bulkResources.length;
const invalid = bulkItems.filter((i) => i.kind === 'invalid').length;
const bulkBytes = bulkResources.reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r)), 0);
console.log(`Synthea bulk sample: ${fmt(bulkItems.length)} resources read, ${fmt(expected)} kept (${fmt(bulkBytes / 1e6, 1)} MB of JSON), ${fmt(bulkItems.length - expected - invalid)} skipped (types Ward does not keep), ${invalid} invalid; first read + validation ${fmt((performance.now() - preRead0) / 1000, 1)} s (cold)`);

const synthetic = buildSyntheticPatient(bulkResources);
const syntheticItems = synthetic.resources.map((r, i) => classify(r, `synthetic#${i}`));
const badSynthetic = syntheticItems.flatMap((i) => (i.kind === 'resource' ? [] : [`${i.location}: ${i.kind === 'invalid' ? i.problems.join('; ') : 'skipped'}`]));
if (badSynthetic.length > 0) throw new Error(`synthetic patient does not validate:\n${badSynthetic.slice(0, 10).join('\n')}`);
{
  const bytes = synthetic.resources.reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r)), 0);
  const types = Object.entries(COUNTS).map(([t, n]) => `${t} ${n}`).join(', ');
  console.log(`synthetic patient: 1,000 resources (${types}), ${fmt(bytes / 1024)} KiB of JSON, cloned from sample patient ${synthetic.source.slice(0, 8)}..., dates over the ${SPAN_DAYS} days before the bench clock`);
}

fieldCosts();

const dialects: TestDialect[] = [];
const sqlite = testDialects().find((d) => d.name === 'sqlite');
if (sqlite !== undefined) dialects.push(sqlite);
const postgres = testDialects().find((d) => d.name === 'postgres');
if (postgres !== undefined && process.env.WARD_BENCH_SKIP_PG !== '1') {
  try {
    const probe = await postgres.create({ migrate: false });
    await probe.dispose();
    dialects.push(postgres);
  } catch (e) {
    console.log(`\npostgresql: not reachable (${e instanceof Error ? e.message : String(e)}); its figures are skipped`);
  }
}

for (const dialect of dialects) {
  const label = dialect.name === 'sqlite' ? 'SQLite (embedded default)' : 'PostgreSQL';
  const tag = dialect.name === 'sqlite' ? '' : 'pg_';
  const sectionStart = performance.now();
  console.log(`\n=== ${label} ===`);
  console.log(`import of the bulk sample (${fmt(expected)} resources stored per round, a fresh database each round, modes alternating):`);
  console.log('              resources/s (wall clock)                                                  | CPU µs per resource, this process');
  console.log('              AES-GCM best median  identity best median  AES/identity best median  enc cost best median  | AES-GCM identity enc cost   rounds');
  // End to end differs from store only by reading and validating, which never touch the
  // database: on PostgreSQL only the store-only figures are taken (the run stays near 3 minutes).
  const e2e = dialect.name === 'sqlite' ? await importRounds(dialect, ROUNDS, expected, () => readImportSource(BULK)) : undefined;
  if (e2e !== undefined) printImport('end to end', e2e, ROUNDS, `${tag}import_e2e`);
  else console.log('  end to end  (not repeated here: reading and validation do not touch the database; see SQLite)');
  const storeOnly = await importRounds(dialect, STORE_ROUNDS, expected, () => fromMemory(bulkItems));
  printImport('store only', storeOnly, STORE_ROUNDS, `${tag}import_store`);
  {
    // What encryption adds per resource, from the store-only rounds (short, so many), set
    // against the whole end-to-end import: a few percent of rounds that take seconds each is
    // below the wall-clock noise of this machine, so the direct end-to-end ratio wobbles.
    const us = (perS: number): number => 1e6 / perS;
    const encWall = us(medianOf(storeOnly.rates[AES])) - us(medianOf(storeOnly.rates.identity));
    const encCpu = medianOf(storeOnly.cpu[AES]) - medianOf(storeOnly.cpu.identity);
    const line = [`  encryption adds ${fmt(encCpu, 1)} µs CPU (${fmt(encWall, 1)} µs wall) per resource (store-only medians)`];
    summary[`${tag}import_enc_cpu_us_per_resource`] = encCpu.toFixed(1);
    if (e2e !== undefined) {
      const e2eWall = us(medianOf(e2e.rates[AES]));
      const e2eCpu = medianOf(e2e.cpu[AES]);
      line.push(`: ${fmt((encCpu / e2eCpu) * 100, 1)}% of the ${fmt(e2eCpu, 0)} µs CPU and ${fmt((encWall / e2eWall) * 100, 1)}% of the ${fmt(e2eWall, 0)} µs wall an end-to-end import takes per resource`);
      summary[`${tag}import_e2e_enc_share_cpu_pct`] = ((encCpu / e2eCpu) * 100).toFixed(1);
    }
    console.log(line.join(''));
  }
  console.log(`  (${label} imports took ${fmt((performance.now() - sectionStart) / 1000, 0)} s)`);
  const worlds: World[] = [];
  try {
    for (const mode of MODES) {
      const world = await openWorld(dialect, mode.sealer);
      worlds.push(world);
      const bulk = await world.services.importer.import(fromMemory(bulkItems), { atomic: false, who: WHO });
      const own = await world.services.importer.import(fromMemory(syntheticItems), { atomic: false, who: WHO });
      const held = await world.services.store.summary(synthetic.patientId);
      if (bulk.stored !== expected || own.stored !== 1000 || held.resources !== 1000) throw new Error(`read world: ${own.stored} stored, ${held.resources} held`);
    }
    const [aes, plain] = worlds;
    if (aes === undefined || plain === undefined) throw new Error('worlds');
    const sqliteRun = dialect.name === 'sqlite';
    const figures = await readViews(aes, plain, synthetic.patientId, label, sqliteRun ? ITERATIONS : PG_ITERATIONS, sqliteRun ? Math.ceil(ITERATIONS / 4) : Math.ceil(PG_ITERATIONS / 2));
    await breakdown(aes, synthetic.patientId, label, sqliteRun);
    const worst = figures.reduce((a, b) => (pct(b.aes, 99) > pct(a.aes, 99) ? b : a));
    for (const f of figures) {
      summary[`${tag}read_${f.view}_p99_ms`] = pct(f.aes, 99).toFixed(2);
      if (f.view === 'clinical') {
        summary[`${tag}read_clinical_p50_ms`] = pct(f.aes, 50).toFixed(2);
        summary[`${tag}read_clinical_aes_vs_identity_p50`] = (pct(f.aes, 50) / pct(f.plain, 50)).toFixed(2);
      }
    }
    const within = figures.filter((f) => pct(f.aes, 99) <= 5).map((f) => f.view);
    console.log(`\ngoal: view read p99 <= 5 ms (${label}): ${within.length} of ${figures.length} views within (${within.join(', ') || 'none'}); worst ${worst.view} p99 ${ms(pct(worst.aes, 99))} ms (${fmt((pct(worst.aes, 99) / 5) * 100, 0)}% of the goal)`);
    summary[`${tag}read_views_within_5ms`] = `${within.length}/${figures.length}`;
    console.log(`  (${label} section took ${fmt((performance.now() - sectionStart) / 1000, 0)} s)`);
  } finally {
    for (const w of worlds) await w.dispose();
  }
}

const [l1, l5, l15] = loadavg();
console.log(`\nload average at the end ${fmt(l1 ?? 0, 2)} ${fmt(l5 ?? 0, 2)} ${fmt(l15 ?? 0, 2)}; total ${fmt((performance.now() - started) / 1000, 0)} s`);
console.log(`\nrecords: ${Object.entries(summary).map(([k, v]) => `${k}=${v}`).join(' ')}`);
