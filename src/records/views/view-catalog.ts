/**
 * The data views Ward knows, by name, as `parseViews` compiled them from the views file. The
 * records layer looks up the view a permit names (`obligations.view`) with `get`; a name the
 * catalog lacks must fail the request (fail closed), never read without a view. `parseViews`
 * requires every name a policy can name, so that is a wiring fault, not a user error.
 */
import type { DataView } from './data-view.js';

export interface ViewCatalog {
  readonly format: 'ward.views.v1';
  /** The file's version, to record beside the view name as the policy version is. */
  readonly version: string;
  readonly description?: string;
  /** By name, in file order. */
  readonly views: ReadonlyMap<string, DataView>;
  /** The view of that name, or undefined. */
  get(name: string): DataView | undefined;
}
