/**
 * The views file a privacy officer edits (`data/views/default-views.json` is the shipped one):
 * its shape, checked with zod before each path is checked against the FHIR R4 definitions
 * (`parse-views.ts`). Strict objects: a misspelt key (`windows` for `window`) would otherwise
 * be ignored and widen a view.
 */
import { z } from 'zod';

export const VIEWS_FORMAT = 'ward.views.v1';

/** Versions name a views revision; dates sort well: `2026-12-01.1`. */
export const VIEWS_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A hundred years: beyond that a window is a mistake, not a choice. */
export const MAX_WINDOW_DAYS = 36_525;

/** Object errors that name the unknown keys and the allowed ones, not just "invalid". */
function objectError(what: string, keys: readonly string[]) {
  return (issue: { code?: string; keys?: string[] }): string => {
    if (issue.code === 'unrecognized_keys') {
      const unknown = (issue.keys ?? []).map((k) => `"${k}"`).join(', ');
      return `unknown key(s) ${unknown}; keys are: ${keys.join(', ')}`;
    }
    return `${what} must be a JSON object`;
  };
}

const days = z
  .number({ error: (issue) => (issue.input === undefined ? 'is required (a whole number of days)' : 'must be a whole number of days') })
  .int({ error: 'must be a whole number of days' })
  .min(0, { error: 'must not be negative' })
  .max(MAX_WINDOW_DAYS, { error: `must be at most ${MAX_WINDOW_DAYS} days (a hundred years)` });

export const viewWindowSchema = z.strictObject(
  { pastDays: days, futureDays: days.optional() },
  { error: objectError('a window', ['pastDays', 'futureDays']) },
);

export const viewResourceSchema = z.strictObject(
  {
    type: z.string({ error: 'is required (a resource type such as Patient)' }),
    fields: z
      .array(z.string({ error: 'must be a string' }), { error: 'must be a list of element paths' })
      .min(1, { error: 'must list at least one element path' }),
    window: viewWindowSchema.optional(),
  },
  { error: objectError('a resource entry', ['type', 'fields', 'window']) },
);

export const viewSchema = z.strictObject(
  {
    name: z.string({ error: 'is required (a string)' }),
    description: z.string({ error: 'is required: say which job the view serves' }).trim().min(1, { error: 'is required: say which job the view serves' }).max(2000, { error: 'must be at most 2000 characters' }),
    resources: z.array(z.unknown(), { error: 'must be a list of resource entries' }).min(1, { error: 'must list at least one resource type' }),
  },
  { error: objectError('a view', ['name', 'description', 'resources']) },
);

/** The envelope; views and their resource entries are checked one by one so every problem is reported. */
export const viewsEnvelopeSchema = z.strictObject(
  {
    format: z.literal(VIEWS_FORMAT, { error: `must be "${VIEWS_FORMAT}"` }),
    version: z.string({ error: 'is required (a string such as 2026-12-01.1)' }).regex(VIEWS_VERSION_PATTERN, { error: 'must be 1-64 letters, digits, dots, hyphens or underscores, such as 2026-12-01.1' }),
    description: z.string({ error: 'must be a string' }).optional(),
    views: z.array(z.unknown(), { error: 'must be a list of views' }).min(1, { error: 'must list at least one view' }),
  },
  { error: objectError('the views document', ['format', 'version', 'description', 'views']) },
);

export type ViewWindowSpec = z.infer<typeof viewWindowSchema>;
export type ViewResourceSpec = z.infer<typeof viewResourceSchema>;

/** One view as written in the file. */
export interface ViewSpec {
  name: string;
  description: string;
  resources: ViewResourceSpec[];
}
