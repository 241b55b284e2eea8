/**
 * Names of the data views a permit may oblige the records layer to read through: each view
 * names exactly the resource types and fields a job needs (45 CFR 164.502(b), 164.514(d)
 * minimum necessary). `src/records` defines their contents; the policy only names them, and
 * `parsePolicy` refuses a view it is not told about.
 */
export const DATA_VIEW_NAMES = ['scheduling', 'intake', 'prior-auth', 'coding', 'billing', 'clinical', 'audit'] as const;

export type DataViewName = (typeof DATA_VIEW_NAMES)[number];
