import { describe, expect, it } from 'vitest';
import { deidentifyText } from './deidentify-text.js';
import { newDocumentState } from './operators/operator.js';
import { placeholderOperator } from './operators/placeholder-operator.js';
import { redactOperator } from './operators/redact-operator.js';
import { testDictionaries } from './testing/detect-text.js';

describe('deidentifyText', () => {
  it('analyzes and anonymizes in one call, with per-type operators and a shared document state', () => {
    const state = newDocumentState();
    const options = { dictionaries: testDictionaries(), operator: { default: redactOperator, NAME: placeholderOperator }, state };
    const first = deidentifyText('Dr. Hope Whitaker saw the patient on 3/4/2023.', options);
    const second = deidentifyText('Call Dr. Hope Whitaker at 612-555-0187.', options);
    expect(first.text).toBe('[NAME-1] saw the patient on [DATE].');
    expect(second.text).toBe('Call [NAME-1] at [PHONE].');
    expect(first.detections.map((d) => d.type)).toEqual(['NAME', 'DATE']);
    expect(first.items[0]).toMatchObject({ start: 0, end: 17, outputStart: 0, outputEnd: 8, operator: 'placeholder' });
  });
});
