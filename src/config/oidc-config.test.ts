import { describe, expect, it } from 'vitest';
import { oidcConfigSchema } from './oidc-config.js';

const minimal = { issuer: 'https://login.hospital.example/realms/ward', audience: 'ward', jwksUri: 'https://login.hospital.example/realms/ward/protocol/openid-connect/certs' };

/** The first problem as the config loader reports it: `path: message`. */
function problem(input: Record<string, unknown>): string {
  const parsed = oidcConfigSchema.safeParse(input);
  if (parsed.success) return 'accepted';
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`;
}

describe('oidcConfigSchema', () => {
  it('fills safe defaults', () => {
    expect(oidcConfigSchema.parse(minimal)).toEqual({
      ...minimal,
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      clockSkewSeconds: 60,
      roleClaim: ['roles'],
      roleMap: {},
      requireMfa: true,
      maxTokenBytes: 8192,
      jwksCacheSeconds: 600,
    });
  });

  it('keeps the issuer exactly as written (compared as a string, OIDC Core §3.1.3.7)', () => {
    expect(oidcConfigSchema.parse({ ...minimal, issuer: 'https://login.example' }).issuer).toBe('https://login.example');
  });

  it('refuses shared-secret algorithms and none, naming the field', () => {
    expect(problem({ ...minimal, algorithms: ['RS256', 'HS256'] })).toMatch(/^algorithms\.1: "HS256" is refused: shared-secret/);
    expect(problem({ ...minimal, algorithms: ['hs512'] })).toMatch(/^algorithms\.0: "hs512" is refused/);
    expect(problem({ ...minimal, algorithms: ['none'] })).toMatch(/^algorithms\.0: "none" is refused: unsigned/);
    expect(problem({ ...minimal, algorithms: ['ES256K'] })).toMatch(/^algorithms\.0: "ES256K" is not supported/);
    expect(problem({ ...minimal, algorithms: [] })).toMatch(/^algorithms: must list at least one/);
  });

  it('accepts every asymmetric algorithm, without duplicates', () => {
    const all = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
    expect(oidcConfigSchema.parse({ ...minimal, algorithms: [...all, 'RS256'] }).algorithms).toEqual(all);
  });

  it('requires https for the issuer and the key set, except on a loopback host', () => {
    expect(problem({ ...minimal, issuer: 'http://login.hospital.example' })).toMatch(/^issuer: issuer must use https/);
    expect(problem({ ...minimal, jwksUri: 'http://10.0.0.5/certs' })).toMatch(/^jwksUri: jwksUri must use https/);
    expect(problem({ ...minimal, jwksUri: 'http://localhost.attacker.example/certs' })).toMatch(/^jwksUri: /);
    expect(problem({ ...minimal, jwksUri: 'ftp://login.hospital.example/certs' })).toMatch(/^jwksUri: /);
    expect(problem({ ...minimal, issuer: 'not a url' })).toMatch(/^issuer: issuer must be an absolute URL/);
    expect(problem({ ...minimal, issuer: 'https://user:secret@login.hospital.example' })).toMatch(/^issuer: issuer must not carry credentials/);
    expect(problem({ ...minimal, issuer: 'https://login.hospital.example#x' })).toMatch(/^issuer: issuer must not have a fragment/);
    for (const host of ['127.0.0.1:8443', 'localhost', '[::1]:9000', '127.8.9.10']) {
      expect(problem({ ...minimal, issuer: `http://${host}/idp`, jwksUri: `http://${host}/idp/jwks` })).toBe('accepted');
    }
  });

  it('reads the role claim as a dotted path or as explicit segments', () => {
    expect(oidcConfigSchema.parse({ ...minimal, roleClaim: 'realm_access.roles' }).roleClaim).toEqual(['realm_access', 'roles']);
    expect(oidcConfigSchema.parse({ ...minimal, roleClaim: 'groups' }).roleClaim).toEqual(['groups']);
    expect(oidcConfigSchema.parse({ ...minimal, roleClaim: ['https://ward.example/roles'] }).roleClaim).toEqual(['https://ward.example/roles']);
    expect(problem({ ...minimal, roleClaim: 'realm_access..roles' })).toMatch(/^roleClaim: /);
    expect(problem({ ...minimal, roleClaim: '' })).toMatch(/^roleClaim: /);
    expect(problem({ ...minimal, roleClaim: 'a.b.c.d.e.f.g.h.i' })).toMatch(/^roleClaim: must be at most 8 levels/);
  });

  it('validates the remaining fields, naming each', () => {
    expect(problem({ ...minimal, audience: [] })).toMatch(/^audience: /);
    expect(problem({ ...minimal, audience: '' })).toMatch(/^audience: /);
    expect(oidcConfigSchema.parse({ ...minimal, audience: ['ward', 'ward-api'] }).audience).toEqual(['ward', 'ward-api']);
    expect(problem({ ...minimal, clockSkewSeconds: 301 })).toMatch(/^clockSkewSeconds: /);
    expect(problem({ ...minimal, clockSkewSeconds: -1 })).toMatch(/^clockSkewSeconds: /);
    expect(problem({ ...minimal, maxTokenBytes: 16_385 })).toMatch(/^maxTokenBytes: /);
    expect(problem({ ...minimal, jwksCacheSeconds: 0 })).toMatch(/^jwksCacheSeconds: /);
    expect(problem({ ...minimal, requireMfa: 'yes' })).toMatch(/^requireMfa: /);
    expect(problem({ ...minimal, requiredTyp: 'at jwt' })).toMatch(/^requiredTyp: must be a media type/);
    expect(oidcConfigSchema.parse({ ...minimal, requiredTyp: 'at+jwt' }).requiredTyp).toBe('at+jwt');
    expect(problem({ ...minimal, roleMap: { 'ward-admins': [] } })).toMatch(/^roleMap\.ward-admins: must grant at least one role/);
    expect(oidcConfigSchema.parse({ ...minimal, roleMap: { 'ward-admins': ['admin'] } }).roleMap).toEqual({ 'ward-admins': ['admin'] });
  });

  it('refuses unknown keys', () => {
    expect(problem({ ...minimal, clientSecret: 'x' })).toMatch(/clientSecret/);
    expect(problem({ audience: 'ward', jwksUri: minimal.jwksUri })).toMatch(/^issuer: /);
  });
});
