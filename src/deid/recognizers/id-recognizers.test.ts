import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { deaRecognizer } from './dea-recognizer.js';
import { labelledIdRecognizer } from './labelled-id-recognizer.js';
import { npiRecognizer } from './npi-recognizer.js';
import { ssnRecognizer } from './ssn-recognizer.js';
import { udiRecognizer } from './udi-recognizer.js';
import { unlabelledIdRecognizer } from './unlabelled-id-recognizer.js';
import { vinRecognizer } from './vin-recognizer.js';

describe('ssnRecognizer', () => {
  it.each([
    ['SSN 512-44-8830', '512-44-8830', 'SSN'],
    ['ss# 512 44 8830', '512 44 8830', 'SSN'],
    ['social security number 512448830', '512448830', 'SSN'],
    ['SSN: XXX-XX-8830', 'XXX-XX-8830', 'SSN'],
    // Impossible SSNs keep being masked, typed as some other identifier.
    ['id 666-12-3456', '666-12-3456', 'OTHER_ID'],
    ['id 123-45-0000', '123-45-0000', 'OTHER_ID'],
  ])('%s', (text, want, type) => expect(detectWith(ssnRecognizer, text)).toEqual([{ text: want, type }]));
  it.each(['platelets 512448830 seen', '512-448-830', 'phone 512-448-8830'])('ignores %s', (text) => expect(detectWith(ssnRecognizer, text)).toEqual([]));
});

describe('npiRecognizer', () => {
  it('finds a valid NPI without context, and an invalid one only with the label', () => {
    expect(detectWith(npiRecognizer, 'provider 1234567893')).toEqual([{ text: '1234567893', type: 'OTHER_ID' }]);
    expect(detectWith(npiRecognizer, 'provider 1234567890')).toEqual([]);
    expect(detectWith(npiRecognizer, 'NPI 1234567890')).toEqual([{ text: '1234567890', type: 'OTHER_ID' }]);
  });
});

describe('deaRecognizer', () => {
  it.each([
    ['DEA AB1234563', ['AB1234563']],
    ['prescriber BZ1234564', []], // checksum fails, no label
    ['DEA# BZ1234564', ['BZ1234564']],
    ['HbA1c7654321 typo', []],
  ])('%s', (text, want) => expect(detectWith(deaRecognizer, text).map((f) => f.text)).toEqual(want));
});

describe('vinRecognizer', () => {
  it.each([
    ['car 1HGCM82633A004352 towed', ['1HGCM82633A004352']],
    ['car 1HGCM82634A004352 towed', []], // bad check digit, no label
    ['VIN 1HGCM82634A004352', ['1HGCM82634A004352']],
    ['ABCDEFGHJKLMNPRST', []], // no digit
  ])('%s', (text, want) => expect(detectWith(vinRecognizer, text).map((f) => f.text)).toEqual(want));
});

describe('udiRecognizer', () => {
  it.each([
    ['UDI (01)00643169007222(17)260128(21)A1B2C3 placed', '(01)00643169007222(17)260128(21)A1B2C3'],
    ['lead +H123PROD1/$$LOT5/S123 noted', '+H123PROD1/$$LOT5/S123'],
  ])('%s', (text, want) => expect(detectWith(udiRecognizer, text)).toEqual([{ text: want, type: 'DEVICE' }]));
});

describe('labelledIdRecognizer', () => {
  it.each([
    ['MRN: 00482113', '00482113', 'MRN'],
    ['MR# A-7781', 'A-7781', 'MRN'],
    ['Medical record number 99-4471', '99-4471', 'MRN'],
    ['Member ID XZK 448120931', 'XZK 448120931', 'HEALTH_PLAN'],
    ['Group #: GRP-55102', 'GRP-55102', 'HEALTH_PLAN'],
    ['Policy number 77120034-01', '77120034-01', 'HEALTH_PLAN'],
    ['Medicare ID: 1EG4-TE5-MK73', '1EG4-TE5-MK73', 'HEALTH_PLAN'],
    ['Acct # HA-7781-2290', 'HA-7781-2290', 'ACCOUNT'],
    ["Driver's license: R200-4471-9981", 'R200-4471-9981', 'LICENSE'],
    ['license plate 7XKP219', '7XKP219', 'VEHICLE'],
    ['s/n PJN4471902', 'PJN4471902', 'DEVICE'],
    ['Patient ID: 987654321', '987654321', 'MRN'],
    ['accession no. 22-118-4471', '22-118-4471', 'OTHER_ID'],
  ])('%s', (text, want, type) => expect(detectWith(labelledIdRecognizer, text)).toEqual([{ text: want, type }]));
  it.each(['ID consult placed', 'Plan: follow up in 2 weeks', 'Group 3 patients', 'Mr. Smith', 'plan: 2 tabs', 'at the visit 2021'])('ignores %s', (text) =>
    expect(detectWith(labelledIdRecognizer, text)).toEqual([]),
  );
});

describe('unlabelledIdRecognizer', () => {
  it.each([
    ['ref AB4471902 attached', ['AB4471902']],
    ['case 8812004571 open', ['8812004571']],
    ['tracking 44-2391-77 sent', ['44-2391-77']],
  ])('%s', (text, want) => expect(detectWith(unlabelledIdRecognizer, text).map((f) => f.text)).toEqual(want));
  it.each(['E11.9 and I10', 'LOINC 4548-4', 'WBC 11.2, plt 250,000', 'metformin 1000 mg', 'COVID-19 in 2020', 'range 10-20'])('ignores %s', (text) =>
    expect(detectWith(unlabelledIdRecognizer, text)).toEqual([]),
  );
});
