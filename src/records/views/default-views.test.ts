/**
 * The shipped views (`data/views/default-views.json`) parse, define every view a policy can
 * name, list only real R4 elements, and keep to the principles `data/views/README.md` states.
 */
import { getDataType } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { AUDIT_FIELD_PATTERN } from '../../audit/audit-entry.js';
import { DATA_VIEW_NAMES } from '../../policy/data-views.js';
import type { DataView, ViewResource } from './data-view.js';
import { defaultCatalog } from './testing/view-world.js';

const catalog = defaultCatalog();
const views = [...catalog.views.values()];
const entry = (name: string, type: string): ViewResource | undefined => catalog.get(name)?.resources.find((r) => r.type === type);
const fieldsOf = (name: string, type: string): readonly string[] => entry(name, type)?.fields ?? [];

/** Every `Type.k1.k2` the view could ever disclose (choice elements expanded), ids included. */
function possibleDisclosures(v: DataView): string[] {
  const out: string[] = [];
  for (const r of v.resources) {
    out.push(`${r.type}.id`);
    for (const p of r.paths) {
      let prefixes: string[] = [r.type];
      for (const keys of p.steps) prefixes = prefixes.flatMap((pre) => keys.map((k) => `${pre}.${k}`));
      out.push(...prefixes);
    }
  }
  return out;
}

describe('default views', () => {
  it('parse, and define exactly the views a policy can name', () => {
    expect([...catalog.views.keys()].sort()).toEqual([...DATA_VIEW_NAMES].sort());
    for (const v of views) expect(v.description.length).toBeGreaterThan(40);
  });

  it('list only elements of the R4 definitions (checked again here, without the parser)', () => {
    for (const v of views) {
      for (const r of v.resources) {
        const elements = getDataType(r.type).elements;
        for (const field of r.fields) {
          const first = field.split('.')[0] ?? '';
          const known = Object.hasOwn(elements, first) || Object.entries(elements).some(([name, e]) => name.endsWith('[x]') && e.type.some((t) => name.slice(0, -3) + t.code.charAt(0).toUpperCase() + t.code.slice(1) === first));
          expect(known, `${v.name}: ${r.type}.${field}`).toBe(true);
        }
      }
    }
  });

  it('disclose only what an audit entry can record (Type.path names, at most 512 per read)', () => {
    for (const v of views) {
      const all = possibleDisclosures(v);
      expect(all.length, v.name).toBeLessThanOrEqual(512);
      for (const d of all) expect(d, `${v.name}: ${d}`).toMatch(AUDIT_FIELD_PATTERN);
    }
  });

  it('never list narrative, metadata, contained resources or extensions', () => {
    for (const v of views) {
      for (const r of v.resources) {
        for (const f of r.fields) {
          expect(['text', 'meta', 'contained', 'implicitRules'], `${v.name}: ${r.type}.${f}`).not.toContain(f);
          expect(f.split('.').some((s) => s === 'extension' || s === 'modifierExtension'), `${v.name}: ${r.type}.${f}`).toBe(false);
        }
      }
    }
  });

  it('keep identifiers, addresses, free-text notes and clinical content to the jobs that need them', () => {
    const listing = (pred: (r: ViewResource) => boolean): string[] => views.filter((v) => v.resources.some(pred)).map((v) => v.name).sort();
    expect(listing((r) => r.type === 'Patient' && r.fields.includes('identifier'))).toEqual(['audit']);
    expect(listing((r) => r.type === 'Patient' && r.fields.includes('address'))).toEqual(['billing', 'clinical', 'intake']);
    expect(listing((r) => r.fields.some((f) => f === 'note' || f.endsWith('.note')))).toEqual(['clinical']);
    expect(listing((r) => r.type === 'DocumentReference' && r.fields.includes('content'))).toEqual(['clinical', 'coding']);
    expect(listing((r) => r.type === 'Condition')).toEqual(['clinical', 'coding', 'prior-auth']);
    expect(listing((r) => r.type === 'Observation')).toEqual(['clinical']);
  });

  it('audit: the patient by name, birth date and identifier, and nothing else', () => {
    expect(catalog.get('audit')?.resources.map((r) => [r.type, r.fields, r.window])).toEqual([['Patient', ['name', 'birthDate', 'identifier'], undefined]]);
  });

  it('scheduling: contact and coverage, no address, identifier or clinical types', () => {
    expect(fieldsOf('scheduling', 'Patient')).toEqual(['active', 'name', 'telecom', 'gender', 'birthDate', 'communication']);
    expect(catalog.get('scheduling')?.resources.map((r) => r.type)).toEqual(['Patient', 'Coverage', 'Appointment', 'Slot', 'Schedule', 'Location', 'Practitioner', 'PractitionerRole', 'Organization']);
    expect(entry('scheduling', 'Appointment')?.window).toEqual({ pastDays: 180, futureDays: 365 });
    expect(fieldsOf('scheduling', 'Appointment')).not.toContain('reasonCode');
  });

  it('windows: recent activity is windowed; lifelong facts (problems, allergies, coverage) are not', () => {
    const windowed = views.flatMap((v) => v.resources.filter((r) => r.window !== undefined).map((r) => `${v.name}:${r.type}:${r.window?.pastDays}+${r.window?.futureDays}`));
    expect(windowed.sort()).toEqual([
      'billing:Claim:730+0',
      'billing:Encounter:730+0',
      'coding:DocumentReference:365+0',
      'coding:Encounter:365+0',
      'coding:Procedure:365+0',
      'intake:MedicationRequest:365+0',
      'intake:QuestionnaireResponse:365+0',
      'prior-auth:Claim:365+0',
      'prior-auth:MedicationRequest:730+0',
      'prior-auth:Procedure:730+0',
      'prior-auth:ServiceRequest:180+365',
      'scheduling:Appointment:180+365',
      'scheduling:Slot:1+180',
    ]);
    for (const v of views) {
      for (const type of ['Condition', 'AllergyIntolerance', 'Coverage', 'Consent']) expect(entry(v.name, type)?.window, `${v.name}:${type}`).toBeUndefined();
    }
  });
});
