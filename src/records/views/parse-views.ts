/**
 * Reads a views file's text into a `ViewCatalog`, or throws one `WardError` (`views.invalid`)
 * listing every problem found on one line, each naming the view (index and name), the entry and
 * the field: `views[2] (name "coding"): resources[1].fields[3]: "nmae" is not an element of
 * Condition`. Ward must refuse to start on an invalid views file: a view half understood would
 * disclose more, or other, than the privacy officer wrote (45 CFR 164.514(d)).
 */
import { WardError } from '../../shared/ward-error.js';
import { hasClinicalDate } from '../clinical-date.js';
import { SUPPORTED_RESOURCE_TYPES, isSupportedResourceType } from '../fhir-resource.js';
import type { DataView, ViewPath, ViewResource } from './data-view.js';
import { quotePath, resolveFieldPath } from './field-path.js';
import type { ViewCatalog } from './view-catalog.js';
import { VIEWS_FORMAT, viewResourceSchema, viewSchema, viewsEnvelopeSchema } from './view-document.js';

/** Beyond this many problems the list stops: the first ones are enough to start fixing. */
export const MAX_REPORTED_PROBLEMS = 20;

export interface ParseViewsOptions {
  /** The view names a policy can name (`DATA_VIEW_NAMES`): each must be defined, and no other. */
  names: readonly string[];
}

type IssuePath = readonly PropertyKey[];

function pathText(path: IssuePath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

function issueLines(prefix: string, issues: readonly { path: IssuePath; message: string }[]): string[] {
  return issues.map((i) => {
    const at = [prefix, pathText(i.path)].filter((s) => s !== '').join('.');
    return at === '' ? i.message : `${at.replace(/\.\[/g, '[')}: ${i.message}`;
  });
}

/** "line 3, column 7" for the position a JSON.parse message names, when it names one. */
function jsonLocation(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (m?.[1] === undefined) return '';
  const position = Number(m[1]);
  const before = text.slice(0, position);
  return ` at line ${before.split('\n').length}, column ${position - before.lastIndexOf('\n')}`;
}

const NAME_SHAPE = /^[a-z0-9][a-z0-9-]{0,63}$/;

function viewLabel(index: number, raw: unknown): string {
  const name = typeof raw === 'object' && raw !== null && 'name' in raw && typeof raw.name === 'string' ? raw.name : undefined;
  // The name is echoed only when it is name-shaped, so stray text never lands in a log verbatim.
  return name !== undefined && NAME_SHAPE.test(name) ? `views[${index}] (name "${name}")` : `views[${index}]`;
}

function fail(problems: readonly string[]): never {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const more = problems.length - shown.length;
  // One line (CLI errors are one line; log lines stay whole): problems separated by " | ".
  const list = shown.join(' | ') + (more > 0 ? ` | ... and ${more} more` : '');
  throw new WardError('views.invalid', `the data views are invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`, {
    status: 500,
    extra: { problems: problems.length },
  });
}

/** Whether `outer` already returns everything `inner` names (a prefix, step by step, key sets included). */
function covers(outer: ViewPath, inner: ViewPath): boolean {
  if (outer.steps.length > inner.steps.length) return false;
  return outer.steps.every((keys, i) => (inner.steps[i] ?? []).every((k) => keys.includes(k)));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Checks one resource entry; problems are pushed as `resources[i]...: message`. */
function checkResource(raw: unknown, at: string, problems: string[]): ViewResource | undefined {
  const parsed = viewResourceSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...issueLines(at, parsed.error.issues));
    return undefined;
  }
  const { type, fields, window } = parsed.data;
  if (!isSupportedResourceType(type)) {
    const shown = /^[A-Za-z]{1,64}$/.test(type) ? `"${type}"` : 'the type';
    problems.push(`${at}.type: ${shown} is not a resource type Ward keeps; types are: ${SUPPORTED_RESOURCE_TYPES.join(', ')}`);
    return undefined;
  }
  const before = problems.length;
  const paths: (ViewPath | undefined)[] = fields.map((field, i) => {
    const resolved = resolveFieldPath(type, field);
    if (!resolved.ok) problems.push(`${at}.fields[${i}]: ${resolved.problem}`);
    return resolved.ok ? resolved.path : undefined;
  });
  paths.forEach((p, j) => {
    if (p === undefined) return;
    for (let i = 0; i < j; i++) {
      const q = paths[i];
      if (q === undefined) continue;
      if (p.path === q.path) problems.push(`${at}.fields[${j}]: ${quotePath(p.path)} is listed twice (fields[${i}])`);
      else if (covers(q, p)) problems.push(`${at}.fields[${j}]: ${quotePath(p.path)} is already covered by ${quotePath(q.path)} (fields[${i}]); list one`);
      else if (covers(p, q)) problems.push(`${at}.fields[${j}]: ${quotePath(p.path)} covers ${quotePath(q.path)} (fields[${i}]); list one`);
      else continue;
      return;
    }
  });
  if (window !== undefined && !hasClinicalDate(type)) {
    problems.push(`${at}.window: ${type} has no clinical date, so a window would keep no ${type}; leave the window out`);
  }
  if (problems.length > before) return undefined;
  return {
    type,
    fields: [...fields],
    paths: paths.filter((p): p is ViewPath => p !== undefined),
    ...(window !== undefined ? { window: { pastDays: window.pastDays, futureDays: window.futureDays ?? 0 } } : {}),
  };
}

/** Checks one view; problems are pushed with `label` in front. */
function checkView(raw: unknown, label: string, problems: string[], names: readonly string[] | undefined): DataView | undefined {
  const parsed = viewSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...issueLines('', parsed.error.issues).map((p) => `${label}: ${p}`));
    return undefined;
  }
  const { name, description, resources: rawResources } = parsed.data;
  const local: string[] = [];
  if (names !== undefined && !names.includes(name)) {
    local.push(`name: ${NAME_SHAPE.test(name) ? `"${name}"` : 'the name'} is not a view a policy can name; views are: ${names.join(', ')}`);
  } else if (names === undefined && !NAME_SHAPE.test(name)) {
    local.push('name: must match ^[a-z0-9][a-z0-9-]{0,63}$');
  }
  const resources: ViewResource[] = [];
  const firstIndexOfType = new Map<string, number>();
  rawResources.forEach((r, i) => {
    const at = `resources[${i}]`;
    const type = typeof r === 'object' && r !== null && 'type' in r && typeof r.type === 'string' ? r.type : undefined;
    if (type !== undefined && isSupportedResourceType(type)) {
      const earlier = firstIndexOfType.get(type);
      if (earlier !== undefined) local.push(`${at}.type: ${type} is already listed at resources[${earlier}]; list each type once`);
      else firstIndexOfType.set(type, i);
    }
    const resource = checkResource(r, at, local);
    if (resource !== undefined) resources.push(resource);
  });
  problems.push(...local.map((p) => `${label}: ${p}`));
  return local.length === 0 ? { name, description, resources } : undefined;
}

export function parseViews(text: string, options: ParseViewsOptions): ViewCatalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    fail([`not valid JSON${jsonLocation(text, message)}: ${message}`]);
  }
  return validateViewsDocument(json, options);
}

/** The catalog, compiled and frozen, or a `views.invalid` error with every problem. */
export function validateViewsDocument(json: unknown, options: ParseViewsOptions): ViewCatalog {
  const problems: string[] = [];
  const envelope = viewsEnvelopeSchema.safeParse(json);
  if (!envelope.success) problems.push(...issueLines('', envelope.error.issues));
  const rawViews = envelope.success ? envelope.data.views : typeof json === 'object' && json !== null && 'views' in json && Array.isArray(json.views) ? (json.views as unknown[]) : [];

  const views = new Map<string, DataView>();
  const firstIndexOfName = new Map<string, number>();
  rawViews.forEach((raw, i) => {
    const label = viewLabel(i, raw);
    const view = checkView(raw, label, problems, options.names);
    const name = typeof raw === 'object' && raw !== null && 'name' in raw && typeof raw.name === 'string' ? raw.name : undefined;
    if (name === undefined || !options.names.includes(name)) return;
    const earlier = firstIndexOfName.get(name);
    if (earlier !== undefined) problems.push(`${label}: name: "${name}" is already the name of views[${earlier}]; names must be unique`);
    else firstIndexOfName.set(name, i);
    if (view !== undefined && earlier === undefined) views.set(name, deepFreeze(view));
  });
  if (envelope.success) {
    const missing = options.names.filter((n) => !firstIndexOfName.has(n));
    // A permit naming a view the catalog lacks could only fail at read time; refuse at load instead.
    if (missing.length > 0) problems.push(`views: ${missing.map((n) => `"${n}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not defined; define every view a policy can name (${options.names.join(', ')})`);
  }

  if (problems.length > 0 || !envelope.success) fail(problems);
  // The map itself is read-only by type (ReadonlyMap); Object.freeze cannot stop Map#set.
  return Object.freeze({
    format: VIEWS_FORMAT,
    version: envelope.data.version,
    ...(envelope.data.description !== undefined ? { description: envelope.data.description } : {}),
    views,
    get: (name: string): DataView | undefined => views.get(name),
  });
}

/**
 * One view compiled on its own (any name of the right shape), for tests and tools; throws
 * `views.invalid` like `parseViews`.
 */
export function dataView(spec: unknown): DataView {
  const problems: string[] = [];
  const view = checkView(spec, viewLabel(0, spec).replace(/^views\[0\]\s*/, 'view ').trim(), problems, undefined);
  if (view === undefined) fail(problems);
  return deepFreeze(view);
}
