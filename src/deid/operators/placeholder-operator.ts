import { normalizeOriginal, type Operator } from './operator.js';

/**
 * "[NAME-1]", "[NAME-2]": typed placeholders numbered in order of first appearance and
 * consistent within one document, so a reader (or a model) can still tell two people apart.
 */
export const placeholderOperator: Operator = {
  name: 'placeholder',
  replace: ({ original, detection, state }) => {
    const key = `${detection.type}\u0000${normalizeOriginal(original)}`;
    const known = state.placeholders.get(key);
    if (known !== undefined) return known;
    const n = (state.counters.get(detection.type) ?? 0) + 1;
    state.counters.set(detection.type, n);
    const placeholder = `[${detection.type}-${n}]`;
    state.placeholders.set(key, placeholder);
    return placeholder;
  },
};
