import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { deaRecognizer } from './dea-recognizer.js';
import { labelledIdRecognizer } from './labelled-id-recognizer.js';
import { mixedCodeRecognizer } from './mixed-code-recognizer.js';
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
    // The last four digits, named as such.
    ['SSN last 4: 6789', '6789', 'SSN'],
    ['last four of SSN 6789', '6789', 'SSN'],
    ['last 4 digits of her social security number is 6789.', '6789', 'SSN'],
    ['SS# (last 4) 6789', '6789', 'SSN'],
  ])('%s', (text, want, type) => expect(detectWith(ssnRecognizer, text)).toEqual([{ text: want, type }]));
  it.each(['platelets 512448830 seen', '512-448-830', 'phone 512-448-8830',
    'SSN last 4 verified in 2019 visit', 'last 4 of phone 6789', 'SSN last 4: 67890', 'last four weeks 2019', 'SSN on file; last 4 days 1200 mL'])('ignores %s', (text) => expect(detectWith(ssnRecognizer, text)).toEqual([]));
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
    // Labels whose value is called a code, and identifiers of objects that travel with a patient.
    ['Confirmation code: Q7X2K9', 'Q7X2K9', 'OTHER_ID'],
    ['ref. code EM-2554', 'EM-2554', 'OTHER_ID'],
    ['Authorization code 8XK2Q9', '8XK2Q9', 'HEALTH_PLAN'],
    ['Specimen barcode A1B2C3D4', 'A1B2C3D4', 'OTHER_ID'],
    ['Wristband code 7XK2Q9M', '7XK2Q9M', 'OTHER_ID'],
    ['Registry no. 44A7721', '44A7721', 'OTHER_ID'],
    ['Voucher number VX-2291-Q', 'VX-2291-Q', 'OTHER_ID'],
    ['Batch number B7Q2K9', 'B7Q2K9', 'DEVICE'],
    ['Username: jsmith77', 'jsmith77', 'OTHER_ID'],
    ['portal user id pt_jsmith_1988', 'pt_jsmith_1988', 'OTHER_ID'],
  ])('%s', (text, want, type) => expect(detectWith(labelledIdRecognizer, text)).toEqual([{ text: want, type }]));
  it.each([
    'ID consult placed',
    'Plan: follow up in 2 weeks',
    'Group 3 patients',
    'Mr. Smith',
    'plan: 2 tabs',
    'at the visit 2021',
    // Near misses of the new labels: no digit in the value, a bare year, a value too short.
    'Username: jsmith',
    'barcode scanned in 2023',
    'test kit 2 used',
    'confirmation code sent by text',
  ])('ignores %s', (text) =>
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

describe('mixedCodeRecognizer', () => {
  it.each([
    ['The code X7Q2K9 was on the bracelet', ['X7Q2K9']],
    ['his number is AB12CD', ['AB12CD']],
    ['token 9F8E7D6C issued', ['9F8E7D6C']],
    ['bracelet # 7XK2Q9M', ['7XK2Q9M']],
    ['handle jsmith77 on the portal', ['jsmith77']],
  ])('%s', (text, want) => expect(detectWith(mixedCodeRecognizer, text).map((f) => f.text)).toEqual(want));
  it.each([
    // Letters and digits without an id word: lab, gene, strain and vaccine names.
    'HbA1c 7.2%, CD4 350, G6PD normal, BRCA1 negative, HEK293 cells, PPSV23 given',
    // An id word, but a clinical code or a genetic name.
    'ICD-10 code S72001A',
    'diagnosis code M1A0710',
    'gene code CYP2D6 variant',
    'strain code H1N1',
    // Too short, one digit only, or glued to other characters.
    'code A1B2C',
    'code ABCDE1',
    'code AB12CD-7',
    'number 123456',
  ])('ignores %s', (text) => expect(detectWith(mixedCodeRecognizer, text)).toEqual([]));
});

describe('MAC addresses (udiRecognizer)', () => {
  it.each([
    ['monitor MAC 00:1B:44:11:3A:B7 logged', ['00:1B:44:11:3A:B7']],
    ['paired with 00:1B:44:11:3A:B7.', ['00:1B:44:11:3A:B7']],
    ['pump 00-1b-44-11-3a-b7 paired', ['00-1b-44-11-3a-b7']],
  ])('%s', (text, want) => expect(detectWith(udiRecognizer, text).map((f) => f.text)).toEqual(want));
  it.each(['at 10:30:45 today', 'sizes 10-12-14-16-18-20', 'fe80::1:2:3:4:5', '00:1B:44:11:3A'])('ignores %s', (text) =>
    expect(detectWith(udiRecognizer, text)).toEqual([]),
  );
});
