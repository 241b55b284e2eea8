/**
 * Single sign-on at the HTTP edge: genuine tokens from the configured issuer sign a person in
 * with mapped roles; every case of the hostile token corpus (at least 200: alg none, RS/HS
 * confusion, wrong keys, embedded keys, kid injection, expiry, audience, issuer, tampering,
 * malformed encodings, oversize, ...) is refused with 401 and audited with a reason code,
 * and no token text reaches a log line, a problem body or the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { oidcConfigSchema } from '../config/oidc-config.js';
import type { OidcConfig } from '../config/oidc-config.js';
import { startTestIssuer } from '../auth/testing/test-issuer.js';
import type { TestIssuer } from '../auth/testing/test-issuer.js';
import { genuineTokens, hostileTokens } from '../auth/testing/hostile-tokens.js';
import type { HostileToken } from '../auth/testing/hostile-tokens.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';

let issuer: TestIssuer;
let config: OidcConfig;
beforeAll(async () => {
  issuer = await startTestIssuer();
  config = oidcConfigSchema.parse({
    issuer: issuer.issuer,
    audience: ['ward', 'ward-api'],
    jwksUri: issuer.jwksUri,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    roleClaim: 'realm_access.roles',
    roleMap: { 'ward-intake': ['intake'], 'ward-clinician': ['clinician', 'intake'], 'ward-po': ['privacy-officer'] },
    requiredTyp: 'at+jwt',
  });
});
afterAll(() => issuer.close());

describe.each(testDialects())('OIDC bearer tokens over HTTP on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterAll(async () => {
    await w?.dispose();
  });

  it('signs in genuine tokens as people with mapped roles; the policy still decides', async () => {
    w = await createHttpWorld(dialect, { oidc: { config } });
    const tokens = await genuineTokens(issuer, config, { now: w.clock.now() });
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    for (const { token } of tokens) {
      const me = await w.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({ kind: 'person', authn: 'oidc', id: expect.stringMatching(/^oidc:/) as unknown });
      // A JWT is not a session: sign-out and password routes are for local sessions.
      const out = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${token}` } });
      expect(out.statusCode).toBe(403);
    }
  });

  it('refuses every case of the hostile corpus with 401, audited with a reason, leaking nothing', async () => {
    w ??= await createHttpWorld(dialect, { oidc: { config } });
    const world = w;
    // Leading spaces before a token are part of the header syntax (RFC 6750: `Bearer 1*SP
    // b64token`), so over HTTP that one case is the genuine token; the verifier test refuses the
    // raw string.
    const corpus: HostileToken[] = (await hostileTokens(issuer, config, { now: world.clock.now() })).filter((c) => c.name !== 'encoding/leading-space');
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
    await world.log.flush();
    const before = (await world.t.db.selectFrom('audit_entry').select('seq').where('action', '=', 'auth.authenticate').execute()).length;
    const accepted: string[] = [];
    for (const c of corpus) {
      const res = await world.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${c.token}`, 'x-purpose-of-use': 'TREAT' } });
      if (res.statusCode !== 401) accepted.push(`${c.name}: ${res.statusCode}`);
      else {
        expect(res.json()).toMatchObject({ code: 'auth.unauthenticated', status: 401 });
        if (c.token.length >= 40) expect(res.body).not.toContain(c.token.slice(0, 40));
      }
    }
    expect(accepted).toEqual([]);
    await world.log.flush();
    const refusals = await world.t.db.selectFrom('audit_entry').select('body').where('action', '=', 'auth.authenticate').orderBy('seq').execute();
    expect(refusals.length - before).toBe(corpus.length);
    const reasons = new Set(refusals.slice(before).map((r) => (JSON.parse(r.body) as { reason: string }).reason));
    // The verifier's own reasons reach the audit log (a tampered, expired, wrong-audience token
    // are told apart for the privacy officer, never for the caller).
    for (const expected of ['auth.token_bad_signature', 'auth.token_expired', 'auth.token_wrong_audience', 'auth.token_wrong_issuer', 'auth.token_algorithm_refused', 'auth.token_header_refused']) {
      expect(reasons).toContain(expected);
    }
    const everything = `${world.logs.join('')}${refusals.map((r) => r.body).join('')}`;
    for (const c of corpus) {
      const [, payload] = c.token.split('.');
      if (payload !== undefined && payload.length > 20) expect(everything).not.toContain(payload);
    }
  }, 120_000);

  it('refuses JWTs when no issuer is configured', async () => {
    const plain = await createHttpWorld(dialect);
    try {
      const [genuine] = await genuineTokens(issuer, config, { now: plain.clock.now() });
      const res = await plain.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${genuine!.token}` } });
      expect(res.statusCode).toBe(401);
      await plain.log.flush();
      const row = await plain.t.db.selectFrom('audit_entry').select('body').where('action', '=', 'auth.authenticate').executeTakeFirst();
      expect(JSON.parse(row!.body)).toMatchObject({ outcome: 'denied', reason: 'auth.oidc_not_configured', details: { method: 'oidc' } });
    } finally {
      await plain.dispose();
    }
  });
});
