import { describe, expect, it } from 'vitest';
import { isWardError } from '../../shared/ward-error.js';
import { MAX_REPORTED_PROBLEMS, dataView, parseViews } from './parse-views.js';
import { view, viewsText } from './testing/view-world.js';

const NAMES = ['coding', 'scheduling'] as const;
const OPTIONS = { names: NAMES };
const scheduling = view('scheduling', [{ type: 'Patient', fields: ['name'] }]);
const coding = (resources: readonly unknown[]): Record<string, unknown> => view('coding', resources);

/** The whole message of the views.invalid error `text` raises. */
function messageOf(text: string, options: { names: readonly string[] } = OPTIONS): string {
  try {
    parseViews(text, options);
  } catch (e) {
    if (!isWardError(e)) throw e;
    expect(e.code).toBe('views.invalid');
    return e.message;
  }
  throw new Error('the views were accepted');
}

function problemsOf(text: string, options?: { names: readonly string[] }): string[] {
  return messageOf(text, options).replace(/^the data views are invalid \(\d+ problems?\): /, '').split(' | ');
}

/** Problems of a document with a valid scheduling view and a coding view of these entries. */
const codingProblems = (resources: readonly unknown[]): string[] => problemsOf(viewsText([scheduling, coding(resources)]));

describe('parseViews accepts', () => {
  it('a valid document, compiling paths, defaulting futureDays to 0, frozen', () => {
    const catalog = parseViews(
      viewsText([
        scheduling,
        coding([
          { type: 'Condition', fields: ['code', 'onset[x]', 'abatementPeriod.start', 'subject.reference'] },
          { type: 'Encounter', fields: ['period'], window: { pastDays: 365 } },
          { type: 'Appointment', fields: ['start'], window: { pastDays: 30, futureDays: 90 } },
        ]),
      ], '2026-12-01.1'),
      OPTIONS,
    );
    expect(catalog.version).toBe('2026-12-01.1');
    expect([...catalog.views.keys()]).toEqual(['scheduling', 'coding']);
    const v = catalog.get('coding');
    expect(v?.resources.map((r) => r.type)).toEqual(['Condition', 'Encounter', 'Appointment']);
    const condition = v?.resources[0];
    expect(condition?.fields).toEqual(['code', 'onset[x]', 'abatementPeriod.start', 'subject.reference']);
    expect(condition?.paths[1]?.steps).toEqual([['onsetDateTime', 'onsetAge', 'onsetPeriod', 'onsetRange', 'onsetString']]);
    expect(condition?.paths[2]?.steps).toEqual([['abatementPeriod'], ['start']]);
    expect(v?.resources[1]?.window).toEqual({ pastDays: 365, futureDays: 0 });
    expect(v?.resources[2]?.window).toEqual({ pastDays: 30, futureDays: 90 });
    expect(catalog.get('billing')).toBeUndefined();
    expect(Object.isFrozen(catalog)).toBe(true);
    expect(Object.isFrozen(condition?.paths[1]?.steps[0])).toBe(true);
  });

  it('meta, text, contained, extensions and element ids when listed explicitly', () => {
    const v = dataView(view('x', [{ type: 'Patient', fields: ['meta', 'text', 'contained', 'extension', 'modifierExtension', 'address.extension', 'name.id', 'telecom.extension.url'] }]));
    expect(v.resources[0]?.paths).toHaveLength(8);
  });

  it('backbone elements, contentReference recursion, references and six elements deep', () => {
    const v = dataView(view('x', [
      { type: 'Patient', fields: ['contact.name.family', 'communication.language.coding.code'] },
      { type: 'Questionnaire', fields: ['item.item.item.item.linkId'] },
      { type: 'Observation', fields: ['component.value[x]', 'valueQuantity.value'] },
      { type: 'Claim', fields: ['item.detail.subDetail.productOrService.coding.code'] },
    ]));
    expect(v.resources[3]?.paths[0]?.steps).toHaveLength(6);
  });
});

describe('parseViews refuses, every problem on one line', () => {
  it('JSON syntax errors, with line and column', () => {
    const [p] = problemsOf('{\n  "format": "ward.views.v1",\n  "views": [\n    {"name": "x",}\n  ]\n}');
    expect(p).toMatch(/^not valid JSON at line 4, column 18/);
  });

  it('a wrong format, a bad version, unknown top-level keys and an empty list', () => {
    expect(problemsOf(JSON.stringify({ format: 'ward.views.v2', version: 'has space', viewz: [], views: [] }))).toEqual([
      'format: must be "ward.views.v1"',
      expect.stringMatching(/^version: must be 1-64 letters/),
      'views: must list at least one view',
      'unknown key(s) "viewz"; keys are: format, version, description, views',
    ]);
    expect(problemsOf('[]')).toEqual(['the views document must be a JSON object']);
  });

  it('views that are not objects, unknown keys, missing description and resources', () => {
    expect(problemsOf(viewsText([scheduling, coding([{ type: 'Patient', fields: ['name'] }]), 7, { name: 'coding', resource: [] }]))).toEqual([
      'views[2]: a view must be a JSON object',
      'views[3] (name "coding"): description: is required: say which job the view serves',
      'views[3] (name "coding"): resources: must be a list of resource entries',
      'views[3] (name "coding"): unknown key(s) "resource"; keys are: name, description, resources',
      'views[3] (name "coding"): name: "coding" is already the name of views[1]; names must be unique',
    ]);
  });

  it('names a policy cannot name, and names it can that are not defined', () => {
    expect(problemsOf(viewsText([scheduling, view('codnig', [{ type: 'Patient', fields: ['name'] }]), view('Bad Name!', [{ type: 'Patient', fields: ['name'] }])]))).toEqual([
      'views[1] (name "codnig"): name: "codnig" is not a view a policy can name; views are: coding, scheduling',
      'views[2]: name: the name is not a view a policy can name; views are: coding, scheduling',
      'views: "coding" is not defined; define every view a policy can name (coding, scheduling)',
    ]);
  });

  it('resource entries: shape, unknown types, a type twice, empty fields, bad windows', () => {
    expect(
      codingProblems([
        { type: 'Patient', fields: [] },
        { type: 'Immunization', fields: ['status'] },
        { type: 'Encounter', fields: ['status'], windows: { pastDays: 1 } },
        { type: 'Encounter', fields: ['period'] },
        { fields: 'status' },
        { type: 'Condition', fields: [3], window: { pastDays: -1, futureDays: 1.5, past: 2 } },
        { type: 'Claim', fields: ['status'], window: { futureDays: 36526 } },
        { type: 'Practitioner', fields: ['name'], window: { pastDays: 30 } },
        'Observation',
      ]),
    ).toEqual([
      'views[1] (name "coding"): resources[0].fields: must list at least one element path',
      'views[1] (name "coding"): resources[1].type: "Immunization" is not a resource type Ward keeps; types are: Patient, Practitioner, PractitionerRole, Organization, Location, Encounter, Condition, Procedure, Observation, MedicationRequest, AllergyIntolerance, Coverage, Claim, ServiceRequest, DocumentReference, Schedule, Slot, Appointment, Questionnaire, QuestionnaireResponse, Consent',
      'views[1] (name "coding"): resources[2]: unknown key(s) "windows"; keys are: type, fields, window',
      'views[1] (name "coding"): resources[3].type: Encounter is already listed at resources[2]; list each type once',
      'views[1] (name "coding"): resources[4].type: is required (a resource type such as Patient)',
      'views[1] (name "coding"): resources[4].fields: must be a list of element paths',
      'views[1] (name "coding"): resources[5].fields[0]: must be a string',
      'views[1] (name "coding"): resources[5].window.pastDays: must not be negative',
      'views[1] (name "coding"): resources[5].window.futureDays: must be a whole number of days',
      'views[1] (name "coding"): resources[5].window: unknown key(s) "past"; keys are: pastDays, futureDays',
      'views[1] (name "coding"): resources[6].window.pastDays: is required (a whole number of days)',
      'views[1] (name "coding"): resources[6].window.futureDays: must be at most 36525 days (a hundred years)',
      'views[1] (name "coding"): resources[7].window: Practitioner has no clinical date, so a window would keep no Practitioner; leave the window out',
      'views[1] (name "coding"): resources[8]: a resource entry must be a JSON object',
    ]);
  });

  it('fields that are not elements of the type (checked against the R4 definitions)', () => {
    expect(
      codingProblems([
        { type: 'Condition', fields: ['code', 'clinicalStatus', 'onset[x]', 'nmae', 'code.codng', 'onsetPeriod.strat', 'onsetQuantity', 'value[x]'] },
        { type: 'Patient', fields: ['birthDate.year', 'deceased[x].value', 'contained.id', 'name.given.value', 'Name', 'name..given', 'name given', 'id', 'resourceType', 'address.line[0]'] },
        { type: 'Claim', fields: ['item.detail.subDetail.productOrService.coding.code.value', 'id.value'] },
      ]),
    ).toEqual([
      'views[1] (name "coding"): resources[0].fields[3]: "nmae" is not an element of Condition',
      'views[1] (name "coding"): resources[0].fields[4]: "code.codng" is not an element of Condition: CodeableConcept has no element "codng"',
      'views[1] (name "coding"): resources[0].fields[5]: "onsetPeriod.strat" is not an element of Condition: Period has no element "strat"',
      'views[1] (name "coding"): resources[0].fields[6]: "onsetQuantity" is not an element of Condition',
      'views[1] (name "coding"): resources[0].fields[7]: "value[x]" is not an element of Condition',
      'views[1] (name "coding"): resources[1].fields[0]: "birthDate.year": birthDate is a date, which has no sub-elements',
      'views[1] (name "coding"): resources[1].fields[1]: "deceased[x].value": deceased[x] is a choice of types; to go deeper, name one variant (deceasedBoolean, deceasedDateTime)',
      'views[1] (name "coding"): resources[1].fields[2]: "contained.id": contained holds whole resources; list contained itself or leave it out',
      'views[1] (name "coding"): resources[1].fields[3]: "name.given.value": name.given is a string, which has no sub-elements',
      'views[1] (name "coding"): resources[1].fields[4]: "Name" is not an element path (element names joined by dots, such as address.state or onset[x])',
      'views[1] (name "coding"): resources[1].fields[5]: "name..given" is not an element path (element names joined by dots, such as address.state or onset[x])',
      'views[1] (name "coding"): resources[1].fields[6]: a field that is not an element path (10 characters) is not an element path (element names joined by dots, such as address.state or onset[x])',
      'views[1] (name "coding"): resources[1].fields[7]: "id" is always returned; leave it out',
      'views[1] (name "coding"): resources[1].fields[8]: "resourceType" is always returned; leave it out',
      'views[1] (name "coding"): resources[1].fields[9]: "address.line[0]" is not an element path (element names joined by dots, such as address.state or onset[x])',
      'views[1] (name "coding"): resources[2].fields[0]: "item.detail.subDetail.productOrService.coding.code.value" is more than 6 elements deep; name an element higher up',
      'views[1] (name "coding"): resources[2].fields[1]: "id.value": id is a string, which has no sub-elements',
    ]);
  });

  it('fields listed twice or covered by another field (an ancestor, or a whole choice element)', () => {
    expect(
      codingProblems([
        { type: 'Patient', fields: ['name', 'telecom', 'name.given', 'address.state', 'address', 'telecom'] },
        { type: 'Condition', fields: ['onset[x]', 'onsetPeriod.start', 'onsetDateTime', 'abatementPeriod.start', 'abatement[x]'] },
      ]),
    ).toEqual([
      'views[1] (name "coding"): resources[0].fields[2]: "name.given" is already covered by "name" (fields[0]); list one',
      'views[1] (name "coding"): resources[0].fields[4]: "address" covers "address.state" (fields[3]); list one',
      'views[1] (name "coding"): resources[0].fields[5]: "telecom" is listed twice (fields[1])',
      'views[1] (name "coding"): resources[1].fields[1]: "onsetPeriod.start" is already covered by "onset[x]" (fields[0]); list one',
      'views[1] (name "coding"): resources[1].fields[2]: "onsetDateTime" is already covered by "onset[x]" (fields[0]); list one',
      'views[1] (name "coding"): resources[1].fields[4]: "abatement[x]" covers "abatementPeriod.start" (fields[3]); list one',
    ]);
  });

  it('reports every problem in one line, counting them, and stops listing after the limit', () => {
    const fields = Array.from({ length: MAX_REPORTED_PROBLEMS + 5 }, (_, i) => `nope${i}`);
    const message = messageOf(viewsText([scheduling, coding([{ type: 'Patient', fields }])]));
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^the data views are invalid \(25 problems\): views\[1\] \(name "coding"\): resources\[0\]\.fields\[0\]: "nope0" is not an element of Patient \| /);
    expect(message).toMatch(/ \| \.\.\. and 5 more$/);
    expect(message.split(' | ')).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
  });

  it('never echoes text that is not shaped like a name, type or path', () => {
    const secret = 'John Smith 1934-02-03 SSN 999-12-3456';
    const message = messageOf(viewsText([view(secret, [{ type: secret, fields: [secret] }]), coding([{ type: 'Patient', fields: [secret] }])]));
    expect(message).not.toContain('John');
    expect(message).not.toContain('999');
  });
});

describe('dataView', () => {
  it('compiles one view on its own, or throws views.invalid naming it', () => {
    expect(dataView(view('any-name', [{ type: 'Patient', fields: ['name'] }])).name).toBe('any-name');
    expect(() => dataView(view('x', [{ type: 'Patient', fields: ['nmae'] }]))).toThrow('view (name "x"): resources[0].fields[0]: "nmae" is not an element of Patient');
    expect(() => dataView(view('Not A Name', [{ type: 'Patient', fields: ['name'] }]))).toThrow('view: name: must match');
  });
});
