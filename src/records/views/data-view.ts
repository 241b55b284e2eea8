/**
 * A data view as Ward applies it: the resource types a job may read, and for each the element
 * paths and the time window (45 CFR 164.502(b), 164.514(d) minimum necessary). A permit names
 * a view (`obligations.view`); the records layer returns nothing outside it. Views are data
 * (`data/views/default-views.json`, format in `src/records/README.md`), compiled by
 * `parseViews`; every object here is frozen.
 */
import type { SupportedResourceType } from '../fhir-resource.js';

/** Keep resources whose clinical date lies in [now - pastDays, now + futureDays] (24-hour days). */
export interface ViewWindow {
  readonly pastDays: number;
  readonly futureDays: number;
}

/**
 * One listed element path, compiled against the FHIR R4 definitions. Each step is the JSON
 * keys it may match: one key, or every typed variant of a choice element (`onset[x]` ->
 * `onsetDateTime`, `onsetAge`, `onsetPeriod`, `onsetRange`, `onsetString`).
 */
export interface ViewPath {
  /** As written in the view: `name`, `address.state`, `onset[x]`, `onsetPeriod.start`. */
  readonly path: string;
  readonly steps: readonly (readonly string[])[];
}

export interface ViewResource {
  readonly type: SupportedResourceType;
  /** The element paths as written, in file order. */
  readonly fields: readonly string[];
  /** The same paths, compiled (same order). */
  readonly paths: readonly ViewPath[];
  /** Absent: every resource of the type, whatever its date. */
  readonly window?: ViewWindow;
}

export interface DataView {
  readonly name: string;
  readonly description: string;
  /** At most one entry per type. */
  readonly resources: readonly ViewResource[];
}

/** Always returned, never listed: they say what a resource is, not what it holds. */
export const ALWAYS_RETURNED = ['resourceType', 'id'] as const;
