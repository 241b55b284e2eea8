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
});
