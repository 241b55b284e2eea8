/**
 * Builds the runtime dictionaries of the de-identification engine (data/deid/) from the public
 * reference data in ../shared/data. Run from the repository root:
 *
 *   npx tsx scripts/build-deid-data.ts ../shared/data data/deid
 *
 * Every output is plain UTF-8 text, one entry per line, sorted or in source rank order, so a
 * rebuild from the same sources is byte-identical and a diff of data/deid is reviewable.
 * See data/deid/README.md for what each file is, its source and licence.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** SSA first names need this many births over 1880-2023 to be kept: drops one-off spellings. */
const SSA_MIN_BIRTHS = 200;

function readText(file: string): string {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

function writeList(outDir: string, name: string, entries: Iterable<string>): number {
  const list = [...entries];
  writeFileSync(path.join(outDir, name), `${list.join('\n')}\n`);
  return list.length;
}

/** Census 1990 fixed-width lists: the name is the first column, uppercase ASCII. */
function censusNames(file: string): string[] {
  return lines(readText(file)).map((l) => (l.split(/\s+/)[0] ?? '').toLowerCase()).filter((n) => n.length > 0);
}

function firstNames(dataDir: string): string[] {
  const names = new Set<string>([
    ...censusNames(path.join(dataDir, 'us-census-1990-names/dist.female.first')),
    ...censusNames(path.join(dataDir, 'us-census-1990-names/dist.male.first')),
  ]);
  const ssa = lines(readText(path.join(dataDir, 'us-ssa-first-names/ssa-first-names-1880-2023.csv'))).slice(1);
  for (const row of ssa) {
    const [name, , births] = row.split(',');
    if (name !== undefined && Number(births) >= SSA_MIN_BIRTHS) names.add(name.toLowerCase());
  }
  return [...names].filter((n) => n.length > 1).sort();
}

/** Gazetteer NAME carries a legal suffix ("Abbeville city", "Abanda CDP"): strip it. */
const PLACE_SUFFIX =
  / (city and borough|city|town|township|village|borough|CDP|municipality|comunidad|zona urbana|urban county|consolidated government|metropolitan government|unified government|\(balance\))$/;

function places(dataDir: string): string[] {
  const out = new Set<string>();
  const add = (file: string, strip: RegExp): void => {
    for (const row of lines(readText(file)).slice(1)) {
      const name = row.split('\t')[3];
      if (name === undefined) continue;
      let cleaned = name;
      // One legal suffix only: "Salt Lake City city" is Salt Lake City.
      cleaned = cleaned.replace(strip, '');
      cleaned = cleaned.replace(/\s*\(.*\)$/, '').replace(/"/g, '').trim().toLowerCase();
      // "Islamorada, Village of Islands": keep the part before the comma, the name in use.
      cleaned = cleaned.split(',')[0] ?? '';
      if (cleaned.length > 2) out.add(cleaned);
    }
  };
  add(path.join(dataDir, 'us-census-gazetteer/Gaz_places_national.txt'), PLACE_SUFFIX);
  add(path.join(dataDir, 'us-census-gazetteer/Gaz_counties_national.txt'), / (County|Parish|Borough|Census Area|Municipio|city and borough|Municipality)$/);
  return [...out].sort();
}

function zip3Population(dataDir: string): string[] {
  const rows = lines(readText(path.join(dataDir, 'us-zcta-population/zip3-population.csv'))).slice(1);
  return rows.map((r) => {
    const [zip3, , , pop2020] = r.split(',');
    return `${zip3 ?? ''},${pop2020 ?? ''}`;
  });
}

interface RestrictedLists {
  hhs_guidance_census2000: string[];
  derived_census2020: string[];
}

/** Union of the HHS guidance list (Census 2000) and the list derived from Census 2020: conservative. */
function restrictedZip3(dataDir: string): string[] {
  const json = JSON.parse(readText(path.join(dataDir, 'us-zcta-population/hipaa-restricted-zip3.json'))) as RestrictedLists;
  return [...new Set([...json.hhs_guidance_census2000, ...json.derived_census2020])].sort();
}

/**
 * Medical vocabulary from ICD-10-CM titles and the Drug table: clinical words a name list happens
 * to contain (drug substances, "Blue", "Long") are only flagged as names with context. A word
 * counts when it occurs written in lower case somewhere in a title; capitalised words say
 * nothing ("Wilson's disease" starts a title; "Smith's fracture" is an eponym and a surname).
 */
function medicalVocabulary(dataDir: string): string[] {
  const words = new Set<string>();
  const titles = lines(readText(path.join(dataDir, 'icd10cm-fy2026/icd10cm-codes-2026.txt.gz'))).map((l) =>
    l.replace(/^\S+\s+/, ''),
  );
  const drugXml = readText(path.join(dataDir, 'icd10cm-fy2026/icd10cm-drug-April-1-2026-XML.xml.gz'));
  for (const m of drugXml.matchAll(/<title>([^<]*)<\/title>/g)) titles.push(m[1] ?? '');
  for (const title of titles) {
    for (const t of title.match(/[A-Za-z][A-Za-z']*[A-Za-z]/g) ?? []) {
      const base = t.replace(/'s$/, '');
      if (/^[a-z]/.test(base) && base.length > 2) words.add(base.toLowerCase());
    }
  }
  return [...words].sort();
}

function main(argv: string[]): void {
  const [dataDir, outDir] = argv;
  if (dataDir === undefined || outDir === undefined) {
    process.stderr.write('usage: tsx scripts/build-deid-data.ts <shared data dir> <output dir>\n');
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  const counts = {
    'first-names.txt': writeList(outDir, 'first-names.txt', firstNames(dataDir)),
    'surnames.txt': writeList(outDir, 'surnames.txt', censusNames(path.join(dataDir, 'us-census-1990-names/dist.all.last'))),
    'places.txt': writeList(outDir, 'places.txt', places(dataDir)),
    'zip3-population.csv': writeList(outDir, 'zip3-population.csv', ['zip3,pop2020', ...zip3Population(dataDir)]),
    'zip3-restricted.txt': writeList(outDir, 'zip3-restricted.txt', restrictedZip3(dataDir)),
    'medical-words.txt': writeList(outDir, 'medical-words.txt', medicalVocabulary(dataDir)),
  };
  for (const [file, n] of Object.entries(counts)) process.stdout.write(`${file}: ${n} entries\n`);
}

main(process.argv.slice(2));
