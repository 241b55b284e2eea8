/**
 * Service identities over HTTP on both databases (issue 3: API keys of at least 128 random
 * bits, stored hashed, with a visible prefix, scopes, expiry, rotation and revocation): a key
 * authenticates as `svc:<service>`; routes for people with a session refuse it; revoked,
 * expired, rotated-out and forged keys get one 401 each, audited with the reason; the table
 * holds no secret; and a key's scopes narrow what the policy would otherwise permit.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { expectProblem, withoutRequestId, audited, everythingWritten } from './testing/http-assertions.js';
import type { Reply } from './testing/http-assertions.js';

/** `wak_<id>_<secret>` split into its visible id and its secret. */
function partsOf(key: string): { id: string; secret: string } {
  const m = /^wak_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
  if (m?.[1] === undefined || m[2] === undefined) throw new Error('not an API key');
  return { id: m[1], secret: m[2] };
}

interface Decision {
  effect: 'permit' | 'deny';
  code?: string;
  ruleId?: string;
  policyVersion: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(testDialects())('API keys over HTTP on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  function world(): HttpWorld {
    if (w === undefined) throw new Error('no world');
    return w;
  }

  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const me = (key: string): Promise<Reply> => world().app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(key) });
  const evaluate = (key: string, action: string, purpose: string): Promise<Reply> =>
    world().app.inject({ method: 'POST', url: '/v1/access/evaluate', headers: { ...bearer(key), 'x-purpose-of-use': purpose }, payload: { action } });

  async function refusalReasons(): Promise<unknown[][]> {
    return (await audited(world(), 'auth.authenticate')).map((e) => [e.who.id, e.outcome, e.reason, e.details?.method]);
  }

  it('authenticates a service key as svc:<service> with its roles and scopes, and records its use', async () => {
    w = await createHttpWorld(dialect);
    const { key, id } = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat', 'patient.*']);
    expect(id).toBe('svc:intake-bot');
    const res = await me(key);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: 'svc:intake-bot', kind: 'service', roles: ['integration'], authn: 'api-key',
      mustChangePassword: false, mfaEnrollmentRequired: false, scopes: ['model.chat', 'patient.*'],
    });
    // Only a bearer key: it is not a session, so no cookie is set or needed.
    expect(res.headers['set-cookie']).toBeUndefined();
    const [row] = await w.apiKeys.list({ service: 'intake-bot' });
    expect(row?.lastUsedAt).toBe(w.clock.now().toISOString());
    expect(row?.prefix).toBe(`wak_${partsOf(key).id}`);
  });

  it('refuses session-only routes to a key with 403 auth.session_required', async () => {
    w = await createHttpWorld(dialect);
    const { key } = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat', 'patient.*']);
    const routes: { url: string; payload?: Record<string, string> }[] = [
      { url: '/v1/auth/logout' },
      { url: '/v1/auth/password', payload: { currentPassword: 'Zebulon-Quill-canary-old', newPassword: 'Zebulon-Quill-canary-new-passphrase' } },
      { url: '/v1/auth/mfa/totp' },
      { url: '/v1/auth/mfa/totp/confirm', payload: { code: '123456' } },
    ];
    for (const r of routes) {
      const res = await w.app.inject({ method: 'POST', url: r.url, headers: bearer(key), ...(r.payload !== undefined ? { payload: r.payload } : {}) });
      expectProblem(res, 403, 'auth.session_required');
    }
    // Each refusal is an audited access decision.
    const refusals = (await audited(w, 'access.decision')).map((e) => [e.who.id, e.who.kind, e.outcome, e.reason]);
    expect(refusals).toEqual(Array<unknown[]>(4).fill(['svc:intake-bot', 'service', 'denied', 'auth.session_required']));
    // The key still works: a refused route revokes nothing.
    expect((await me(key)).statusCode).toBe(200);
    expect(await w.t.db.selectFrom('totp_credential').selectAll().execute()).toEqual([]);
    expect(await everythingWritten(w)).not.toContain('Zebulon-Quill-canary');
  });

  it('refuses a revoked key at once (401), audited auth.key_revoked', async () => {
    w = await createHttpWorld(dialect);
    const { key } = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat']);
    expect((await me(key)).statusCode).toBe(200);
    await w.apiKeys.revoke(partsOf(key).id, SYSTEM_ACTOR);
    const refused = await me(key);
    expectProblem(refused, 401, 'auth.unauthenticated');
    expect(await refusalReasons()).toEqual([['unauthenticated', 'denied', 'auth.key_revoked', 'api-key']]);
    const [entry] = await audited(w, 'auth.authenticate');
    expect(entry?.requestId).toBe(refused.headers['x-request-id']);
    expect((await audited(w, 'api-key.revoke')).map((e) => [e.who.id, e.details?.service, e.details?.changed])).toEqual([['ward', 'intake-bot', true]]);
  });

  it('refuses a key from its expiry on (401), audited auth.key_expired', async () => {
    w = await createHttpWorld(dialect);
    const { key, record } = await w.apiKeys.create({ service: 'nightly-coder', roles: ['workflow'], scopes: ['model.chat'], expiresInDays: 1 }, SYSTEM_ACTOR);
    expect(Date.parse(record.expiresAt) - w.clock.now().getTime()).toBe(DAY);
    w.clock.advance(DAY - 1);
    expect((await me(key)).statusCode).toBe(200);
    w.clock.advance(1);
    expectProblem(await me(key), 401, 'auth.unauthenticated');
    expect(await refusalReasons()).toEqual([['unauthenticated', 'denied', 'auth.key_expired', 'api-key']]);
    expect((await w.apiKeys.list()).map((k) => k.status)).toEqual(['expired']);
  });

  it('after rotation both keys work during the grace period, then only the new one', async () => {
    w = await createHttpWorld(dialect);
    const { key: old } = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat', 'patient.*']);
    const { key: next, record } = await w.apiKeys.rotate(partsOf(old).id, SYSTEM_ACTOR, { graceHours: 2 });
    expect(record.rotatedFrom).toBe(partsOf(old).id);
    expect(next).not.toBe(old);
    w.clock.advance(2 * HOUR - 1);
    expect((await me(old)).statusCode).toBe(200);
    const fresh = await me(next);
    expect(fresh.json()).toMatchObject({ id: 'svc:intake-bot', roles: ['integration'], scopes: ['model.chat', 'patient.*'] });
    w.clock.advance(1);
    expectProblem(await me(old), 401, 'auth.unauthenticated');
    expect((await me(next)).statusCode).toBe(200);
    expect(await refusalReasons()).toEqual([['unauthenticated', 'denied', 'auth.key_expired', 'api-key']]);
    const rotations = await audited(w, 'api-key.rotate');
    expect(rotations.map((e) => [e.details?.replacedBy, e.details?.graceHours])).toEqual([[partsOf(next).id, 2]]);
  });

  it('refuses a real key id with a wrong secret exactly like an unknown key, and malformed keys; the table holds no secret', async () => {
    w = await createHttpWorld(dialect);
    const { key } = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat']);
    const { id, secret } = partsOf(key);
    const forgedSecret = `${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    const wrongSecret = await me(`wak_${id}_${forgedSecret}`);
    const unknownId = await me(`wak_${id === 'aaaaaaaaaaaa' ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa'}_${secret}`);
    const malformed = await me(`wak_${id}_short`);
    for (const r of [wrongSecret, unknownId, malformed]) expectProblem(r, 401, 'auth.unauthenticated');
    expect(withoutRequestId(wrongSecret)).toEqual(withoutRequestId(unknownId));
    expect(withoutRequestId(malformed)).toEqual(withoutRequestId(unknownId));
    expect(await refusalReasons()).toEqual([
      ['unauthenticated', 'denied', 'auth.key_unknown', 'api-key'],
      ['unauthenticated', 'denied', 'auth.key_unknown', 'api-key'],
      ['unauthenticated', 'denied', 'auth.key_malformed', 'api-key'],
    ]);
    // The real key is unharmed by the forgeries.
    expect((await me(key)).statusCode).toBe(200);

    const rows = await w.t.db.selectFrom('api_key').selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(key);
    expect(rows[0]?.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    const written = await everythingWritten(w);
    expect(written).not.toContain(secret);
    expect(written).not.toContain(forgedSecret);
    for (const r of [wrongSecret, unknownId, malformed]) expect(r.body).not.toContain(id);
  });

  it('narrows the policy by scope: record.import under TREAT is denied policy.scope_missing without the scope, permitted with it', async () => {
    w = await createHttpWorld(dialect);
    const narrow = await w.serviceWithKey('intake-bot', ['integration'], ['model.chat', 'patient.*']);
    const broad = await w.serviceWithKey('ehr-feed', ['integration'], ['record.import']);

    const denied = await evaluate(narrow.key, 'record.import', 'TREAT');
    expect(denied.statusCode).toBe(200);
    expect(denied.json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.scope_missing' });
    const permitted = await evaluate(broad.key, 'record.import', 'TREAT');
    expect(permitted.statusCode).toBe(200);
    expect(permitted.json<Decision>()).toMatchObject({ effect: 'permit', ruleId: 'integration-import' });
    // A scope narrows, it never widens: the policy still decides within it.
    expect((await evaluate(broad.key, 'record.import', 'ETREAT')).json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.emergency_access_read_only' });
    // Policy routes honour scopes too: this key has no audit.search scope.
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { ...bearer(narrow.key), 'x-purpose-of-use': 'HCOMPL' } }), 403, 'policy.scope_missing');

    const evaluations = await audited(w, 'access.evaluate');
    expect(evaluations.map((e) => [e.who.id, e.who.kind, e.purpose, e.details?.action, e.details?.effect])).toEqual([
      ['svc:intake-bot', 'service', 'TREAT', 'record.import', 'deny'],
      ['svc:ehr-feed', 'service', 'TREAT', 'record.import', 'permit'],
      ['svc:ehr-feed', 'service', 'ETREAT', 'record.import', 'deny'],
    ]);
    const decisions = await audited(w, 'access.decision');
    expect(decisions.map((e) => [e.who.id, e.outcome, e.reason, e.details?.authn, e.details?.credential])).toEqual([
      ['svc:intake-bot', 'denied', 'policy.scope_missing', 'api-key', partsOf(narrow.key).id],
    ]);
  });
});
