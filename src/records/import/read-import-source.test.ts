import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardError } from '../../shared/ward-error.js';
import type { FhirResource } from '../fhir-resource.js';
import { PATIENT_COMPARTMENT_RULES, patientOf } from '../patient-compartment.js';
import type { ImportItem } from './import-item.js';
import { readImportSource } from './read-import-source.js';
import { SYNTHEA_BULK, SYNTHEA_BUNDLES } from '../testing/synthea-data.js';
import type { ReadImportOptions } from './read-import-source.js';

const BULK = SYNTHEA_BULK;
const BUNDLES = SYNTHEA_BUNDLES;

/** Stands for PHI in bad fields: must never reach a problem. */
const CANARY = 'Qx7Canary';

async function read(path: string, options: ReadImportOptions = {}): Promise<{ items: ImportItem[]; progress: Array<[number, number]> }> {
  const items: ImportItem[] = [];
  const progress: Array<[number, number]> = [];
  for await (const item of readImportSource(path, { ...options, onProgress: (done, total) => progress.push([done, total]) })) items.push(item);
  return { items, progress };
}

function resourcesOf(items: ImportItem[]): FhirResource[] {
  return items.flatMap((i) => (i.kind === 'resource' ? [i.resource] : []));
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

function expectProgressToCover(progress: Array<[number, number]>, total: number): void {
  expect(progress[0]).toEqual([0, total]);
  expect(progress.at(-1)).toEqual([total, total]);
  for (let i = 1; i < progress.length; i++) expect(progress[i]?.[0]).toBeGreaterThanOrEqual(progress[i - 1]?.[0] ?? 0);
}

/** Every resource in the patient compartment names a Patient of the same data set. */
function expectAttachedToKnownPatients(resources: FhirResource[]): void {
  const patients = new Set(resources.filter((r) => r.resourceType === 'Patient').map((r) => r.id));
  for (const r of resources) {
    const owner = patientOf(r);
    const rule = PATIENT_COMPARTMENT_RULES[r.resourceType as keyof typeof PATIENT_COMPARTMENT_RULES];
    if (rule === 'shared') {
      expect(owner).toEqual({ kind: 'shared' });
      continue;
    }
    expect(owner.kind, `${r.resourceType}/${r.id ?? ''}`).toBe('patient');
    if (owner.kind === 'patient') expect(patients.has(owner.patientId), `${r.resourceType}/${r.id ?? ''}`).toBe(true);
  }
}

describe('readImportSource on the Synthea bulk export (NDJSON, gzip)', () => {
  let result: Awaited<ReturnType<typeof read>>;
  beforeAll(async () => {
    const started = performance.now();
    result = await read(BULK);
    const seconds = (performance.now() - started) / 1000;
    const n = result.items.length;
    console.log(`read+validate ${n} items of the bulk folder in ${seconds.toFixed(2)} s: ${Math.round(n / seconds)} resources/s (definitions load included)`);
  });

  it('reads every resource the README counts, skips the types Ward does not keep, finds nothing invalid', () => {
    const { items } = result;
    expect(items.filter((i) => i.kind === 'invalid')).toEqual([]);
    expect(countBy(resourcesOf(items), (r) => r.resourceType)).toEqual({
      Patient: 13, Encounter: 1215, Condition: 555, Procedure: 2056, MedicationRequest: 1745, DocumentReference: 1215,
      AllergyIntolerance: 11, Organization: 43, Location: 44, Practitioner: 43, PractitionerRole: 43,
    });
    expect(countBy(items.filter((i) => i.kind === 'skipped'), (i) => (i.kind === 'skipped' ? i.resourceType : ''))).toEqual({ Device: 16, Immunization: 161 });
    expect(items[0]?.location).toBe('AllergyIntolerance.000.ndjson.gz:1');
    expect(items.some((i) => i.location === 'Procedure.000.ndjson.gz:2056')).toBe(true);
    // log.ndjson.gz is the bulk client's export log, not FHIR: ignored.
    expect(items.some((i) => i.location.startsWith('log.'))).toBe(false);
  });

  it('attaches every patient-compartment resource to a Patient of the export', () => {
    expectAttachedToKnownPatients(resourcesOf(result.items));
  });

  it('reports progress in compressed bytes of the data files', async () => {
    const names = (await readdir(BULK)).filter((n) => n.endsWith('.ndjson.gz') && n !== 'log.ndjson.gz');
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(BULK, n))).size));
    expectProgressToCover(result.progress, sizes.reduce((a, b) => a + b, 0));
  });
});

describe('readImportSource on the Synthea transaction Bundles', () => {
  let items: ImportItem[];
  beforeAll(async () => {
    ({ items } = await read(BUNDLES));
  });

  const fileOf = (i: ImportItem) => i.location.split('#')[0] ?? '';

  it('reads each Bundle entry as the README counts it, skipping types Ward does not keep', () => {
    expect(items.filter((i) => i.kind === 'invalid')).toEqual([]);
    const perFile = (prefix: string) => countBy(resourcesOf(items.filter((i) => fileOf(i).startsWith(prefix))), (r) => r.resourceType);
    const skippedIn = (prefix: string) => countBy(items.filter((i) => i.kind === 'skipped' && fileOf(i).startsWith(prefix)), (i) => (i.kind === 'skipped' ? i.resourceType : ''));
    expect(perFile('ms-Carolee951')).toMatchObject({ Patient: 1, Encounter: 14, Condition: 6, DocumentReference: 14, Claim: 17, Observation: 54, Procedure: 4, MedicationRequest: 3 });
    expect(skippedIn('ms-Carolee951')).toMatchObject({ ExplanationOfBenefit: 14, CarePlan: 3, Provenance: 1 });
    expect(perFile('ms-Luisa710')).toMatchObject({ Patient: 1, Encounter: 14, Condition: 5, DocumentReference: 14, Claim: 14, Observation: 88, Procedure: 1 });
    expect(perFile('ms-Lynwood354')).toMatchObject({ Patient: 1, Encounter: 15, Condition: 5, DocumentReference: 15, Claim: 17, Observation: 94, Procedure: 5, MedicationRequest: 2 });
    expect(perFile('ms-hospitalInformation')).toEqual({ Organization: 19, Location: 19 });
    expect(perFile('ms-practitionerInformation')).toEqual({ Practitioner: 19, PractitionerRole: 19 });
    expect(perFile('smart-Clemente')).toMatchObject({ Patient: 1, Encounter: 3, Observation: 48, Claim: 3, Condition: 1, Procedure: 1 });
    expect(perFile('smart-Buster')).toMatchObject({ Patient: 1, Encounter: 6, Condition: 3, Claim: 7, Observation: 33, Procedure: 1, MedicationRequest: 1 });
    expect(perFile('smart-Ned')).toMatchObject({ Patient: 1, Encounter: 6, Condition: 3, Claim: 8, Observation: 35, MedicationRequest: 2 });
    expect(items[0]?.location).toMatch(/^ms-Carolee951_Sanford861_[0-9a-f-]+\.json#entry\[0\]$/);
  });

  it('rewrites every urn:uuid reference to <Type>/<id> and attaches each resource to its Bundle\'s patient', () => {
    const all = resourcesOf(items);
    for (const r of all) expect(JSON.stringify(r)).not.toMatch(/"reference":"urn:/);
    for (const file of new Set(items.map(fileOf))) {
      if (file.includes('Information')) continue;
      const own = resourcesOf(items.filter((i) => fileOf(i) === file));
      expect(own.filter((r) => r.resourceType === 'Patient')).toHaveLength(1);
      expectAttachedToKnownPatients(own);
    }
    const patient = all.find((r) => r.resourceType === 'Patient');
    const encounter = all.find((r) => r.resourceType === 'Encounter');
    expect(encounter?.subject).toMatchObject({ reference: `Patient/${patient?.id ?? ''}` });
  });

  it('resolves the provider directory across its two files (Synthea urn:uuid references between Bundles)', () => {
    const byFile = (part: string) => resourcesOf(items.filter((i) => fileOf(i).includes(part)));
    const organizations = new Set(byFile('hospitalInformation').filter((r) => r.resourceType === 'Organization').map((r) => `Organization/${r.id ?? ''}`));
    const roles = byFile('practitionerInformation').filter((r) => r.resourceType === 'PractitionerRole');
    expect(roles).toHaveLength(19);
    for (const role of roles) expect(organizations.has((role.organization as { reference: string }).reference)).toBe(true);
  });
});

describe('readImportSource on broken input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ward-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const patient = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: 'Reyes', given: ['Margaret'] }], birthDate: '1931-04-17' });
  const encounter = { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } };

  it('reports bad lines, entries and files where they are and keeps the good ones', async () => {
    const src = join(dir, 'mixed');
    await mkdir(join(src, 'nested'), { recursive: true });
    const ndjson = [
      JSON.stringify(patient('p1')),
      `{"resourceType":"Patient","id":"p2","name":[{"family":"${CANARY}"`,
      '',
      '   ',
      JSON.stringify([patient('p3')]),
      JSON.stringify({ hello: CANARY }),
      JSON.stringify({ resourceType: `${CANARY}Type`, id: 'x' }),
      JSON.stringify({ ...patient('p4'), gender: CANARY, birthDate: `${CANARY}-01-01`, telecom: [{ system: 'phone', value: 5 }] }),
      JSON.stringify({ resourceType: 'Immunization', id: 'i1', patient: { reference: `Patient/${CANARY}` } }),
      JSON.stringify(encounter),
    ].join('\r\n');
    await writeFile(join(src, 'a.ndjson'), `${ndjson}\r\n`);
    await writeFile(join(src, 'b.json'), JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01', resource: { resourceType: 'Patient', name: [{ family: CANARY }] }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:6a1f1e52-2b48-4c8b-8e0b-9a6f9d1c3b02', resource: { ...encounter, id: undefined, subject: { reference: 'urn:uuid:0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01' } }, request: { method: 'POST', url: 'Encounter' } },
        { request: { method: 'DELETE', url: `Patient/${CANARY}` } },
        { resource: { resourceType: 'Patient', name: [{ family: CANARY }] }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:7a1f1e52-2b48-4c8b-8e0b-9a6f9d1c3b03', resource: { ...encounter, id: undefined, status: CANARY, subject: { reference: 'urn:uuid:0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01' } }, request: { method: 'PUT', url: 'Encounter/x' } },
        { fullUrl: 'urn:uuid:8a1f1e52-2b48-4c8b-8e0b-9a6f9d1c3b04', resource: { resourceType: 'ExplanationOfBenefit', status: 'active' }, request: { method: 'POST', url: 'ExplanationOfBenefit' } },
      ],
    }));
    await writeFile(join(src, 'c.json'), `{"resourceType": "Patient", "name": "${CANARY}"`);
    await writeFile(join(src, 'd.json.gz'), gzipSync(JSON.stringify(patient('p5'))));
    // A gzip stream cut short: the lines before the cut are kept, then the file is reported.
    const gz = gzipSync([patient('p6'), patient('p7')].map((p) => JSON.stringify(p)).join('\n'));
    await writeFile(join(src, 'e.ndjson.gz'), gz.subarray(0, gz.length - 12));
    await writeFile(join(src, 'f.json'), '');
    await writeFile(join(src, 'README.md'), '# not data');
    await writeFile(join(src, 'notes.txt'), CANARY);
    await writeFile(join(src, 'log.ndjson'), '{"eventId":"kickoff"}\n');
    await writeFile(join(src, 'nested', 'deeper.json'), JSON.stringify(patient('p9')));

    const { items, progress } = await read(src);
    const summary = items.map((i) => [i.location, i.kind === 'invalid' ? i.code : i.kind === 'skipped' ? `skipped ${i.resourceType}` : `${i.resource.resourceType}/${i.resource.id ?? ''}`]);
    expect(summary).toEqual([
      ['a.ndjson:1', 'Patient/p1'],
      ['a.ndjson:2', 'import.invalid_json'],
      ['a.ndjson:5', 'import.not_a_resource'],
      ['a.ndjson:6', 'import.not_a_resource'],
      ['a.ndjson:7', 'import.not_a_resource'],
      ['a.ndjson:8', 'records.invalid_resource'],
      ['a.ndjson:9', 'skipped Immunization'],
      ['a.ndjson:10', 'Encounter/e1'],
      ['b.json#entry[0]', 'Patient/0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01'],
      ['b.json#entry[1]', 'Encounter/6a1f1e52-2b48-4c8b-8e0b-9a6f9d1c3b02'],
      ['b.json#entry[2]', 'import.unsupported_request'],
      ['b.json#entry[3]', 'import.missing_id'],
      ['b.json#entry[4]', 'records.invalid_resource'],
      ['b.json#entry[5]', 'skipped ExplanationOfBenefit'],
      ['c.json', 'import.invalid_json'],
      ['d.json.gz', 'Patient/p5'],
      ['e.ndjson.gz:1', 'Patient/p6'],
      ['e.ndjson.gz', 'import.corrupt_gzip'],
      ['f.json', 'import.invalid_json'],
    ]);
    const invalid = items.filter((i) => i.kind === 'invalid');
    expect(invalid.find((i) => i.location === 'a.ndjson:8')?.problems).toEqual([
      'Patient.telecom[0].value: Invalid JSON type: expected string, but got number',
      'Patient.birthDate: Invalid date format',
      'Patient.gender: code not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender',
    ]);
    expect(invalid.find((i) => i.location === 'e.ndjson.gz')?.problems).toEqual(['after line 1: the gzip data is corrupt or truncated']);
    const encounterItem = items.find((i) => i.location === 'b.json#entry[1]');
    expect(encounterItem?.kind === 'resource' && encounterItem.resource.subject).toEqual({ reference: 'Patient/0b5c6e0a-6f43-4c1e-9a53-3a4f3d8d1c01' });
    // No value of a bad field reaches a problem.
    expect(JSON.stringify(invalid).toLowerCase()).not.toContain(CANARY.toLowerCase());

    const sizes = await Promise.all(['a.ndjson', 'b.json', 'c.json', 'd.json.gz', 'e.ndjson.gz', 'f.json'].map(async (n) => (await stat(join(src, n))).size));
    expectProgressToCover(progress, sizes.reduce((a, b) => a + b, 0));
  });

  it('reads one file given by name, and caps whole-JSON files and NDJSON lines', async () => {
    const file = join(dir, 'one.ndjson');
    await writeFile(file, [patient('p1'), { ...patient('p2'), name: [{ family: 'x'.repeat(2000) }] }].map((p) => JSON.stringify(p)).join('\n'));
    expect((await read(file, { maxLineBytes: 1000 })).items.map((i) => [i.location, i.kind === 'invalid' ? i.code : i.kind])).toEqual([
      ['one.ndjson:1', 'resource'],
      ['one.ndjson:2', 'import.line_too_long'],
    ]);
    const big = join(dir, 'big.json');
    await writeFile(big, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: 50 }, (_, i) => ({ resource: patient(`p${i}`) })) }));
    expect((await read(big, { maxJsonBytes: 1024 })).items).toEqual([
      { kind: 'invalid', location: 'big.json', code: 'import.file_too_large', problems: ['file: more than 1024 bytes of JSON; split it or export it as NDJSON (one resource per line)'] },
    ]);
    expect((await read(big)).items).toHaveLength(50);
  });

  it('refuses a path it cannot read, naming it, and a file that is not an import format', async () => {
    const missing = join(dir, 'no-such-folder');
    const error: unknown = await read(missing).catch((e: unknown) => e);
    expect(isWardError(error) && error.code).toBe('import.unreadable');
    expect((error as Error).message).toContain(missing);
    const txt = join(dir, 'notes.txt');
    await writeFile(txt, 'x');
    const error2: unknown = await read(txt).catch((e: unknown) => e);
    expect(isWardError(error2) && error2.code).toBe('import.unsupported_file');
  });

  it('gives the same items for gzip and plain files', async () => {
    const plain = join(dir, 'plain');
    const zipped = join(dir, 'zipped');
    await mkdir(plain);
    await mkdir(zipped);
    // A few NDJSON types (Device: skipped) and three Bundles keep the test quick.
    for (const name of ['AllergyIntolerance', 'Condition', 'Device', 'Location', 'Patient'].map((t) => `${t}.000.ndjson.gz`)) {
      const bytes = await readFile(join(BULK, name));
      await writeFile(join(plain, name.slice(0, -3)), gunzipSync(bytes));
      await writeFile(join(zipped, name), bytes);
    }
    for (const name of (await readdir(BUNDLES)).filter((n) => n.endsWith('.json')).slice(0, 3)) {
      const bytes = await readFile(join(BUNDLES, name));
      await writeFile(join(plain, name), bytes);
      await writeFile(join(zipped, `${name}.gz`), gzipSync(bytes));
    }
    const strip = (items: ImportItem[]) => items.map((i) => ({ ...i, location: i.location.replace('.gz', '') }));
    const fromPlain = strip((await read(plain)).items);
    const fromZipped = strip((await read(zipped)).items);
    const byLocation = (a: ImportItem, b: ImportItem) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0);
    expect(fromPlain.length).toBeGreaterThan(800);
    expect(fromPlain.sort(byLocation)).toEqual(fromZipped.sort(byLocation));
  });
});
