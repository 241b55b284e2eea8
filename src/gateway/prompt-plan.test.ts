/**
 * The egress plan per trust zone (pure): what each zone may receive, when the call is refused,
 * and that the placeholders map back to exactly what the caller sent.
 */
import { describe, expect, it } from 'vitest';
import { testDictionaries } from '../deid/testing/detect-text.js';
import type { ChatRequest } from '../models/model-adapter.js';
import { planPrompt, reidentify } from './prompt-plan.js';
import type { PlanInput } from './prompt-plan.js';

const PHI = 'Call Maria Gonzalez at (555) 201-4471 about her visit on March 3, 2026.';
const CLEAN = 'Write a short notice that the clinic closes early on Friday.';
const request = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'system', content: 'You are a scheduling assistant.' }, { role: 'user', content }], maxTokens: 64, ...extra });
const plan = (input: Partial<PlanInput> & { request: ChatRequest }) =>
  planPrompt({ zone: 'on-prem', deidentify: false, patient: undefined, externalPhi: 'deidentify', ...input }, testDictionaries());

describe('planPrompt', () => {
  it('sends an on-prem model the prompt as given, naming the PHI categories found', () => {
    const p = plan({ request: request(PHI) });
    expect(p).toMatchObject({ send: true, deidentified: false });
    if (!p.send) throw new Error('refused');
    expect(p.request.messages[1]!.content).toBe(PHI);
    expect(p.categories).toEqual(expect.arrayContaining(['NAME', 'PHONE', 'DATE']));
  });

  it('sends an external model placeholders only, and maps them back to what the caller wrote', () => {
    const p = plan({ request: request(PHI), zone: 'external' });
    if (!p.send) throw new Error('refused');
    const sent = p.request.messages.map((m) => m.content).join('\n');
    for (const v of ['Maria', 'Gonzalez', '201-4471', 'March 3']) expect(sent).not.toContain(v);
    expect(sent).toContain('[NAME-1]');
    expect(reidentify(p.request.messages[1]!.content, p.placeholders)).toBe(PHI);
    // A placeholder the model made up is left as it is.
    expect(reidentify('[NAME-9] called', p.placeholders)).toBe('[NAME-9] called');
  });

  it('numbers one person the same across messages', () => {
    const p = plan({ zone: 'external', request: { messages: [{ role: 'user', content: 'Patient: Maria Gonzalez.' }, { role: 'assistant', content: 'Noted.' }, { role: 'user', content: 'Remind Maria Gonzalez tomorrow.' }], maxTokens: 10 } });
    if (!p.send) throw new Error('refused');
    expect(p.request.messages[0]!.content).toContain('[NAME-1]');
    expect(p.request.messages[2]!.content).toContain('[NAME-1]');
  });

  it('de-identifies for any zone when the permit obliges it', () => {
    const p = plan({ request: request(PHI), deidentify: true });
    expect(p).toMatchObject({ send: true, deidentified: true });
  });

  it('refuses PHI for an external model when the organization allows no de-identified egress, but sends clean text', () => {
    expect(plan({ request: request(PHI), zone: 'external', externalPhi: 'refuse' })).toMatchObject({ send: false, code: 'egress.phi_refused' });
    expect(plan({ request: request(CLEAN), zone: 'external', externalPhi: 'refuse' })).toMatchObject({ send: true, deidentified: true, categories: [] });
  });

  it('refuses PHI hidden in stop sequences or a JSON schema, which cannot be replaced', () => {
    expect(plan({ request: request(CLEAN, { stop: ['Maria Gonzalez'] }), zone: 'external' })).toMatchObject({ send: false, code: 'egress.deidentification_failed' });
    const jsonSchema = { name: 'reply', schema: { type: 'object', properties: { note: { type: 'string', description: 'Mention SSN 219-09-9999' } } } };
    expect(plan({ request: request(CLEAN, { jsonSchema }), zone: 'external' })).toMatchObject({ send: false, code: 'egress.deidentification_failed' });
  });

  it('requires a patient for PHI to a business associate (the accounting of disclosures), not for clean text', () => {
    expect(plan({ request: request(PHI), zone: 'baa' })).toMatchObject({ send: false, code: 'egress.patient_required' });
    expect(plan({ request: request(PHI), zone: 'baa', patient: 'pat-1' })).toMatchObject({ send: true, deidentified: false });
    expect(plan({ request: request(CLEAN), zone: 'baa' })).toMatchObject({ send: true });
  });

  it('judges and sends normalized text: zero-width characters and fullwidth digits do not hide an SSN', () => {
    for (const ssn of ['1\u200B2\u200B3-4\u200B5-6789', '１２３-４５-６７８９', '123\u00AD-45\u00AD-6789']) {
      const p = plan({ request: request(`Her SSN is ${ssn}, please file it.`), zone: 'external' });
      if (!p.send) throw new Error('refused');
      const sent = p.request.messages[1]!.content;
      expect(sent).not.toMatch(/6\D{0,3}7\D{0,3}8\D{0,3}9/);
      expect(p.categories).toContain('SSN');
    }
  });

  it('refuses a name dressed in another script and a number in the schema that is an identifier', () => {
    expect(plan({ request: request('Remind Jеssica Аlbright about Friday.'), zone: 'external' })).toMatchObject({ send: false, code: 'egress.deidentification_failed' });
    const jsonSchema = { name: 'x', schema: { type: 'object', properties: { ssn: { const: 123456789 }, phone: { examples: [6175550143] } } } };
    expect(plan({ request: request(CLEAN, { jsonSchema }), zone: 'external' })).toMatchObject({ send: false });
  });

  it('numbers placeholders after those the caller already wrote, so re-identification never swaps people', () => {
    const p = plan({ zone: 'external', request: { messages: [{ role: 'assistant', content: '[NAME-1] has a follow-up.' }, { role: 'user', content: 'Also add Robert Smith to the list.' }], maxTokens: 10 } });
    if (!p.send) throw new Error('refused');
    expect(p.request.messages[1]!.content).toContain('[NAME-2]');
    expect(reidentify('Reminder sent to [NAME-1] and [NAME-2].', p.placeholders)).toBe('Reminder sent to [NAME-1] and Robert Smith.');
  });
});
