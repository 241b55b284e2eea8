/**
 * Applies a data view to the resources read for one request: what a permit's view allows, and
 * nothing else, leaves the records layer (45 CFR 164.502(b), 164.514(d) minimum necessary).
 *
 * - A resource whose type the view does not list is left out.
 * - Under a window, a resource is kept only when its clinical date (`clinical-date.ts`) lies in
 *   [now - pastDays, now + futureDays]; one without a readable clinical date is left out
 *   (fail closed), and a partial date counts from its earliest instant.
 * - Each kept resource is projected onto its entry's paths (`project-resource.ts`): always
 *   `resourceType` and `id`, then only what the listed paths reach; every value is a deep copy,
 *   so nothing the caller later changes can reach back into the input, or the reverse.
 *
 * `disclosed` is what the audit entry records for the read: the sorted `Type.path` list of
 * what the output holds (`Patient.id`, `Patient.name`, `Condition.onsetDateTime`), element
 * names only, never a value.
 *
 * `viewPlan` says what the store must fetch for a view, so it decrypts no more than the view
 * can return: the types the view lists and, under a window, the clear activity years
 * (`activityYearOf`) the window can reach. The store runs `type = ? [AND activity_year
 * BETWEEN fromYear AND toYear]`: under a window a row with a null year is never fetched (its
 * resource has no readable clinical date, so `applyView` would leave it out anyway), and
 * without one every row of the type is, null year or not. The years are the UTC years of the
 * window's bounds, the reading `activityYearOf` uses, so the plan never leaves out a resource
 * the window keeps; `applyView` still checks each resource's instant.
 *
 * Pure: `now` is passed in.
 */
import { clinicalInstantOf } from '../clinical-date.js';
import type { FhirResource, SupportedResourceType } from '../fhir-resource.js';
import type { DataView, ViewResource } from './data-view.js';
import { hasModifier, isPlainObject, projectResource } from './project-resource.js';
import { windowBounds } from './window-bounds.js';
import type { WindowBounds } from './window-bounds.js';

export interface ViewResult {
  /** In input order. */
  resources: FhirResource[];
  /** Sorted, unique `Type.path` of every element disclosed, `Type.id` included. */
  disclosed: string[];
}

export function applyView(view: DataView, resources: readonly FhirResource[], now: Date): ViewResult {
  const entries = new Map<string, { entry: ViewResource; bounds: WindowBounds | undefined }>();
  for (const entry of view.resources) {
    entries.set(entry.type, { entry, bounds: entry.window === undefined ? undefined : windowBounds(entry.window, now) });
  }
  const out: FhirResource[] = [];
  const disclosed = new Set<string>();
  for (const resource of resources) {
    if (!isPlainObject(resource) || typeof resource.resourceType !== 'string') continue;
    const found = entries.get(resource.resourceType);
    if (found === undefined) continue;
    // A resource whose meaning is changed by a modifier extension the view does not show is
    // withheld whole (fail closed) rather than shown as if unmodified.
    if (hasModifier(resource) && !found.entry.paths.some((p) => p.path === 'modifierExtension' || p.path.startsWith('modifierExtension.'))) continue;
    if (found.bounds !== undefined) {
      const at = clinicalInstantOf(resource);
      if (at === undefined || at < found.bounds.from || at > found.bounds.to) continue;
    }
    out.push(projectResource(resource, found.entry, disclosed));
  }
  return { resources: out, disclosed: [...disclosed].sort() };
}

export interface ViewPlanEntry {
  type: SupportedResourceType;
  /** Both present under a window, both absent without one. */
  fromYear?: number;
  toYear?: number;
}

export function viewPlan(view: DataView, now: Date): ViewPlanEntry[] {
  return view.resources.map((entry) => {
    if (entry.window === undefined) return { type: entry.type };
    const { from, to } = windowBounds(entry.window, now);
    return { type: entry.type, fromYear: new Date(from).getUTCFullYear(), toYear: new Date(to).getUTCFullYear() };
  });
}
