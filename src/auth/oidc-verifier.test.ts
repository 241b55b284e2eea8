import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AUDIT_ID_PATTERN } from '../audit/audit-entry.js';
import { fixedClock } from '../shared/clock.js';
import { OidcVerifier, principalIdOf } from './oidc-verifier.js';
import type { OidcVerifierSettings } from './oidc-verifier.js';
import { genuineTokens, hostileTokens } from './testing/hostile-tokens.js';
import { signCompact, startTestIssuer, testIssuerAlgorithms } from './testing/test-issuer.js';
import type { TestIssuer } from './testing/test-issuer.js';

const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const t = now.getTime() / 1000;
const clock = fixedClock(now);

function settingsFor(issuer: TestIssuer, overrides: Partial<OidcVerifierSettings> = {}): OidcVerifierSettings {
  return {
    issuer: issuer.issuer,
    audience: ['ward', 'ward-api'],
    jwksUri: issuer.jwksUri,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    clockSkewSeconds: 60,
    roleClaim: ['realm_access', 'roles'],
    roleMap: { 'ward-intake': ['intake'], 'ward-clinician': ['clinician', 'intake'], 'ward-admins': ['admin'], 'ward-robots': ['workflow'] },
    requireMfa: true,
    maxTokenBytes: 8192,
    requiredTyp: 'at+jwt',
    jwksCacheSeconds: 600,
    ...overrides,
  };
}

function claims(issuer: TestIssuer, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: issuer.issuer,
    aud: 'ward',
    sub: 'alice',
    iat: t - 30,
    nbf: t - 30,
    exp: t + 900,
    amr: ['pwd', 'otp'],
    realm_access: { roles: ['ward-intake', 'ward-clinician', 'offline_access'] },
    ...overrides,
  };
}

const issuer = await startTestIssuer();
const settings = settingsFor(issuer);
const corpus = await hostileTokens(issuer, settings, { now });
const verifier = new OidcVerifier(settings, { clock });
const typ = { header: { typ: 'at+jwt' } };

afterAll(() => issuer.close());

describe('OidcVerifier: genuine tokens', () => {
  it.each(testIssuerAlgorithms)('accepts %s, mapping and de-duplicating roles, ignoring unknown claim values', async (alg) => {
    const result = await verifier.verify(await issuer.sign(claims(issuer), { alg, ...typ }));
    expect(result).toEqual({
      ok: true,
      principal: { id: 'oidc:alice', kind: 'person', roles: ['intake', 'clinician'], authn: 'oidc' },
      subject: 'alice',
      expiresAt: new Date((t + 900) * 1000),
    });
  });

  it('hashes subjects that are not id-shaped, bound to the issuer, into an audit-safe id', async () => {
    for (const sub of ['Alice Smith', 'CN=Alice,O=General Hospital', 'ælice', 'x'.repeat(97), '-leading-dash']) {
      const result = await verifier.verify(await issuer.sign(claims(issuer, { sub }), typ));
      expect(result.ok && result.principal.id).toBe(principalIdOf(issuer.issuer, sub));
      expect(result.ok && result.principal.id).toMatch(/^oidc:h-[0-9a-f]{32}$/);
      expect(result.ok && result.subject).toBe(sub);
    }
    // A readable subject shaped like a hashed id is hashed too, so the two can never collide.
    const hashed = principalIdOf(issuer.issuer, 'Alice Smith');
    expect(principalIdOf(issuer.issuer, hashed.slice('oidc:'.length))).not.toBe(hashed);
    expect(principalIdOf('https://a.example', 'Alice Smith')).not.toBe(principalIdOf('https://b.example', 'Alice Smith'));
    for (const sub of ['alice', 'a.b-c_d@hospital.example', '00u1abcd2EFGH3ijk4x7', 'x'.repeat(96)]) {
      expect(principalIdOf(issuer.issuer, sub)).toBe(`oidc:${sub}`);
      expect(principalIdOf(issuer.issuer, sub)).toMatch(AUDIT_ID_PATTERN);
    }
  });

  it('drops service roles a role map might grant: an OIDC principal is a person', async () => {
    const result = await verifier.verify(await issuer.sign(claims(issuer, { realm_access: { roles: ['ward-robots', 'ward-admins'] } }), typ));
    expect(result.ok && result.principal.roles).toEqual(['admin']);
  });

  it('reads a single string and claim names containing dots; refuses a token that maps to no Ward role', async () => {
    const groups = new OidcVerifier(settingsFor(issuer, { roleClaim: ['https://ward.example/roles'] }), { clock });
    const one = await groups.verify(await issuer.sign(claims(issuer, { 'https://ward.example/roles': 'ward-admins' }), typ));
    expect(one.ok && one.principal.roles).toEqual(['admin']);
    expect(await groups.verify(await issuer.sign(claims(issuer), typ))).toEqual({ ok: false, reason: 'auth.token_no_roles' });
    expect(await verifier.verify(await issuer.sign(claims(issuer, { realm_access: 'x' }), typ))).toEqual({ ok: false, reason: 'auth.token_no_roles' });
    expect(await verifier.verify(await issuer.sign(claims(issuer, { realm_access: { roles: ['offline_access'] } }), typ))).toEqual({ ok: false, reason: 'auth.token_no_roles' });
  });

  it('accepts typ spelled as a full media type, and any typ when none is required (RFC 9068 §2.1)', async () => {
    expect((await verifier.verify(await issuer.sign(claims(issuer), { header: { typ: 'application/at+jwt' } }))).ok).toBe(true);
    const anyTyp = new OidcVerifier(settingsFor(issuer, { requiredTyp: undefined }), { clock });
    expect((await anyTyp.verify(await issuer.sign(claims(issuer), { header: { typ: 'JWT' } }))).ok).toBe(true);
  });

  it('does not ask for amr when MFA is not required, and accepts a token without kid when one key fits', async () => {
    const noMfa = new OidcVerifier(settingsFor(issuer, { requireMfa: false }), { clock });
    expect((await noMfa.verify(await issuer.sign(claims(issuer, { amr: undefined }), typ))).ok).toBe(true);
    expect((await verifier.verify(await issuer.sign(claims(issuer), { kid: null, ...typ }))).ok).toBe(true);
  });
});

describe('OidcVerifier: the hostile token corpus', () => {
  it('has at least 200 distinct cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
    expect(new Set(corpus.map((c) => c.token)).size).toBe(corpus.length);
  });

  it('starts from genuine tokens the verifier accepts, so each case fails for its own fault', async () => {
    for (const { token } of await genuineTokens(issuer, settings, { now })) {
      expect(await verifier.verify(token)).toMatchObject({ ok: true, principal: { id: 'oidc:alice', roles: ['intake'] } });
    }
  });

  it('is deterministic in its case list', async () => {
    const again = await hostileTokens(issuer, settings, { now });
    expect(again.map((c) => [c.name, c.expect])).toEqual(corpus.map((c) => [c.name, c.expect]));
  });

  it.each(corpus)('refuses $name with $expect', async ({ token, expect: reason }) => {
    expect(await verifier.verify(token)).toEqual({ ok: false, reason });
  });

  it('adapts to other settings: no MFA, no typ, a plain role claim, a single audience', async () => {
    const plain = settingsFor(issuer, { requireMfa: false, requiredTyp: undefined, roleClaim: ['groups'], audience: 'ward' });
    const cases = await hostileTokens(issuer, plain, { now });
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const v = new OidcVerifier(plain, { clock });
    for (const { token } of await genuineTokens(issuer, plain, { now })) expect((await v.verify(token)).ok).toBe(true);
    const wrong: string[] = [];
    for (const c of cases) {
      const r = await v.verify(c.token);
      if (r.ok || r.reason !== c.expect) wrong.push(`${c.name}: ${r.ok ? 'accepted' : r.reason}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('OidcVerifier: time', () => {
  const skew = settings.clockSkewSeconds;
  const at = async (overrides: Record<string, unknown>) => verifier.verify(await issuer.sign(claims(issuer, overrides), typ));

  it('honours the clock skew exactly at its edge for exp, nbf and iat', async () => {
    expect((await at({ exp: t - skew + 1 })).ok).toBe(true);
    expect(await at({ exp: t - skew - 1 })).toEqual({ ok: false, reason: 'auth.token_expired' });
    expect((await at({ nbf: t + skew })).ok).toBe(true);
    expect(await at({ nbf: t + skew + 1 })).toEqual({ ok: false, reason: 'auth.token_not_yet_valid' });
    expect((await at({ iat: t + skew })).ok).toBe(true);
    expect(await at({ iat: t + skew + 1 })).toEqual({ ok: false, reason: 'auth.token_not_yet_valid' });
  });

  it('uses the injected clock, not the system clock', async () => {
    const later = new OidcVerifier(settings, { clock: fixedClock(new Date((t + 3600) * 1000)) });
    expect(await later.verify(await issuer.sign(claims(issuer), typ))).toEqual({ ok: false, reason: 'auth.token_expired' });
  });
});

describe('OidcVerifier: the key set', () => {
  it('fetches the JWKS once and serves later tokens from its cache', async () => {
    const own = await startTestIssuer();
    try {
      const v = new OidcVerifier(settingsFor(own), { clock });
      for (const alg of testIssuerAlgorithms) expect((await v.verify(await own.sign(claims(own), { alg, ...typ }))).ok).toBe(true);
      expect(own.jwksFetches()).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('picks up a rotated key: an unknown kid refetches the JWKS (after jose 30 s cooldown)', async () => {
    const own = await startTestIssuer();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const v = new OidcVerifier(settingsFor(own), { clock });
      const old = await own.sign(claims(own), typ);
      expect((await v.verify(old)).ok).toBe(true);
      expect(own.jwksFetches()).toBe(1);
      await own.rotate('RS256');
      const rotated = await own.sign(claims(own), typ);
      // Inside jose's cooldown an unknown kid does not hit the issuer again (no refetch storm on forged kids).
      expect(await v.verify(rotated)).toEqual({ ok: false, reason: 'auth.token_unknown_key' });
      expect(own.jwksFetches()).toBe(1);
      vi.setSystemTime(Date.now() + 31_000);
      expect((await v.verify(rotated)).ok).toBe(true);
      expect(own.jwksFetches()).toBe(2);
      expect((await v.verify(old)).ok).toBe(true);
      expect(own.jwksFetches()).toBe(2);
    } finally {
      vi.useRealTimers();
      await own.close();
    }
  });

  it.each(['server-error', 'not-json', 'not-a-key-set', 'hang'] as const)('answers auth.jwks_unavailable when the JWKS endpoint is %s, then recovers', async (mode) => {
    const own = await startTestIssuer();
    try {
      own.jwksMode(mode);
      const v = new OidcVerifier(settingsFor(own), { clock, jwksTimeoutMs: 300 });
      const token = await own.sign(claims(own), typ);
      expect(await v.verify(token)).toEqual({ ok: false, reason: 'auth.jwks_unavailable' });
      own.jwksMode('ok');
      expect((await v.verify(token)).ok).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('answers auth.jwks_unavailable when nothing listens at the JWKS address', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const v = new OidcVerifier(settingsFor(issuer, { jwksUri: `http://127.0.0.1:${port}/jwks` }), { clock });
    expect(await v.verify(await issuer.sign(claims(issuer), typ))).toEqual({ ok: false, reason: 'auth.jwks_unavailable' });
  });

  it('refuses to be configured with a symmetric algorithm or none', () => {
    expect(() => new OidcVerifier(settingsFor(issuer, { algorithms: ['RS256', 'HS256'] }), { clock })).toThrow(/asymmetric/);
    expect(() => new OidcVerifier(settingsFor(issuer, { algorithms: ['none'] }), { clock })).toThrow(/asymmetric/);
    expect(() => new OidcVerifier(settingsFor(issuer, { algorithms: [] }), { clock })).toThrow(/asymmetric/);
  });
});

describe('OidcVerifier: nothing from the token leaks', () => {
  const canary = 'CANARY-7f3a9c';

  it('never echoes claim values, header values or key ids in a refusal', async () => {
    const forged = signCompact({ alg: 'RS256', kid: canary, typ: 'at+jwt' }, claims(issuer, { sub: canary }), { alg: 'RS256', key: issuer.keys.RS256.privateKey });
    const tokens = [
      await issuer.sign(claims(issuer, { sub: canary, exp: t - 3600 }), typ),
      await issuer.sign(claims(issuer, { iss: `https://${canary}.example` }), typ),
      await issuer.sign(claims(issuer, { aud: canary }), typ),
      await issuer.sign(claims(issuer, { amr: [canary] }), typ),
      await issuer.sign(claims(issuer, { realm_access: { roles: { [canary]: true } } }), typ),
      await issuer.sign(claims(issuer, { nbf: t + 3600, note: canary }), typ),
      await issuer.sign(claims(issuer, { sub: canary }), { header: { typ: canary } }),
      await issuer.sign(claims(issuer, { sub: canary }), { kid: `${canary}-kid`, ...typ }),
      forged,
      `${forged.slice(0, -4)}AAAA`,
      signCompact({ alg: canary }, { sub: canary }, null),
      signCompact({ alg: 'RS256', kid: `${canary} ` }, { sub: canary }, null),
    ];
    for (const token of tokens) {
      const result = await verifier.verify(token);
      expect(result.ok).toBe(false);
      expect(Object.keys(result).sort()).toEqual(['ok', 'reason']);
      expect(JSON.stringify(result)).not.toContain(canary);
    }
    for (const c of corpus.slice(0, 50)) expect(Object.keys(await verifier.verify(c.token)).sort()).toEqual(['ok', 'reason']);
  });

  it('does not throw for input that is not a string at all', async () => {
    const junks: unknown[] = [undefined, null, 42, {}, ['a.b.c']];
    for (const junk of junks) {
      expect(await verifier.verify(junk as string)).toEqual({ ok: false, reason: 'auth.token_malformed' });
    }
  });
});
