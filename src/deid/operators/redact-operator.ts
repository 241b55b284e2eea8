import type { Operator } from './operator.js';

/** "[NAME]": the type only. The simplest Safe Harbor removal. */
export const redactOperator: Operator = {
  name: 'redact',
  replace: ({ detection }) => `[${detection.type}]`,
};
