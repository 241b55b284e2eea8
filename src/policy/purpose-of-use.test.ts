import { describe, expect, it } from 'vitest';
import { BREAK_GLASS_PURPOSES, isBreakGlassPurpose, isPurposeOfUse, purposeOfUseDisplay, purposesOfUse } from './purpose-of-use.js';

describe('purposes of use', () => {
  it('lists each code once, in the shape HL7 v3 ActReason codes have', () => {
    expect(new Set(purposesOfUse).size).toBe(purposesOfUse.length);
    for (const p of purposesOfUse) {
      expect(p).toMatch(/^[A-Z]{3,10}$/);
      expect(purposeOfUseDisplay[p].length).toBeGreaterThan(2);
    }
  });
  it('includes the codes the issue names and the break-glass pair', () => {
    for (const p of ['TREAT', 'ETREAT', 'BTG', 'HPAYMT', 'COVAUTH', 'HOPERAT', 'HCOMPL', 'HMARKT', 'HRESCH']) expect(isPurposeOfUse(p)).toBe(true);
    for (const p of BREAK_GLASS_PURPOSES) expect(isPurposeOfUse(p)).toBe(true);
  });
  it('is exact: no lower case, no near codes, no inherited keys', () => {
    for (const p of ['treat', 'TREATMENT', 'HCOMP', '', 'toString', 'constructor']) expect(isPurposeOfUse(p)).toBe(false);
  });
  it('knows ETREAT and BTG as break-glass purposes, and nothing else', () => {
    expect(purposesOfUse.filter(isBreakGlassPurpose)).toEqual(['ETREAT', 'BTG']);
  });
});
