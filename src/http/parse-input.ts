import type { z } from 'zod';
import { WardError } from '../shared/ward-error.js';

/**
 * Validate a request body or query with zod. The error names the fields only: a value (a
 * password, a patient's name typed into the wrong field) is never echoed back.
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what = 'fields'): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || 'body'))];
    throw new WardError('request.invalid', `invalid ${what}: ${fields.join(', ')}`, { status: 400 });
  }
  return r.data;
}
