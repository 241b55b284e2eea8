import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FhirResource } from './fhir-resource.js';
import { identifierTerm, nameBirthDateTerm, normalizeNamePart, patientSearchTerms } from './patient-search-terms.js';

const patient: FhirResource = {
  resourceType: 'Patient',
  id: 'p1',
  identifier: [
    { system: 'http://hospital.smarthealthit.org', value: ' 129c6ac7-8D06 ' },
    { system: '  http://hl7.org/fhir/sid/us-ssn ', value: '999-94-5397' },
    { value: 'NO-SYSTEM' },
    { system: 'urn:empty' },
  ],
  name: [
    { use: 'official', family: 'Medhurst46', given: ['Sumiko254', 'Larue605'], prefix: ['Mrs.'] },
    { use: 'maiden', family: 'Cummerata161', given: ['Sumiko254'] },
    { family: 'Núñez  García', given: ['José María'] },
    { use: 'nickname', family: 'Medhurst46', given: ['Sue'] },
    { use: 'usual', family: "O’Brien-Smith", given: ['Anne'] },
  ],
  birthDate: '1927-05-21',
};

describe('patientSearchTerms', () => {
  it('indexes identifiers with and without their system, value case kept; SSNs only with their system', () => {
    expect(patientSearchTerms(patient).identifiers).toEqual([
      'http://hospital.smarthealthit.org|129c6ac7-8D06',
      '|129c6ac7-8D06',
      'http://hl7.org/fhir/sid/us-ssn|999-94-5397',
      '|NO-SYSTEM',
    ]);
    expect(identifierTerm('http://hospital.smarthealthit.org ', '129c6ac7-8D06')).toBe('http://hospital.smarthealthit.org|129c6ac7-8D06');
    expect(identifierTerm(undefined, ' 999-94-5397')).toBe('|999-94-5397');
    expect(identifierTerm(undefined, '129c6ac7-8d06')).not.toBe('|129c6ac7-8D06');
  });

  it('indexes official, usual and use-less names with the first given name and a full birth date', () => {
    expect(patientSearchTerms(patient).nameBirthDates).toEqual([
      'medhurst46|sumiko254|1927-05-21',
      'nunez garcia|jose maria|1927-05-21',
      "o'brien-smith|anne|1927-05-21",
    ]);
    expect(nameBirthDateTerm('MEDHURST46', ' Sumiko254', '1927-05-21')).toBe('medhurst46|sumiko254|1927-05-21');
    expect(nameBirthDateTerm('Nunez Garcia', 'Jose-Maria', '1927-05-21')).not.toBe('nunez garcia|jose maria|1927-05-21');
    expect(nameBirthDateTerm("O'Brien - Smith", 'ANNE', '1927-05-21')).toBe("o'brien-smith|anne|1927-05-21");
  });

  it('gives no name term without a full-precision birth date or a name', () => {
    for (const birthDate of ['1927', '1927-05', '1927-05-21T10:00:00Z', undefined, 19270521]) {
      expect(patientSearchTerms({ ...patient, birthDate }).nameBirthDates).toEqual([]);
    }
    expect(patientSearchTerms({ resourceType: 'Patient', id: 'p', name: [{ family: 'X' }, { given: ['Y'] }, { family: '...', given: ['Z'] }], birthDate: '2000-01-01' })).toEqual({
      identifiers: [],
      nameBirthDates: [],
    });
    expect(patientSearchTerms({ resourceType: 'Patient', id: 'p', name: 'not a list', identifier: {} })).toEqual({ identifiers: [], nameBirthDates: [] });
  });

  it('folds names as documented', () => {
    expect(normalizeNamePart('  Zoë   d’Arcy-Lévêque ')).toBe("zoe d'arcy-leveque");
    expect(normalizeNamePart('ÅNGSTRÖM, Jr.')).toBe('angstrom jr');
    expect(normalizeNamePart('ℌ𝔢𝔩𝔢𝔫')).toBe('helen');
    expect(normalizeNamePart('İlkay')).toBe('ilkay');
    expect(normalizeNamePart('Marine542')).toBe('marine542');
  });

  it('agrees on both sides for names with accents, spacing and case variations (property)', () => {
    const letters = [...'abcdeilnorsuyzABCDEILNORSUYZáàâäãåçéèêëíìîïñóòôöõúùûüýÿÁÉÍÑÓÖÚÜßẞıøØłŁđĐ0123456789'];
    const word = fc.array(fc.constantFrom(...letters), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));
    const name = fc.tuple(word, fc.array(fc.tuple(fc.constantFrom(' ', '-', "'"), word), { maxLength: 2 }))
      .map(([first, rest]) => first + rest.map(([sep, w]) => sep + w).join(''));
    // What a user types differs from what the record holds: case, spacing, decomposed or
    // stripped accents, typographic apostrophes and dashes, stray punctuation.
    const variant = (text: string) => fc.record({
      upper: fc.boolean(), lower: fc.boolean(), nfd: fc.boolean(), strip: fc.boolean(), typographic: fc.boolean(),
      pad: fc.constantFrom('', ' ', '  ', '\t'), spaces: fc.constantFrom(' ', '  ', ' \u00a0'), dot: fc.boolean(),
    }).map((o) => {
      let t = text;
      if (o.upper) t = t.toUpperCase();
      if (o.lower) t = t.toLowerCase();
      if (o.nfd) t = t.normalize('NFD');
      if (o.strip) t = t.normalize('NFD').replace(/\p{M}/gu, '');
      if (o.typographic) t = t.replace(/'/g, '\u2019').replace(/-/g, '\u2010');
      t = t.replace(/ /g, o.spaces);
      if (o.dot) t += '.';
      return o.pad + t + o.pad;
    });
    const date = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    const sample = fc.tuple(name, name, date).chain(([family, given, birthDate]) =>
      fc.tuple(fc.constant(birthDate), variant(family), variant(given), variant(family), variant(given)));

    fc.assert(fc.property(sample, ([birthDate, recFamily, recGiven, qFamily, qGiven]) => {
      const terms = patientSearchTerms({ resourceType: 'Patient', id: 'p', name: [{ use: 'official', family: recFamily, given: [recGiven, 'Second'] }], birthDate });
      expect(terms.nameBirthDates).toContain(nameBirthDateTerm(qFamily, qGiven, birthDate));
    }), { numRuns: 500 });

    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const once = normalizeNamePart(s);
      expect(normalizeNamePart(once)).toBe(once);
      expect(once).not.toContain('|');
    }), { numRuns: 500 });
  });
});
