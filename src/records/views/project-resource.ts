/**
 * Projects one resource onto a view entry's element paths: `resourceType`, `id`, and exactly
 * what the listed paths reach, deep-copied (45 CFR 164.514(d)(3): disclose only what the job
 * needs). A nested path keeps only its named sub-element in every array item and object on the
 * way (`address.state` keeps `[{ state }]`), and whatever comes out empty is dropped.
 *
 * Inside a listed element, `extension` (and the `_name` twins that carry a primitive's
 * extensions) are removed at every depth unless the path itself names them: US Core and
 * Synthea put race, ethnicity, birthplace, mother's maiden name and the home's latitude and
 * longitude in extensions, none of which a view listing `address` meant. An element carrying
 * an unlisted `modifierExtension` is dropped whole (its meaning is changed; FHIR R4
 * extensibility.html#modifierExtension forbids processing it as if unmodified).
 *
 * Pure; only JSON values are copied (strings, finite numbers, booleans, arrays, plain objects),
 * and a value met again inside itself (a cycle, which JSON cannot hold) is dropped.
 */
import type { FhirResource } from '../fhir-resource.js';
import type { ViewPath, ViewResource } from './data-view.js';

interface ProjectionNode {
  /** The path ends here: keep the whole value below. */
  terminal: boolean;
  /** The path named `extension` or `modifierExtension` itself: keep extensions below too. */
  keepExtensions: boolean;
  readonly children: Map<string, ProjectionNode>;
}

/** Beyond this depth a value is dropped (FHIR resources nest far less; fail closed on the odd one). */
const MAX_DEPTH = 64;

/** The objects on the way down: a value met again inside itself (a cycle, never JSON) is dropped. */
type Ancestors = Set<object>;

const newNode = (): ProjectionNode => ({ terminal: false, keepExtensions: false, children: new Map() });

function insert(node: ProjectionNode, steps: readonly (readonly string[])[], i: number): void {
  const keys = steps[i];
  if (keys === undefined) return;
  const last = i === steps.length - 1;
  for (const key of keys) {
    let child = node.children.get(key);
    if (child === undefined) {
      child = newNode();
      node.children.set(key, child);
    }
    if (last) {
      child.terminal = true;
      if (key === 'extension' || key === 'modifierExtension') child.keepExtensions = true;
    } else {
      insert(child, steps, i + 1);
    }
  }
}

const trees = new WeakMap<readonly ViewPath[], ProjectionNode>();

/** The paths as a tree of JSON keys (cached per compiled entry: views are frozen). */
function treeOf(paths: readonly ViewPath[]): ProjectionNode {
  let root = trees.get(paths);
  if (root === undefined) {
    root = newNode();
    for (const p of paths) insert(root, p.steps, 0);
    // Always returned from the resource itself; a path may not replace them.
    root.children.delete('resourceType');
    root.children.delete('id');
    trees.set(paths, root);
  }
  return root;
}

/** Whether an element (or resource) carries a modifier extension (FHIR R4 extensibility.html#modifierExtension). */
export function hasModifier(v: unknown): boolean {
  return isPlainObject(v) && Object.hasOwn(v, 'modifierExtension');
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property even for `__proto__` (a key JSON.parse can produce), never a prototype. */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment is several times faster; only `__proto__` would set a prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isExtensionKey(key: string): boolean {
  return key === 'extension' || key === 'modifierExtension' || key.startsWith('_');
}

/** A deep copy of a JSON value, extensions removed unless kept, empties dropped (undefined). */
function copyJson(value: unknown, keepExtensions: boolean, depth: number, ancestors: Ancestors): unknown {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (!Array.isArray(value) && !isPlainObject(value)) return undefined;
  // An element carrying a modifier extension the view does not show may mean something else
  // (refuted, negated): FHIR forbids treating it as unmodified, so it is dropped, not stripped.
  if (!keepExtensions && hasModifier(value)) return undefined;
  if (ancestors.has(value)) return undefined;
  ancestors.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out = (value as unknown[]).map((v) => copyJson(v, keepExtensions, depth + 1, ancestors)).filter((v) => v !== undefined);
    result = out.length > 0 ? out : undefined;
  } else {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const key of Object.keys(value)) {
      if (!keepExtensions && isExtensionKey(key)) continue;
      const copy = copyJson(value[key], keepExtensions, depth + 1, ancestors);
      if (copy === undefined) continue;
      setKey(out, key, copy);
      any = true;
    }
    result = any ? out : undefined;
  }
  ancestors.delete(value);
  return result;
}

function project(value: unknown, node: ProjectionNode, depth: number, ancestors: Ancestors): unknown {
  if (depth > MAX_DEPTH) return undefined;
  if (node.terminal) return copyJson(value, node.keepExtensions, depth, ancestors);
  if (!Array.isArray(value) && !isPlainObject(value)) return undefined;
  if (hasModifier(value) && !node.children.has('modifierExtension')) return undefined;
  if (ancestors.has(value)) return undefined;
  ancestors.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out = (value as unknown[]).map((v) => project(v, node, depth + 1, ancestors)).filter((v) => v !== undefined);
    result = out.length > 0 ? out : undefined;
  } else {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [key, child] of node.children) {
      if (!Object.hasOwn(value, key)) continue;
      const kept = project(value[key], child, depth + 1, ancestors);
      if (kept === undefined) continue;
      setKey(out, key, kept);
      any = true;
    }
    result = any ? out : undefined;
  }
  ancestors.delete(value);
  return result;
}

/** Adds `prefix.key...` for every path end the projected value reaches (JSON keys, no indices). */
function collect(value: unknown, node: ProjectionNode, prefix: string, into: Set<string>): void {
  if (node.terminal) {
    into.add(prefix);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) collect(v, node, prefix, into);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of node.children) {
    if (Object.hasOwn(value, key)) collect(value[key], child, `${prefix}.${key}`, into);
  }
}

/**
 * The resource as the entry lets it be seen, and the `Type.path` of every listed path it
 * discloses (`Patient.id`, `Patient.name`, `Condition.onsetDateTime`: element names only,
 * never values). The caller has checked the type and the window.
 */
export function projectResource(resource: FhirResource, entry: ViewResource, disclosed: Set<string>): FhirResource {
  const root = treeOf(entry.paths);
  const out: FhirResource = { resourceType: entry.type };
  if (typeof resource.id === 'string') {
    out.id = resource.id;
    disclosed.add(`${entry.type}.id`);
  }
  const ancestors: Ancestors = new Set([resource]);
  for (const [key, child] of root.children) {
    if (!Object.hasOwn(resource, key)) continue;
    const kept = project(resource[key], child, 1, ancestors);
    if (kept === undefined) continue;
    setKey(out, key, kept);
    collect(kept, child, `${entry.type}.${key}`, disclosed);
  }
  return out;
}
