/**
 * The proof: over random views (random types, random real element paths of those types
 * from the R4 definitions, random windows) and random resources (JSON-ish values under those
 * element names and others, extensions, modifier extensions, `_` twins, `__proto__`, random
 * dates), a caller never receives a field outside its view, nor anything that carries a
 * modifier extension the view does not list (FHIR R4 extensibility: an element whose meaning a
 * modifier extension changes must not be shown as if unmodified; views fail closed and drop
 * it, or withhold the whole resource when the modifier sits on the resource itself). The checks
 * below read the view as written (its `fields` strings), not the compiled form `applyView`
 * uses, so they do not share its mistakes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_FIELD_PATTERN } from '../../audit/audit-entry.js';
import { clinicalDateElements, clinicalInstantOf, hasClinicalDate } from '../clinical-date.js';
import { SUPPORTED_RESOURCE_TYPES } from '../fhir-resource.js';
import type { FhirResource } from '../fhir-resource.js';
import { applyView } from './apply-view.js';
import type { DataView } from './data-view.js';
import { resolveFieldPath } from './field-path.js';
import { dataView } from './parse-views.js';
import { elementPaths } from './testing/element-paths.js';

const DAY = 86_400_000;
const PATHS = new Map(SUPPORTED_RESOURCE_TYPES.map((t) => [t, elementPaths(t, 3)]));
const pathsOf = (type: string): string[] => PATHS.get(type as (typeof SUPPORTED_RESOURCE_TYPES)[number]) ?? [];

/** The JSON names of the typed variants of written choice path `path` (`onset[x]`: `onsetDateTime`, `onsetAge`, ...), from the R4 definitions. */
function variantsOf(type: string, path: string): ReadonlySet<string> {
  const base = path.slice(0, -'[x]'.length);
  const found = new Set(pathsOf(type).filter((p) => p.startsWith(base) && /^[A-Z][A-Za-z0-9]*$/.test(p.slice(base.length))).map((p) => p.slice(p.lastIndexOf('.') + 1)));
  if (found.size === 0) throw new Error(`no variants of ${type}.${path} in the generator's paths`);
  return found;
}

// ---------- views ----------

/** Whether listed segment `p` names JSON key `k`: the same name, or a variant of a whole choice element. */
function segmentMatches(p: string, k: string): boolean {
  if (!p.endsWith('[x]')) return p === k;
  const base = p.slice(0, -3);
  return k.startsWith(base) && /^[A-Z]/.test(k.slice(base.length));
}

/** Whether written path `outer` already reaches everything written path `inner` does. */
function writtenCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  if (o.length > i.length) return false;
  return o.every((seg, n) => {
    const other = i[n] ?? '';
    return seg === other || (seg.endsWith('[x]') && !other.endsWith('[x]') && segmentMatches(seg, other));
  });
}

/** Drops paths that cover or are covered by one kept earlier (the parser refuses such pairs). */
function prune(paths: readonly string[]): string[] {
  const kept: string[] = [];
  for (const p of paths) if (!kept.some((k) => writtenCovers(k, p) || writtenCovers(p, k))) kept.push(p);
  return kept;
}

const windowArb = fc.record({ pastDays: fc.integer({ min: 0, max: 1500 }), futureDays: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }) });

const entryArb = (type: string) =>
  fc.record({
    // Drawn from the top-level elements, which most views list, from any depth, and now and then
    // a path ending in `modifierExtension` (the resource's own, or a backbone element's).
    fields: fc
      .uniqueArray(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...pathsOf(type).filter((p) => !p.includes('.'))) },
          { weight: 4, arbitrary: fc.constantFrom(...pathsOf(type)) },
          { weight: 1, arbitrary: fc.constantFrom(...pathsOf(type).filter((p) => p.endsWith('modifierExtension'))) },
        ),
        { minLength: 1, maxLength: 7 },
      )
      .map(prune),
    window: hasClinicalDate(type) ? fc.option(windowArb, { nil: undefined, freq: 2 }) : fc.constant(undefined),
  }).map(({ fields, window }) => ({ type, fields, ...(window !== undefined ? { window } : {}) }));

const viewArb: fc.Arbitrary<DataView> = fc
  .uniqueArray(fc.constantFrom(...SUPPORTED_RESOURCE_TYPES), { minLength: 1, maxLength: 4 })
  .chain((types) => fc.tuple(...types.map(entryArb)))
  .map((resources) => dataView({ name: 'random', description: 'a random view', resources }));

// ---------- resources ----------

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** A FHIR date of an instant around `now` in one of its forms, or text and values that are not dates. */
const dateTextArb = (now: Date): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: -1600 * DAY, max: 500 * DAY }).map((ms) => new Date(now.getTime() + ms)), fc.integer({ min: -48, max: 56 }), fc.constantFrom('full', 'Z', 'day', 'month', 'year')).map(([d, quarterHours, form]) => {
    const offset = quarterHours * 15;
    const local = new Date(d.getTime() + offset * 60_000);
    const day = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
    const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
    if (form === 'Z') return d.toISOString();
    if (form === 'day') return day;
    if (form === 'month') return day.slice(0, 7);
    if (form === 'year') return day.slice(0, 4);
    return `${day}T${time}${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('soon', '2021-13-01', '2021-05-05T10:00:00', '', 42, null, { start: '2021' }) },
);

const leafArb: fc.Arbitrary<unknown> = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));

function jsonishArb(keys: readonly string[]): fc.Arbitrary<unknown> {
  const keyArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
  return fc.letrec<{ value: unknown; object: Record<string, unknown>; array: unknown[] }>((tie) => ({
    value: fc.oneof({ maxDepth: 4, depthIdentifier: 'jsonish' }, leafArb, tie('object'), tie('array'), tie('object')),
    object: fc.dictionary(keyArb, tie('value'), { maxKeys: 4 }),
    array: fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'jsonish' }),
  })).value;
}

const EXTRA_KEYS = ['extension', 'modifierExtension', '_given', '_birthDate', 'text', 'meta', 'contained', '__proto__', 'url', 'value', 'display', 'reference', 'start', 'end', 'resourceType'];

/** The JSON keys the view's paths name, every top-level element of its types, and troublemakers. */
function keysFor(view: DataView): string[] {
  const keys = new Set<string>(EXTRA_KEYS);
  for (const r of view.resources) {
    for (const p of r.paths) for (const step of p.steps) for (const k of step) keys.add(k);
    for (const p of pathsOf(r.type)) if (!p.includes('.') && !p.endsWith('[x]')) keys.add(p);
    for (const d of clinicalDateElements(r.type)) for (const seg of d.split('.')) keys.add(seg);
  }
  return [...keys];
}

/** Sets an own property, `__proto__` included, as JSON.parse would. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A modifier extension as FHIR writes one: it changes the meaning of the element that carries it. */
const MODIFIER = [{ url: 'http://example.org/fhir/StructureDefinition/refuted', valueBoolean: true }];

/** Gives `value` (or the first object of an array) a modifier extension. */
function modify(value: unknown): void {
  const target = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (isPlain(target)) put(target, 'modifierExtension', structuredClone(MODIFIER));
}

/**
 * Plants values along the entry's paths (a random variant of each choice, objects or arrays of
 * objects on the way, an unlisted sibling here and there, a modifier extension on an element
 * here and there), so that random resources actually reach the listed elements and sit right
 * beside the unlisted ones.
 */
function plant(body: Record<string, unknown>, view: DataView, type: string, seeds: readonly number[], leaves: readonly unknown[], noise: readonly string[]): void {
  const entry = view.resources.find((r) => r.type === type);
  if (entry === undefined) return;
  let n = 0;
  const next = (): number => seeds[n++ % seeds.length] ?? 0;
  // A fresh copy each time: planting one object inside itself would make a cycle, which JSON cannot hold.
  const leaf = (): unknown => structuredClone(leaves[next() % leaves.length]);
  for (const path of entry.paths) {
    if (next() % 5 === 0) continue;
    let container = body;
    path.steps.forEach((keys, i) => {
      const key = keys[next() % keys.length] ?? '';
      if (i === path.steps.length - 1) {
        const value = leaf();
        if (next() % 4 === 0) modify(value);
        put(container, key, value);
        return;
      }
      const existing = container[key];
      let target: Record<string, unknown>;
      if (Array.isArray(existing) && isPlain(existing[0])) target = existing[0];
      else if (isPlain(existing)) target = existing;
      else {
        target = {};
        put(container, key, next() % 2 === 0 ? target : [target, { [noise[next() % noise.length] ?? 'x']: leaf() }, leaf()]);
      }
      if (next() % 2 === 0) put(target, noise[next() % noise.length] ?? 'x', leaf());
      if (next() % 6 === 0) modify(target);
      container = target;
    });
  }
}

function resourcesArb(view: DataView, now: Date): fc.Arbitrary<FhirResource[]> {
  const types = [...view.resources.map((r) => r.type), 'Patient', 'Encounter', 'Observation'];
  const keys = keysFor(view);
  const valueArb = fc.oneof({ weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: leafArb }, { weight: 2, arbitrary: jsonishArb(keys) });
  const bodyArb = fc.dictionary<unknown>(fc.constantFrom(...keys), valueArb, { maxKeys: 10 });
  const leavesArb = fc.array(fc.oneof({ weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 4 }) }, { weight: 2, arbitrary: jsonishArb(keys) }), { minLength: 4, maxLength: 4 });
  const one = fc.record({
    type: fc.constantFrom(...types),
    body: bodyArb,
    seeds: fc.array(fc.nat({ max: 997 }), { minLength: 24, maxLength: 24 }),
    leaves: leavesArb,
    date: fc.option(dateTextArb(now), { freq: 5 }),
    slot: fc.nat(),
    hasId: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    modified: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
  return fc.array(one, { maxLength: 8 }).map((items) =>
    items.map(({ type, body, seeds, leaves, date, slot, hasId, modified }, i) => {
      const resource: FhirResource = { resourceType: type };
      for (const k of Object.keys(body)) put(resource, k, body[k]);
      plant(resource, view, type, seeds, leaves, keys);
      if (modified) modify(resource);
      resource.resourceType = type;
      if (hasId) resource.id = `r${i}`;
      else delete resource.id;
      const elements = clinicalDateElements(type);
      const element = elements[slot % Math.max(elements.length, 1)];
      if (date !== null && element !== undefined) {
        const [first, second] = element.split('.');
        if (first !== undefined) resource[first] = second === undefined ? date : { [second]: date };
      }
      return resource;
    }),
  );
}

const nowArb = fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true });

const caseArb = fc.tuple(viewArb, nowArb).chain(([view, now]) => fc.record({ view: fc.constant(view), resources: resourcesArb(view, now), now: fc.constant(now) }));

// ---------- checks ----------

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every key path (array indices left out) that ends at a primitive; fails on an empty or non-JSON value. */
function leafPaths(value: unknown, at: string[], out: string[][]): void {
  if (Array.isArray(value)) {
    expect(value.length, `empty array at ${at.join('.')}`).toBeGreaterThan(0);
    for (const v of value as unknown[]) leafPaths(v, at, out);
  } else if (isPlain(value)) {
    const keys = Object.keys(value);
    expect(keys.length, `empty object at ${at.join('.')}`).toBeGreaterThan(0);
    for (const k of keys) leafPaths(value[k], [...at, k], out);
  } else {
    expect(['string', 'boolean', 'number'], `a ${typeof value} at ${at.join('.')}`).toContain(typeof value);
    if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
    out.push(at);
  }
}

const isExtensionKey = (k: string): boolean => k === 'extension' || k === 'modifierExtension' || k.startsWith('_');

/** Whether the view entry's written fields allow key path `segs` (a path of the output). */
function allowed(fields: readonly string[], segs: readonly string[]): boolean {
  if (segs.length === 1 && (segs[0] === 'resourceType' || segs[0] === 'id')) return true;
  return fields.some((f) => {
    const p = f.split('.');
    if (p.length > segs.length || !p.every((seg, i) => segmentMatches(seg, segs[i] ?? ''))) return false;
    // Below the listed element, extensions only when the path itself names them.
    const last = p[p.length - 1] ?? '';
    return last === 'extension' || last === 'modifierExtension' || !segs.slice(p.length).some(isExtensionKey);
  });
}

/** The concrete key paths in `value` that written path `p` reaches exactly. */
function reached(value: unknown, p: readonly string[], at: string[], out: Set<string>): void {
  if (p.length === 0) {
    out.add(at.join('.'));
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) reached(v, p, at, out);
    return;
  }
  if (!isPlain(value)) return;
  const [head, ...rest] = p;
  for (const k of Object.keys(value)) if (head !== undefined && segmentMatches(head, k)) reached(value[k], rest, [...at, k], out);
}

// ---------- the model: README "Applying a view", step 3, from the written fields ----------

const carriesModifier = (v: unknown): boolean => isPlain(v) && Object.hasOwn(v, 'modifierExtension');

/** A written path and how many of its segments the keys on the way have matched. */
interface Cursor {
  readonly segs: readonly string[];
  readonly at: number;
}

function cursorMatches(type: string, c: Cursor, key: string): boolean {
  const seg = c.segs[c.at] ?? '';
  return seg.endsWith('[x]') ? variantsOf(type, c.segs.slice(0, c.at + 1).join('.')).has(key) : seg === key;
}

/** The object of the keys `each` keeps (undefined: dropped), or undefined when it keeps none. */
function modelObject(value: Record<string, unknown>, each: (key: string) => unknown): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const kept = each(k);
    if (kept !== undefined) put(out, k, kept);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * A listed element, copied: JSON values only, empties dropped, and unless the path names
 * `extension` or `modifierExtension` (`keep`), without extensions and `_` twins, and without any
 * object that carries a modifier extension (dropped whole: it may mean something else).
 */
function modelCopy(value: unknown, keep: boolean): unknown {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) {
    const out = (value as unknown[]).map((v) => modelCopy(v, keep)).filter((v) => v !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (!isPlain(value)) return undefined;
  if (!keep && carriesModifier(value)) return undefined;
  return modelObject(value, (k) => (keep || !isExtensionKey(k) ? modelCopy(value[k], keep) : undefined));
}

/**
 * On the way to listed elements (`cursors`, each with segments left): only the keys they name, in
 * every array item; an object carrying a modifier extension is dropped unless a path goes on
 * into its `modifierExtension`.
 */
function modelProject(type: string, value: unknown, cursors: readonly Cursor[]): unknown {
  if (Array.isArray(value)) {
    const out = (value as unknown[]).map((v) => modelProject(type, v, cursors)).filter((v) => v !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (!isPlain(value)) return undefined;
  if (carriesModifier(value) && !cursors.some((c) => c.segs[c.at] === 'modifierExtension')) return undefined;
  return modelObject(value, (k) => {
    const next = cursors.filter((c) => cursorMatches(type, c, k)).map((c) => ({ segs: c.segs, at: c.at + 1 }));
    if (next.length === 0) return undefined;
    const ended = next.find((c) => c.at === c.segs.length);
    if (ended === undefined) return modelProject(type, value[k], next);
    const last = ended.segs[ended.segs.length - 1];
    return modelCopy(value[k], last === 'extension' || last === 'modifierExtension');
  });
}

/**
 * What `applyView` must return: the resources of the view's types inside their windows, except
 * those carrying a modifier extension on the resource itself when no field starts with
 * `modifierExtension`, in input order, each as `resourceType`, a string `id` and the listed paths.
 */
function modelView(view: DataView, input: readonly FhirResource[], inWindow: (r: FhirResource) => boolean): FhirResource[] {
  const out: FhirResource[] = [];
  for (const r of input) {
    const entry = view.resources.find((e) => e.type === r.resourceType);
    if (entry === undefined || !inWindow(r)) continue;
    const cursors = entry.fields.map((f) => ({ segs: f.split('.'), at: 0 }));
    if (carriesModifier(r) && !cursors.some((c) => c.segs[0] === 'modifierExtension')) continue;
    const shown: FhirResource = { resourceType: entry.type };
    if (typeof r.id === 'string') shown.id = r.id;
    const body = modelProject(entry.type, r, cursors);
    if (isPlain(body)) for (const k of Object.keys(body)) put(shown, k, body[k]);
    out.push(shown);
  }
  return out;
}

// ---------- nothing carrying an unlisted modifier extension ----------

/**
 * Whether an object at key path `at` (indices left out; [] is the resource) may carry a modifier
 * extension and still be shown: a written field goes on from `at` into `modifierExtension`, or
 * ends in `extension` or `modifierExtension` at or above `at` (which keeps everything below).
 */
function modifierListed(fields: readonly string[], at: readonly string[]): boolean {
  return fields.some((f) => {
    const p = f.split('.');
    const last = p[p.length - 1];
    const keepsBelow = (last === 'extension' || last === 'modifierExtension') && p.length <= at.length && p.every((seg, i) => segmentMatches(seg, at[i] ?? ''));
    const goesInto = p.length > at.length && p[at.length] === 'modifierExtension' && at.every((k, i) => segmentMatches(p[i] ?? '', k));
    return keepsBelow || goesInto;
  });
}

const REMOVED = Symbol('removed');

/** A copy of `value` without any object that carries a modifier extension the fields do not list. */
function withoutCarriers(value: unknown, fields: readonly string[], at: readonly string[]): unknown {
  if (Array.isArray(value)) return (value as unknown[]).map((v) => withoutCarriers(v, fields, at)).filter((v) => v !== REMOVED);
  if (!isPlain(value)) return value;
  if (carriesModifier(value) && !modifierListed(fields, at)) return REMOVED;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const kept = withoutCarriers(value[k], fields, [...at, k]);
    if (kept !== REMOVED) put(out, k, kept);
  }
  return out;
}

function objectsIn(value: unknown, into: Set<unknown>): void {
  if (typeof value !== 'object' || value === null || into.has(value)) return;
  into.add(value);
  for (const v of Object.values(value)) objectsIn(v, into);
}

function check(view: DataView, input: readonly FhirResource[], now: Date): void {
  const snapshot = structuredClone(input);
  const { resources, disclosed } = applyView(view, input, now);
  const entryOf = new Map(view.resources.map((r) => [r.type as string, r]));
  const byId = new Map(input.filter((r) => typeof r.id === 'string').map((r) => [r.id, r]));
  const inWindow = (r: FhirResource): boolean => {
    const w = entryOf.get(r.resourceType)?.window;
    if (w === undefined) return true;
    const t = clinicalInstantOf(r);
    return t !== undefined && t >= now.getTime() - w.pastDays * DAY && t <= now.getTime() + w.futureDays * DAY;
  };

  // Exactly the resources of the view's types whose date lies in the window, in input order, less
  // those a modifier extension the view does not list changes; each exactly as the model projects it.
  const expected = modelView(view, input, inWindow);
  expect(resources.map((r) => `${r.resourceType}/${r.id ?? '-'}`)).toEqual(expected.map((r) => `${r.resourceType}/${r.id ?? '-'}`));
  expect(resources).toEqual(expected);

  // Nothing carrying an unlisted modifier extension reaches the output: removing every such object
  // (a resource carrying one at its root included) from the input beforehand changes nothing.
  // Windows are left out here: they read the clinical date wherever it sits.
  const unwindowed = dataView({ name: view.name, description: view.description, resources: view.resources.map((r) => ({ type: r.type, fields: r.fields })) });
  const cleaned: FhirResource[] = [];
  for (const r of input) {
    const kept = withoutCarriers(r, entryOf.get(r.resourceType)?.fields ?? [], []);
    if (isPlain(kept)) cleaned.push({ ...kept, resourceType: r.resourceType });
  }
  expect(applyView(unwindowed, input, now)).toEqual(applyView(unwindowed, cleaned, now));

  const expectedDisclosed = new Set<string>();
  for (const out of resources) {
    const entry = entryOf.get(out.resourceType);
    expect(entry, `type ${out.resourceType} is not in the view`).toBeDefined();
    if (entry === undefined) continue;
    if (typeof out.id === 'string') {
      const source = byId.get(out.id);
      expect(source && inWindow(source), `${out.resourceType}/${out.id} is outside the window`).toBe(true);
      expectedDisclosed.add(`${out.resourceType}.id`);
    }
    // Every path of the output is resourceType, id or within a listed path of its type.
    const leaves: string[][] = [];
    leafPaths(out, [], leaves);
    for (const segs of leaves) expect(allowed(entry.fields, segs), `${out.resourceType}.${segs.join('.')} is outside ${JSON.stringify(entry.fields)}`).toBe(true);
    for (const f of entry.fields) {
      const hits = new Set<string>();
      reached(out, f.split('.'), [], hits);
      for (const h of hits) expectedDisclosed.add(`${out.resourceType}.${h}`);
    }
  }
  // disclosed lists exactly the Type.path of listed paths present: sorted, unique, names only.
  expect(disclosed).toEqual([...expectedDisclosed].sort());
  for (const d of disclosed) expect(d).toMatch(AUDIT_FIELD_PATTERN);

  // Deep copies: no object of the output is one of the input's, and the input is unchanged.
  const inputObjects = new Set<unknown>();
  objectsIn(input, inputObjects);
  const outputObjects = new Set<unknown>();
  objectsIn(resources, outputObjects);
  for (const o of outputObjects) expect(inputObjects.has(o)).toBe(false);
  expect(input).toEqual(snapshot);
}

describe('applyView property: a caller never receives a field outside its view', () => {
  it('the element paths the generator draws from are all accepted by the parser', () => {
    for (const type of SUPPORTED_RESOURCE_TYPES) {
      const paths = pathsOf(type);
      expect(paths.length).toBeGreaterThan(20);
      for (const p of paths) expect(resolveFieldPath(type, p).ok, `${type}.${p}`).toBe(true);
    }
  });

  it('over random views, resources and clocks', () => {
    fc.assert(
      fc.property(caseArb, ({ view, resources, now }) => {
        check(view, resources, now);
      }),
      { numRuns: 400 },
    );
  });

  it('over the Synthea-shaped corner cases: listed extensions, whole choice elements, nested arrays', () => {
    const view = dataView({ name: 'corners', description: 'd', resources: [{ type: 'Patient', fields: ['extension', 'name.given', 'deceased[x]', 'address.extension.url'] }, { type: 'Observation', fields: ['component.value[x]', 'valueQuantity.value'], window: { pastDays: 30 } }] });
    fc.assert(
      fc.property(nowArb.chain((now) => fc.tuple(resourcesArb(view, now), fc.constant(now))), ([resources, now]) => {
        check(view, resources, now);
      }),
      { numRuns: 200 },
    );
  });

  it('over the modifier extension corner cases: listed on the resource, on a backbone element, kept under a listed extension, unlisted', () => {
    const view = dataView({ name: 'modifiers', description: 'd', resources: [
      { type: 'AllergyIntolerance', fields: ['code', 'reaction.modifierExtension', 'reaction.manifestation'] },
      { type: 'Patient', fields: ['modifierExtension.url', 'contact.name', 'extension'] },
      { type: 'Encounter', fields: ['hospitalization', 'participant.individual'], window: { pastDays: 400 } },
    ] });
    fc.assert(
      fc.property(nowArb.chain((now) => fc.tuple(resourcesArb(view, now), fc.constant(now))), ([resources, now]) => {
        check(view, resources, now);
      }),
      { numRuns: 200 },
    );
  });
});
