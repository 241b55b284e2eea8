import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pseudonym } from '../operators/pseudonym-operator.js';
import { InMemoryReidentificationVault } from './in-memory-reidentification-vault.js';
import type { ReidentificationAuditEvent, ReidentificationRequest } from './reidentification-vault.js';

const VAULT_KEY = new Uint8Array(32).fill(9);
const HMAC_KEY = new Uint8Array(32).fill(3);
const treating: ReidentificationRequest = { principalId: 'usr_1', purposeOfUse: 'TREAT' };
const marketing: ReidentificationRequest = { principalId: 'usr_2', purposeOfUse: 'HMARKT' };

function vault(audit: ReidentificationAuditEvent[] = []): InMemoryReidentificationVault {
  return new InMemoryReidentificationVault({
    key: VAULT_KEY,
    permit: (req) => req.purposeOfUse === 'TREAT',
    audit: (e) => {
      audit.push(e);
    },
  });
}

describe('InMemoryReidentificationVault', () => {
  it('stores originals encrypted and re-identifies only with permission, auditing every attempt', async () => {
    const events: ReidentificationAuditEvent[] = [];
    const v = vault(events);
    const p = pseudonym(HMAC_KEY, 'NAME', 'Margaret Reyes');
    await v.store(p, 'NAME', 'Margaret Reyes');
    expect(v.sealedBytes(p)?.toString('utf8')).not.toContain('Margaret');
    expect(await v.reidentify(p, marketing)).toEqual({ outcome: 'denied' });
    expect(await v.reidentify(p, treating)).toEqual({ outcome: 'permitted', type: 'NAME', original: 'Margaret Reyes' });
    expect(await v.reidentify('NAME-0000000000', treating)).toEqual({ outcome: 'not_found' });
    expect(events.map((e) => e.outcome)).toEqual(['denied', 'permitted', 'not_found']);
    expect(JSON.stringify(events)).not.toContain('Margaret');
  });

  it('fails closed: no audit entry, no original', async () => {
    const v = new InMemoryReidentificationVault({
      key: VAULT_KEY,
      permit: () => true,
      audit: () => Promise.reject(new Error('audit store down')),
    });
    await v.store('MRN-1', 'MRN', '00482113');
    await expect(v.reidentify('MRN-1', treating)).rejects.toThrow(/audit store down/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new InMemoryReidentificationVault({ key: new Uint8Array(16), permit: () => true, audit: () => undefined })).toThrow(/32 bytes/);
  });

  it('never re-identifies without permission, for any value (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 8 }), async (original, purpose) => {
        const v = vault();
        const p = pseudonym(HMAC_KEY, 'OTHER_ID', original);
        await v.store(p, 'OTHER_ID', original);
        const result = await v.reidentify(p, { principalId: 'usr_x', purposeOfUse: purpose });
        if (purpose === 'TREAT') expect(result).toEqual({ outcome: 'permitted', type: 'OTHER_ID', original });
        else expect(result).toEqual({ outcome: 'denied' });
      }),
      { numRuns: 50 },
    );
  });
});
