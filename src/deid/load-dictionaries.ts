/**
 * The one I/O file of src/deid: reads the runtime dictionaries in data/deid (built by
 * scripts/build-deid-data.ts) into the in-memory structures the pure analyzer takes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WardError } from '../shared/ward-error.js';
import { createDictionaries, type DeidDictionaries } from './dictionaries.js';

/** data/deid of this checkout or installed package. */
export const DEFAULT_DEID_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/deid');

function readLines(dir: string, file: string): string[] {
  try {
    return readFileSync(path.join(dir, file), 'utf8').split('\n').filter((l) => l.length > 0);
  } catch (cause) {
    throw new WardError('deid.dictionary_missing', `de-identification dictionary ${file} could not be read`, { cause });
  }
}

export function loadDictionaries(dir: string = DEFAULT_DEID_DATA_DIR): DeidDictionaries {
  const zip3 = readLines(dir, 'zip3-population.csv')
    .slice(1)
    .map((row): readonly [string, number] => {
      const [zip, pop] = row.split(',');
      return [zip ?? '', Number(pop ?? '0')];
    });
  return createDictionaries({
    firstNames: readLines(dir, 'first-names.txt'),
    surnames: readLines(dir, 'surnames.txt'),
    places: readLines(dir, 'places.txt'),
    medicalWords: readLines(dir, 'medical-words.txt'),
    zip3Population: zip3,
    restrictedZip3: readLines(dir, 'zip3-restricted.txt'),
  });
}
