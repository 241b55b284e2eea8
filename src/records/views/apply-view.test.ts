import { describe, expect, it } from 'vitest';
import { AUDIT_FIELD_PATTERN } from '../../audit/audit-entry.js';
import { isWardError } from '../../shared/ward-error.js';
import type { FhirResource } from '../fhir-resource.js';
import { applyView, viewPlan } from './apply-view.js';
import type { DataView } from './data-view.js';
import { dataView } from './parse-views.js';
import { defaultCatalog, sampleOf, syntheaSample, view } from './testing/view-world.js';

const catalog = defaultCatalog();
const named = (name: string): DataView => {
  const v = catalog.get(name);
  if (v === undefined) throw new Error(name);
  return v;
};
const NOW = new Date('2021-06-01T12:00:00Z');
const one = (v: DataView, r: FhirResource, now = NOW): FhirResource | undefined => applyView(v, [r], now).resources[0];

describe('applyView on Synthea resources', () => {
  it('the scheduling view of a patient: contact details, no address, identifiers, extensions or narrative', () => {
    const patient = sampleOf('Patient');
    expect(Object.keys(patient)).toEqual(expect.arrayContaining(['address', 'identifier', 'extension', 'text', 'meta', 'maritalStatus']));
    const { resources, disclosed } = applyView(named('scheduling'), [patient], NOW);
    expect(resources).toHaveLength(1);
    const shown = resources[0];
    expect(Object.keys(shown ?? {}).sort()).toEqual(['birthDate', 'communication', 'gender', 'id', 'name', 'resourceType', 'telecom']);
    expect(shown?.name).toEqual(patient.name);
    expect(JSON.stringify(shown)).not.toMatch(/address|identifier|extension|999-|geolocation|maidenName|Synthea/);
    expect(disclosed).toEqual(['Patient.birthDate', 'Patient.communication', 'Patient.gender', 'Patient.id', 'Patient.name', 'Patient.telecom']);
  });

  it('the intake view keeps the address but not its geolocation extension (latitude and longitude of the home)', () => {
    const patient = sampleOf('Patient');
    expect(JSON.stringify(patient.address)).toContain('latitude');
    const shown = one(named('intake'), patient);
    expect(shown?.address).toEqual([{ line: expect.any(Array) as unknown, city: expect.any(String) as unknown, state: expect.any(String) as unknown, postalCode: expect.any(String) as unknown, country: 'US' }]);
    expect(JSON.stringify(shown)).not.toContain('latitude');
    expect(shown?.deceasedDateTime).toBeUndefined();
  });

  it('the audit view: name, birth date and identifiers of the patient, nothing of the record', () => {
    const { resources, disclosed } = applyView(named('audit'), syntheaSample(), NOW);
    expect(resources.map((r) => r.resourceType)).toEqual(['Patient']);
    expect(disclosed).toEqual(['Patient.birthDate', 'Patient.id', 'Patient.identifier', 'Patient.name']);
  });

  it('types outside the view are left out, in input order otherwise', () => {
    const { resources } = applyView(named('scheduling'), syntheaSample(), NOW);
    expect(resources.map((r) => r.resourceType)).toEqual(['Patient', 'Practitioner', 'PractitionerRole', 'Location', 'Organization']);
    const practitioner = resources[1];
    expect(Object.keys(practitioner ?? {}).sort()).toEqual(['active', 'id', 'name', 'resourceType']);
  });

  it('the coding view in June 2021: the recent encounters, note, problems and procedure; the 2018 prescription is not its business', () => {
    const { resources, disclosed } = applyView(named('coding'), syntheaSample(), NOW);
    expect(resources.map((r) => r.resourceType)).toEqual(['Patient', 'Encounter', 'Encounter', 'Condition', 'Condition', 'Procedure', 'DocumentReference', 'Practitioner', 'Organization']);
    expect(resources[0]).toEqual({ resourceType: 'Patient', id: sampleOf('Patient').id, gender: 'male', birthDate: '1995-12-30' });
    const note = resources.find((r) => r.resourceType === 'DocumentReference');
    expect(JSON.stringify(note)).toContain('"data":');
    expect(disclosed).toContain('Condition.onsetDateTime');
    expect(disclosed).toContain('DocumentReference.content');
    expect(disclosed).toContain('DocumentReference.context.period');
    expect(disclosed).toContain('DocumentReference.context.encounter');
    expect(disclosed).not.toContain('DocumentReference.custodian');
    for (const d of disclosed) expect(d).toMatch(AUDIT_FIELD_PATTERN);
  });

  it('the same view two years later: the windowed types drop out, the problem list stays', () => {
    const { resources } = applyView(named('coding'), syntheaSample(), new Date('2023-06-01T00:00:00Z'));
    expect(resources.map((r) => r.resourceType)).toEqual(['Patient', 'Condition', 'Condition', 'Practitioner', 'Organization']);
  });

  it('every default view discloses only audit-shaped names for the whole sample', () => {
    for (const v of catalog.views.values()) {
      const { disclosed } = applyView(v, syntheaSample(), NOW);
      for (const d of disclosed) expect(d, v.name).toMatch(AUDIT_FIELD_PATTERN);
    }
  });
});

describe('applyView projection', () => {
  const patientView = dataView(view('p', [{ type: 'Patient', fields: ['name.given', 'address.state', 'telecom.extension', 'extension.url'] }]));

  it('a nested path keeps only its sub-element, in every array item; empties are dropped', () => {
    const patient: FhirResource = {
      resourceType: 'Patient',
      id: 'p1',
      name: [{ family: 'Doe', given: ['Ann', 'B'] }, { family: 'OnlyFamily' }, { given: ['C'], extension: [{ url: 'u' }] }],
      address: { state: 'KS', city: 'Emporia' },
      telecom: [{ system: 'phone', value: '555', extension: [{ url: 'direct', valueBoolean: true }] }, { system: 'email' }],
      extension: [{ url: 'http://race', valueString: 'x', extension: [{ url: 'inner' }] }, { valueString: 'no url' }],
      birthDate: '1990-01-01',
    };
    const { resources, disclosed } = applyView(patientView, [patient], NOW);
    expect(resources[0]).toEqual({
      resourceType: 'Patient',
      id: 'p1',
      name: [{ given: ['Ann', 'B'] }, { given: ['C'] }],
      address: { state: 'KS' },
      telecom: [{ extension: [{ url: 'direct', valueBoolean: true }] }],
      extension: [{ url: 'http://race' }],
    });
    expect(disclosed).toEqual(['Patient.address.state', 'Patient.extension.url', 'Patient.id', 'Patient.name.given', 'Patient.telecom.extension']);
  });

  it('extensions and _primitive twins are removed inside listed elements unless the path names extension', () => {
    const v = dataView(view('p', [{ type: 'Patient', fields: ['name', 'birthDate', 'extension'] }]));
    const shown = one(v, {
      resourceType: 'Patient',
      name: [{ family: 'Doe', _family: { extension: [{ url: 'x' }] }, period: { start: '2000', extension: [] } }],
      birthDate: '1990-01-01',
      _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1990-01-01T10:00:00Z' }] },
      extension: [{ url: 'a', extension: [{ url: 'b', valueString: 'kept: the path names extension' }], _valueString: { id: 'x' } }],
    });
    expect(shown).toEqual({
      resourceType: 'Patient',
      name: [{ family: 'Doe', period: { start: '2000' } }],
      birthDate: '1990-01-01',
      extension: [{ url: 'a', extension: [{ url: 'b', valueString: 'kept: the path names extension' }], _valueString: { id: 'x' } }],
    });
  });

  const REFUTED = [{ url: 'http://example.org/fhir/StructureDefinition/refuted', valueBoolean: true }];

  it('an element carrying a modifier extension is dropped whole, not shown as if unmodified', () => {
    const patient: FhirResource = {
      resourceType: 'Patient',
      id: 'p1',
      name: [{ family: 'Doe', modifierExtension: REFUTED }, { family: 'Roe', period: { start: '2000', modifierExtension: REFUTED } }],
      contact: [{ name: { family: 'Moe' }, modifierExtension: REFUTED }, { name: { family: 'Poe' } }],
      telecom: [{ value: '555', modifierExtension: REFUTED }],
    };
    // Listed whole (`name`, `telecom`): the element and anything below it carrying one is dropped.
    // On the way to a listed element (`contact.name`): the backbone element carrying one is dropped.
    const v = dataView(view('p', [{ type: 'Patient', fields: ['name', 'contact.name', 'telecom'] }]));
    const { resources, disclosed } = applyView(v, [patient], NOW);
    expect(resources).toEqual([{ resourceType: 'Patient', id: 'p1', name: [{ family: 'Roe' }], contact: [{ name: { family: 'Poe' } }] }]);
    expect(disclosed).toEqual(['Patient.contact.name', 'Patient.id', 'Patient.name']);
    expect(JSON.stringify(resources)).not.toMatch(/Doe|Moe|555|refuted|2000/);
  });

  it('a resource carrying a modifier extension on itself is withheld whole (a refuted allergy is not an allergy)', () => {
    const refuted: FhirResource = { resourceType: 'AllergyIntolerance', id: 'a1', modifierExtension: REFUTED, code: { text: 'Penicillin' }, patient: { reference: 'Patient/p1' } };
    const plain: FhirResource = { resourceType: 'AllergyIntolerance', id: 'a2', code: { text: 'Peanut' } };
    // Whatever its value: the key alone is the modifier's claim on the resource.
    const odd = { resourceType: 'AllergyIntolerance', id: 'a3', modifierExtension: [], code: { text: 'Latex' } } as FhirResource;
    const v = dataView(view('a', [{ type: 'AllergyIntolerance', fields: ['code', 'patient', 'extension'] }]));
    const { resources, disclosed } = applyView(v, [refuted, plain, odd], NOW);
    expect(resources).toEqual([{ resourceType: 'AllergyIntolerance', id: 'a2', code: { text: 'Peanut' } }]);
    expect(disclosed).toEqual(['AllergyIntolerance.code', 'AllergyIntolerance.id']);
  });

  it('modifier extensions are kept when the path lists them: on the resource, on a backbone element, or under a listed extension', () => {
    const allergy: FhirResource = {
      resourceType: 'AllergyIntolerance',
      id: 'a1',
      modifierExtension: REFUTED,
      code: { text: 'Penicillin' },
      reaction: [{ manifestation: [{ text: 'Hives' }], modifierExtension: REFUTED }, { manifestation: [{ text: 'Rash' }], severity: 'mild' }],
    };
    const whole = dataView(view('a', [{ type: 'AllergyIntolerance', fields: ['code', 'modifierExtension', 'reaction.manifestation', 'reaction.modifierExtension'] }]));
    expect(applyView(whole, [allergy], NOW)).toEqual({
      resources: [{ resourceType: 'AllergyIntolerance', id: 'a1', modifierExtension: REFUTED, code: { text: 'Penicillin' }, reaction: [{ manifestation: [{ text: 'Hives' }], modifierExtension: REFUTED }, { manifestation: [{ text: 'Rash' }] }] }],
      disclosed: ['AllergyIntolerance.code', 'AllergyIntolerance.id', 'AllergyIntolerance.modifierExtension', 'AllergyIntolerance.reaction.manifestation', 'AllergyIntolerance.reaction.modifierExtension'],
    });
    // A path into the modifier extension (`modifierExtension.url`) lists it too; a reaction whose
    // modifier is not listed is dropped.
    const url = dataView(view('a', [{ type: 'AllergyIntolerance', fields: ['code', 'modifierExtension.url', 'reaction.manifestation'] }]));
    expect(one(url, allergy)).toEqual({ resourceType: 'AllergyIntolerance', id: 'a1', modifierExtension: [{ url: REFUTED[0]?.url }], code: { text: 'Penicillin' }, reaction: [{ manifestation: [{ text: 'Rash' }] }] });
    // Below a path naming `extension`, everything is kept, modifier extensions included.
    const ext = dataView(view('p', [{ type: 'Patient', fields: ['extension'] }]));
    const nested = [{ url: 'a', modifierExtension: REFUTED, extension: [{ url: 'b', valueString: 'x' }] }];
    expect(one(ext, { resourceType: 'Patient', id: 'p1', extension: nested })).toEqual({ resourceType: 'Patient', id: 'p1', extension: nested });
  });

  it('a whole choice element keeps only its real variants, and discloses the one present', () => {
    const v = dataView(view('c', [{ type: 'Condition', fields: ['onset[x]', 'abatementPeriod.start'] }]));
    const { resources, disclosed } = applyView(v, [{ resourceType: 'Condition', id: 'c1', onsetAge: { value: 3 }, onsetFoo: 'x', onset: 'y', abatementPeriod: { start: '2020', end: '2021' }, abatementDateTime: '2020' }], NOW);
    expect(resources[0]).toEqual({ resourceType: 'Condition', id: 'c1', onsetAge: { value: 3 }, abatementPeriod: { start: '2020' } });
    expect(disclosed).toEqual(['Condition.abatementPeriod.start', 'Condition.id', 'Condition.onsetAge']);
  });

  it('copies only JSON values; a non-string id is not returned; resourceType comes from the view', () => {
    const v = dataView(view('p', [{ type: 'Patient', fields: ['name', 'gender', 'active', 'multipleBirth[x]'] }]));
    const weird = { resourceType: 'Patient', id: 7, name: [{ family: 'Doe', when: new Date(0), f: () => 1, n: Number.NaN, u: undefined, z: null }, null, [], {}], gender: { toString: 'x' }, active: false, multipleBirthInteger: 0 } as unknown as FhirResource;
    const { resources, disclosed } = applyView(v, [weird], NOW);
    expect(resources[0]).toEqual({ resourceType: 'Patient', name: [{ family: 'Doe' }], gender: { toString: 'x' }, active: false, multipleBirthInteger: 0 });
    expect(disclosed).toEqual(['Patient.active', 'Patient.gender', 'Patient.multipleBirthInteger', 'Patient.name']);
  });

  it('a __proto__ key is copied as data, never as a prototype', () => {
    // `_` keys are dropped unless extensions are listed, so list them to see __proto__ copied.
    const v = dataView(view('p', [{ type: 'Patient', fields: ['extension', 'name'] }]));
    const input = JSON.parse('{"resourceType":"Patient","id":"p","extension":[{"__proto__":{"polluted":true},"url":"u"}],"name":[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"family":"Doe"}]}') as FhirResource;
    const shown = one(v, input);
    const extension = (shown?.extension as Record<string, unknown>[] | undefined)?.[0];
    expect(Object.getPrototypeOf(extension)).toBe(Object.prototype);
    expect(Object.hasOwn(extension ?? {}, '__proto__')).toBe(true);
    expect(Object.keys(extension ?? {})).toEqual(['__proto__', 'url']);
    const name = (shown?.name as Record<string, unknown>[] | undefined)?.[0];
    expect(Object.keys(name ?? {})).toEqual(['constructor', 'family']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops a value found inside itself (a cycle, which JSON cannot hold) instead of recursing', () => {
    const v = dataView(view('p', [{ type: 'Patient', fields: ['name', 'contact.name'] }]));
    const name: Record<string, unknown> = { family: 'Doe' };
    name.self = name;
    name.list = [name, { given: ['A'] }];
    const contact: Record<string, unknown> = { name: { family: 'Roe' } };
    contact.contact = contact;
    const shown = one(v, { resourceType: 'Patient', id: 'p', name: [name], contact: [contact] });
    expect(shown).toEqual({ resourceType: 'Patient', id: 'p', name: [{ family: 'Doe', list: [{ given: ['A'] }] }], contact: [{ name: { family: 'Roe' } }] });
  });

  it('ignores inputs that are not resources, and resources a path would overwrite', () => {
    const v = dataView(view('p', [{ type: 'Patient', fields: ['name'] }]));
    const inputs = [null, 'Patient', { resourceType: 3 }, { name: [] }, { resourceType: 'Patient', id: 'a', name: [{ family: 'x' }] }] as unknown as FhirResource[];
    expect(applyView(v, inputs, NOW).resources).toEqual([{ resourceType: 'Patient', id: 'a', name: [{ family: 'x' }] }]);
  });

  it('shares no object with its input, either way', () => {
    const input = sampleOf('Patient');
    const before = JSON.stringify(input);
    const { resources } = applyView(named('intake'), [input], NOW);
    const shown = resources[0] as unknown as { name: { given: string[] }[] };
    shown.name[0]?.given.push('Mallory');
    expect(JSON.stringify(input)).toBe(before);
    (input.name as { family: string }[])[0]!.family = 'Changed';
    expect(JSON.stringify(shown)).not.toContain('Changed');
  });
});

describe('applyView windows', () => {
  const v = dataView(view('w', [{ type: 'Encounter', fields: ['status'], window: { pastDays: 10, futureDays: 2 } }, { type: 'Condition', fields: ['code'] }]));
  const enc = (start: unknown, id = 'e'): FhirResource => ({ resourceType: 'Encounter', id, status: 'finished', period: { start } });
  const kept = (start: unknown): boolean => applyView(v, [enc(start)], NOW).resources.length === 1;

  it('keeps [now - pastDays, now + futureDays], bounds included', () => {
    expect(kept('2021-05-22T12:00:00Z')).toBe(true);
    expect(kept('2021-05-22T11:59:59.999Z')).toBe(false);
    expect(kept('2021-06-03T12:00:00Z')).toBe(true);
    expect(kept('2021-06-03T12:00:00.001Z')).toBe(false);
    expect(kept('2021-06-03T14:00:00+02:00')).toBe(true);
  });

  it('a partial date counts by its earliest instant', () => {
    expect(kept('2021-05-22')).toBe(false);
    expect(kept('2021-05-23')).toBe(true);
    expect(kept('2021-05')).toBe(false);
    expect(kept('2021-06')).toBe(true);
    expect(kept('2021')).toBe(false);
  });

  it('fails closed: no clinical date, or one that cannot be read, is left out under a window', () => {
    for (const bad of [undefined, null, 7, '', 'yesterday', '2021-05-30T10:00:00', '2021-02-30']) expect(kept(bad), String(bad)).toBe(false);
    expect(applyView(v, [{ resourceType: 'Encounter', id: 'x' }], NOW).resources).toEqual([]);
  });

  it('types without a window keep every resource, dated or not', () => {
    const conditions: FhirResource[] = [{ resourceType: 'Condition', id: 'old', recordedDate: '1950', code: { text: 'a' } }, { resourceType: 'Condition', id: 'undated', code: { text: 'b' } }];
    expect(applyView(v, conditions, NOW).resources.map((r) => r.id)).toEqual(['old', 'undated']);
  });

  it('refuses an invalid clock when a window needs one', () => {
    try {
      applyView(v, [], new Date(Number.NaN));
      throw new Error('accepted');
    } catch (e) {
      expect(isWardError(e) && e.code).toBe('views.invalid_clock');
    }
    const unwindowed = dataView(view('u', [{ type: 'Condition', fields: ['code'] }]));
    expect(applyView(unwindowed, [], new Date(Number.NaN)).resources).toEqual([]);
  });
});

describe('viewPlan', () => {
  it('lists each type, with the UTC years a window can reach', () => {
    const v = dataView(view('w', [
      { type: 'Patient', fields: ['name'] },
      { type: 'Encounter', fields: ['status'], window: { pastDays: 365 } },
      { type: 'Appointment', fields: ['start'], window: { pastDays: 0, futureDays: 400 } },
      { type: 'Slot', fields: ['start'], window: { pastDays: 1, futureDays: 1 } },
    ]));
    expect(viewPlan(v, NOW)).toEqual([
      { type: 'Patient' },
      { type: 'Encounter', fromYear: 2020, toYear: 2021 },
      { type: 'Appointment', fromYear: 2021, toYear: 2022 },
      { type: 'Slot', fromYear: 2021, toYear: 2021 },
    ]);
    expect(viewPlan(v, new Date('2022-01-01T00:30:00Z'))[3]).toEqual({ type: 'Slot', fromYear: 2021, toYear: 2022 });
  });
});
