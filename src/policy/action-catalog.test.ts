import { describe, expect, it } from 'vitest';
import { actionCatalog, actionCodes, actionMatches, isAction } from './action-catalog.js';

describe('action catalog', () => {
  it('names actions area.verb, with a description', () => {
    for (const a of actionCodes) {
      expect(a).toMatch(/^[a-z][a-z-]*\.[a-z][a-z-]*$/);
      expect(actionCatalog[a].description.length).toBeGreaterThan(10);
    }
  });
  it('marks the actions that reach PHI, and those that do not', () => {
    expect(actionCodes.filter((a) => !actionCatalog[a].phi).sort()).toEqual(['access.evaluate', 'account.manage', 'model.list', 'policy.read']);
    expect(actionCatalog['patient.read'].patient).toBe('required');
    expect(actionCatalog['audit.search'].patient).toBe('optional');
  });
  it('isAction accepts catalog codes only', () => {
    expect(isAction('patient.read')).toBe(true);
    for (const a of ['patient', 'patient.*', '*', 'toString', 'hasOwnProperty', 'patient.READ']) expect(isAction(a)).toBe(false);
  });
});

describe('actionMatches', () => {
  it.each([
    ['*', 'patient.read', true],
    ['patient.read', 'patient.read', true],
    ['patient.*', 'patient.read', true],
    ['patient.*', 'patient.export', true],
    ['patient.*', 'patients.read', false],
    ['patient.*', 'patient', false],
    ['patient.*', 'patient.', false],
    ['patient.read', 'patient.readx', false],
    ['patient', 'patient.read', false],
    ['.*', 'patient.read', false],
    ['break-glass.*', 'break-glass.open', true],
    ['model.*', 'patient.read', false],
    ['', 'patient.read', false],
  ])('%s covers %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});
