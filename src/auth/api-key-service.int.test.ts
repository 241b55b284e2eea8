/**
 * API keys for service identities on both databases: shown once, stored hashed (the table
 * holds no secret), a visible prefix, scopes carried to the principal, expiry, revocation,
 * rotation with a grace period, wrong and malformed keys refused, every change audited with
 * no secret in the log.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { ApiKeyService } from './api-key-service.js';
import { ADMIN, authWorldPerTest } from './testing/auth-world.js';
import type { AuthWorld } from './testing/auth-world.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const INPUT = { service: 'prior-auth-bot', roles: ['workflow'], scopes: ['model.chat', 'patient.*'] };

describe.each(testDialects())('ApiKeyService on $name', (dialect) => {
  const authWorld = authWorldPerTest(dialect);

  async function world(): Promise<AuthWorld & { keys: ApiKeyService }> {
    const x = await authWorld();
    return { ...x, keys: new ApiKeyService(x.w.t.db, x.w.log, x.w.clock) };
  }

  const secretOf = (key: string): string => key.slice(-43);

  it('issues a key once: a visible prefix, 256 random bits, stored only as a hash', async () => {
    const x = await world();
    const { key, record } = await x.keys.create(INPUT, ADMIN, { requestId: 'req-1' });
    expect(key).toMatch(/^wak_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secretOf(key), 'base64url')).toHaveLength(32);
    expect(key.startsWith(`${record.prefix}_`)).toBe(true);
    expect(record).toMatchObject({
      id: key.slice(4, 16), prefix: key.slice(0, 16), service: 'prior-auth-bot', roles: ['workflow'], scopes: ['model.chat', 'patient.*'],
      createdBy: ADMIN.id, revokedAt: null, lastUsedAt: null, rotatedFrom: null, status: 'active',
      expiresAt: new Date(x.w.clock.now().getTime() + 90 * DAY).toISOString(),
    });
    expect(Object.keys(record)).not.toContain('key');

    const rows = await x.w.t.db.selectFrom('api_key').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash).toBe(createHash('sha256').update(secretOf(key)).digest('hex'));
    for (const value of Object.values(rows[0]!)) {
      expect(String(value)).not.toContain(secretOf(key));
    }
    const listed = await x.keys.list();
    expect(listed).toEqual([record]);
    expect(JSON.stringify(listed)).not.toContain(rows[0]!.secret_hash);
    expect(JSON.stringify(listed)).not.toContain(secretOf(key));

    expect(await x.entries('api-key.create')).toEqual([
      expect.objectContaining({
        who: { id: ADMIN.id, kind: 'person' }, outcome: 'success', resource: { type: 'ApiKey', id: record.id }, requestId: 'req-1',
        details: { service: 'prior-auth-bot', roles: 'workflow', scopes: 2, expiresInDays: 90 },
      }),
    ]);
    for (const b of await x.bodies()) expect(b).not.toContain(secretOf(key));
  });

  it('resolves a key to its service principal with roles and scopes, recording use at most once a minute', async () => {
    const x = await world();
    const { key, record } = await x.keys.create({ ...INPUT, roles: ['workflow', 'integration'] }, ADMIN);
    expect(await x.keys.authenticate(key)).toEqual({
      ok: true,
      principal: { id: 'svc:prior-auth-bot', kind: 'service', roles: ['workflow', 'integration'], scopes: ['model.chat', 'patient.*'], authn: 'api-key', credentialId: record.id },
    });
    const first = x.w.clock.now().toISOString();
    const lastUsed = async (): Promise<string | null> => (await x.w.t.db.selectFrom('api_key').select('last_used_at').executeTakeFirstOrThrow()).last_used_at;
    expect(await lastUsed()).toBe(first);
    x.w.clock.advance(59_999);
    expect((await x.keys.authenticate(key)).ok).toBe(true);
    expect(await lastUsed()).toBe(first);
    x.w.clock.advance(1);
    expect((await x.keys.authenticate(key)).ok).toBe(true);
    expect(await lastUsed()).toBe(x.w.clock.now().toISOString());
  });

  it('expires a key at its expiry', async () => {
    const x = await world();
    const { key } = await x.keys.create({ ...INPUT, expiresInDays: 1 }, ADMIN);
    x.w.clock.advance(DAY - 1);
    expect((await x.keys.authenticate(key)).ok).toBe(true);
    x.w.clock.advance(1);
    expect(await x.keys.authenticate(key)).toEqual({ ok: false, reason: 'auth.key_expired' });
    expect((await x.keys.list())[0]?.status).toBe('expired');
  });

  it('revokes a key at once, audited', async () => {
    const x = await world();
    const { key, record } = await x.keys.create(INPUT, ADMIN);
    const other = await x.keys.create({ ...INPUT, service: 'coder-bot' }, ADMIN);
    const revoked = await x.keys.revoke(record.id, ADMIN, { requestId: 'req-r' });
    expect(revoked).toMatchObject({ id: record.id, status: 'revoked', revokedAt: x.w.clock.now().toISOString() });
    expect(await x.keys.authenticate(key)).toEqual({ ok: false, reason: 'auth.key_revoked' });
    expect((await x.keys.authenticate(other.key)).ok).toBe(true);
    // Again: nothing changes, still recorded.
    await x.keys.revoke(record.id, ADMIN);
    await expect(x.keys.revoke('aaaaaaaaaaaa', ADMIN)).rejects.toMatchObject({ code: 'api-key.not_found', status: 404 });
    expect(await x.entries('api-key.revoke')).toEqual([
      expect.objectContaining({ outcome: 'success', resource: { type: 'ApiKey', id: record.id }, details: { service: 'prior-auth-bot', changed: true }, requestId: 'req-r' }),
      expect.objectContaining({ details: { service: 'prior-auth-bot', changed: false } }),
    ]);
    expect((await x.keys.list({ service: 'coder-bot' })).map((k) => k.id)).toEqual([other.record.id]);
  });

  it('rotates: the new key holds the same grants, the old one works until the grace period ends', async () => {
    const x = await world();
    const old = await x.keys.create({ ...INPUT, expiresInDays: 30 }, ADMIN);
    x.w.clock.advance(DAY);
    const rotatedAt = x.w.clock.now();
    const fresh = await x.keys.rotate(old.record.id, ADMIN, { graceHours: 24 }, { requestId: 'req-rot' });
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.record).toMatchObject({ service: 'prior-auth-bot', roles: ['workflow'], scopes: ['model.chat', 'patient.*'], rotatedFrom: old.record.id, status: 'active' });
    expect(fresh.record.expiresAt).toBe(new Date(rotatedAt.getTime() + 30 * DAY).toISOString());
    const check = await x.keys.authenticate(fresh.key);
    expect(check).toMatchObject({ ok: true, principal: { id: 'svc:prior-auth-bot', credentialId: fresh.record.id } });

    x.w.clock.advance(24 * HOUR - 1);
    expect(await x.keys.authenticate(old.key)).toMatchObject({ ok: true, principal: { credentialId: old.record.id } });
    x.w.clock.advance(1);
    expect(await x.keys.authenticate(old.key)).toEqual({ ok: false, reason: 'auth.key_expired' });
    expect((await x.keys.authenticate(fresh.key)).ok).toBe(true);

    expect(await x.entries('api-key.rotate')).toEqual([
      expect.objectContaining({
        outcome: 'success', resource: { type: 'ApiKey', id: old.record.id }, requestId: 'req-rot',
        details: { service: 'prior-auth-bot', replacedBy: fresh.record.id, graceHours: 24, expiresInDays: 30 },
      }),
    ]);
    for (const b of await x.bodies()) {
      expect(b).not.toContain(secretOf(old.key));
      expect(b).not.toContain(secretOf(fresh.key));
    }
  });

  it('rotation never extends the old key, ends it at once with no grace, and refuses a revoked key', async () => {
    const x = await world();
    const short = await x.keys.create({ ...INPUT, expiresInDays: 1 }, ADMIN);
    x.w.clock.advance(23 * HOUR);
    await x.keys.rotate(short.record.id, ADMIN, { graceHours: 48 });
    const oldRow = await x.w.t.db.selectFrom('api_key').select('expires_at').where('id', '=', short.record.id).executeTakeFirstOrThrow();
    expect(oldRow.expires_at).toBe(short.record.expiresAt);

    const now = await x.keys.create(INPUT, ADMIN);
    await x.keys.rotate(now.record.id, ADMIN, { graceHours: 0 });
    expect(await x.keys.authenticate(now.key)).toEqual({ ok: false, reason: 'auth.key_expired' });

    const gone = await x.keys.create(INPUT, ADMIN);
    await x.keys.revoke(gone.record.id, ADMIN);
    await expect(x.keys.rotate(gone.record.id, ADMIN)).rejects.toMatchObject({ code: 'api-key.revoked', status: 409 });
    for (const graceHours of [-1, 169, 1.5]) {
      await expect(x.keys.rotate(now.record.id, ADMIN, { graceHours })).rejects.toMatchObject({ code: 'api-key.invalid_grace', status: 400 });
    }
  });

  it('refuses a wrong secret with a real id exactly like an unknown key, and malformed keys without a lookup', async () => {
    const x = await world();
    const { key, record } = await x.keys.create(INPUT, ADMIN);
    const secret = secretOf(key);
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    expect(await x.keys.authenticate(`wak_${record.id}_${flipped}`)).toEqual({ ok: false, reason: 'auth.key_unknown' });
    expect(await x.keys.authenticate(`wak_aaaaaaaaaaaa_${secret}`)).toEqual({ ok: false, reason: 'auth.key_unknown' });
    // Revoked and expired are only told to a holder of the secret.
    await x.keys.revoke(record.id, ADMIN);
    expect(await x.keys.authenticate(`wak_${record.id}_${flipped}`)).toEqual({ ok: false, reason: 'auth.key_unknown' });

    const malformed = [
      '', 'wak_', `wak_${record.id}`, `wak_${record.id}_`, `${key}x`, key.slice(0, -1), `WAK_${key.slice(4)}`,
      `wak_${record.id.toUpperCase()}_${secret}`, `wak_${record.id}-${secret}`, `wss_${key.slice(4)}`, `Bearer ${key}`, ` ${key}`,
      `wak_${record.id}_${secret.slice(0, -1)}=`, `wak_${record.id}_${'é'.repeat(43)}`, 'x'.repeat(10_000),
    ];
    for (const m of malformed) expect(await x.keys.authenticate(m)).toEqual({ ok: false, reason: 'auth.key_malformed' });
  });

  it('validates service names, service roles, scopes and lifetimes', async () => {
    const x = await world();
    for (const service of ['', 'a', 'Bot', '1bot', 'bot_1', 'bot.one', 'b'.repeat(49), 'svc:bot']) {
      await expect(x.keys.create({ ...INPUT, service }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_service', status: 400 });
    }
    for (const roles of [[], ['clinician'], ['workflow', 'admin'], ['wizard']]) {
      await expect(x.keys.create({ ...INPUT, roles }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_role', status: 400 });
    }
    for (const scope of ['*', 'model', 'Model.chat', 'model.*.read', 'model..chat', 'model chat', '.model', 'model.', '*.read', 'patient.**', `a.${'b'.repeat(96)}`]) {
      await expect(x.keys.create({ ...INPUT, scopes: [scope] }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_scope', status: 400 });
    }
    await expect(x.keys.create({ ...INPUT, scopes: [] }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_scope' });
    for (const expiresInDays of [0, 366, 1.5, -1]) {
      await expect(x.keys.create({ ...INPUT, expiresInDays }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_expiry', status: 400 });
    }
    const ok = await x.keys.create({ ...INPUT, scopes: ['audit.search', 'break-glass.open', 'model.*', 'model.*'], expiresInDays: 365 }, ADMIN);
    expect(ok.record.scopes).toEqual(['audit.search', 'break-glass.open', 'model.*']);
    expect(await x.w.t.db.selectFrom('api_key').select('id').execute()).toHaveLength(1);
    expect(await x.entries('api-key.create')).toHaveLength(1);
  });
  describe('bound to a client certificate (RFC 8705 section 3)', () => {
    const CERT_A = createHash('sha256').update('client certificate A').digest('hex');
    const CERT_B = createHash('sha256').update('client certificate B').digest('hex');

    it('accepts the key only with the verified certificate it is bound to; otherwise auth.certificate_mismatch, and the use is not recorded', async () => {
      const x = await world();
      const { key, record } = await x.keys.create({ ...INPUT, certificateSha256: CERT_A }, ADMIN);
      expect(record.certificateSha256).toBe(CERT_A);
      expect((await x.w.t.db.selectFrom('api_key').select('certificate_sha256').executeTakeFirstOrThrow()).certificate_sha256).toBe(CERT_A);
      for (const channel of [undefined, {}, { clientCertificateSha256: CERT_B }, { clientCertificateSha256: CERT_A.toUpperCase() }]) {
        expect(await x.keys.authenticate(key, channel)).toEqual({ ok: false, reason: 'auth.certificate_mismatch' });
      }
      expect((await x.keys.list())[0]?.lastUsedAt).toBeNull();
      const ok = await x.keys.authenticate(key, { clientCertificateSha256: CERT_A });
      expect(ok).toMatchObject({ ok: true, principal: { id: 'svc:prior-auth-bot', credentialId: record.id } });
      // Without the secret, nothing about the binding is revealed.
      const secret = secretOf(key);
      const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
      expect(await x.keys.authenticate(`wak_${record.id}_${flipped}`, { clientCertificateSha256: CERT_B })).toEqual({ ok: false, reason: 'auth.key_unknown' });
      // An unbound key ignores the channel.
      const unbound = await x.keys.create(INPUT, ADMIN);
      expect(unbound.record.certificateSha256).toBeNull();
      expect((await x.keys.authenticate(unbound.key, { clientCertificateSha256: CERT_B })).ok).toBe(true);
      expect((await x.keys.authenticate(unbound.key)).ok).toBe(true);
      // The binding is audited by the certificate's hash (no secret).
      expect((await x.entries('api-key.create')).map((e) => (e.details as Record<string, unknown>).certificateSha256)).toEqual([CERT_A, undefined]);
      for (const b of await x.bodies()) expect(b).not.toContain(secret);
    });

    it('refuses a malformed certificate hash', async () => {
      const x = await world();
      for (const certificateSha256 of ['', 'abc', CERT_A.toUpperCase(), `${CERT_A}00`, `sha256:${CERT_A}`, CERT_A.replace(/.$/, 'g')]) {
        await expect(x.keys.create({ ...INPUT, certificateSha256 }, ADMIN)).rejects.toMatchObject({ code: 'api-key.invalid_certificate', status: 400 });
      }
      expect(await x.keys.list()).toEqual([]);
    });

    it('rotation keeps the binding, or moves it to a renewed certificate', async () => {
      const x = await world();
      const first = await x.keys.create({ ...INPUT, certificateSha256: CERT_A }, ADMIN);
      const kept = await x.keys.rotate(first.record.id, ADMIN, { graceHours: 0 });
      expect(kept.record.certificateSha256).toBe(CERT_A);
      expect(await x.keys.authenticate(kept.key)).toEqual({ ok: false, reason: 'auth.certificate_mismatch' });
      expect((await x.keys.authenticate(kept.key, { clientCertificateSha256: CERT_A })).ok).toBe(true);
      const moved = await x.keys.rotate(kept.record.id, ADMIN, { graceHours: 0, certificateSha256: CERT_B });
      expect(moved.record.certificateSha256).toBe(CERT_B);
      expect(await x.keys.authenticate(moved.key, { clientCertificateSha256: CERT_A })).toEqual({ ok: false, reason: 'auth.certificate_mismatch' });
      expect((await x.keys.authenticate(moved.key, { clientCertificateSha256: CERT_B })).ok).toBe(true);
      expect((await x.entries('api-key.rotate')).map((e) => (e.details as Record<string, unknown>).certificateSha256)).toEqual([CERT_A, CERT_B]);
      await expect(x.keys.rotate(moved.record.id, ADMIN, { certificateSha256: 'nope' })).rejects.toMatchObject({ code: 'api-key.invalid_certificate' });
    });
  });
});
