/**
 * The HTTP edge on both databases: problem+json errors, authentication, audit search for
 * privacy officers (itself audited), fail-closed behaviour, and PHI-free logs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { expectProblem } from './testing/http-assertions.js';
import { sampleEntry } from '../audit/testing/audit-world.js';
import { AuditLog } from '../audit/audit-log.js';
import { openSqlite } from '../storage/open-sqlite.js';
import { openPostgres } from '../storage/open-postgres.js';
import { BoundedConcurrency } from '../auth/bounded-concurrency.js';
import { totpCodeAt } from '../auth/testing/totp-helper.js';

describe.each(testDialects())('HTTP API on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it('answers health and readiness, with security headers', async () => {
    w = await createHttpWorld(dialect);
    const h = await w.app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    expect((await w.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('reports unknown routes, bad JSON and bad media types as problem+json with the request id', async () => {
    w = await createHttpWorld(dialect);
    expectProblem(await w.app.inject({ method: 'GET', url: '/nope' }), 404, 'http.not_found');
    const canary = 'Quillon Vantressa 1947-03-02';
    const bad = await w.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: `{"username": "${canary}` });
    expectProblem(bad, 400, 'request.invalid');
    expect(bad.body).not.toContain('Quillon');
    const form = await w.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
    expectProblem(form, 415, 'request.unsupported_media_type');
    const traceId = '3f2b8c1e-9a4d-4e7b-8f6a-0c1d2e3f4a5b';
    const given = await w.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': traceId } });
    expect(given.headers['x-request-id']).toBe(traceId);
    // Anything but a UUID is replaced: a plain token can still spell a name and a birth date.
    for (const hostileId of ['Jane Doe <script>', 'Jane.Doe.1970-01-01', 'trace-12345678', `${traceId}x`, `{${traceId}}`]) {
      const hostile = await w.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': hostileId } });
      expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(hostile.headers['x-request-id']).not.toBe(hostileId);
      expect(hostile.body).not.toContain('Jane');
    }
  });

  it('answers a malformed URL with problem+json and security headers, never echoing the URL', async () => {
    w = await createHttpWorld(dialect);
    for (const url of ['/%ZZ?patient=Quillon%20Vantressa', '/v1/audit/%E0%A4%A?patient=Quillon%20Vantressa']) {
      const res = await w.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'Quillon.Vantressa.1947-03-02' } });
      expectProblem(res, 400, 'request.invalid');
      expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
      expect(res.body).not.toContain('Quillon');
      expect(res.body).not.toContain('%ZZ');
    }
    expect(w.logs.join('')).not.toContain('Quillon');
  });

  it('refuses bad credentials the same way for unknown users and wrong passwords, and audits both', async () => {
    w = await createHttpWorld(dialect);
    await w.userWithToken('ana', ['privacy-officer']);
    const canaryPassword = 'Zorblax-Canary-Password-991';
    const wrong = await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'ana', password: canaryPassword } });
    const unknown = await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'nobody', password: canaryPassword } });
    expectProblem(wrong, 401, 'auth.bad_credentials');
    expectProblem(unknown, 401, 'auth.bad_credentials');
    expect(wrong.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail);
    await w.log.flush();
    const denied = await w.t.db.selectFrom('audit_entry').select(['action', 'outcome']).where('outcome', '=', 'denied').execute();
    expect(denied).toEqual([{ action: 'auth.login', outcome: 'denied' }, { action: 'auth.login', outcome: 'denied' }]);
    const everything = w.logs.join('') + (await w.t.db.selectFrom('audit_entry').select('body').execute()).map((r) => r.body).join('');
    expect(everything).not.toContain(canaryPassword);
  });

  it('answers 429 with Retry-After when too many password verifications are in flight, and gives the attempt back', async () => {
    const cap = new BoundedConcurrency({ maxInFlight: 1, maxQueued: 0, retryAfterSeconds: 3 });
    w = await createHttpWorld(dialect, { passwordVerifications: cap });
    const { password, totpSecret } = await w.userWithToken('ana', ['clinician']);
    w.clock.advance(30_000);
    const totp = totpCodeAt(totpSecret, w.clock.now());
    const login = (): Promise<Awaited<ReturnType<HttpWorld['app']['inject']>>> => w!.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'ana', password, totp } });
    // Hold the only verification slot, as a long argon2 run would.
    let release: () => void = () => undefined;
    const held = cap.run(() => new Promise<void>((resolve) => (release = resolve)));
    for (let i = 0; i < 6; i++) {
      const busy = await login();
      expectProblem(busy, 429, 'auth.busy');
      expect(busy.headers['retry-after']).toBe('3');
    }
    release();
    await held;
    // Six refusals for load were never judged: they neither lock the username nor spend the code.
    expect((await login()).statusCode).toBe(200);
  });

  it('requires the one-time password to be changed before anything else', async () => {
    w = await createHttpWorld(dialect);
    const { oneTimePassword } = await w.accounts.create({ username: 'po', roles: ['privacy-officer'] }, { id: 'ward', kind: 'system', roles: [] });
    const login = await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'po', password: oneTimePassword } });
    expect(login.json()).toMatchObject({ mustChangePassword: true });
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; Secure; SameSite=Strict/);
    const token = login.json<{ token: string }>().token;
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: `Bearer ${token}` } }), 403, 'auth.password_change_required');
    const weak = await w.app.inject({ method: 'POST', url: '/v1/auth/password', headers: { authorization: `Bearer ${token}` }, payload: { currentPassword: oneTimePassword, newPassword: 'short' } });
    expectProblem(weak, 400, 'account.weak_password');
    const ok = await w.app.inject({ method: 'POST', url: '/v1/auth/password', headers: { authorization: `Bearer ${token}` }, payload: { currentPassword: oneTimePassword, newPassword: 'a long enough passphrase here' } });
    expect(ok.statusCode).toBe(204);
    // The session that changed the password is over; the cookie path works for the new one.
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${token}` } }), 401, 'auth.unauthenticated');
    const again = await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'po', password: 'a long enough passphrase here' } });
    const me = await w.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: `ward_session=${again.json<{ token: string }>().token}` } });
    expect(me.json()).toMatchObject({ roles: ['privacy-officer'], mustChangePassword: false });
  });

  it('ends sessions after the idle timeout and at logout', async () => {
    w = await createHttpWorld(dialect);
    const { token, password, totpSecret } = await w.userWithToken('po', ['privacy-officer']);
    const me = (): Promise<{ statusCode: number }> => w!.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
    w.clock.advance(14 * 60_000);
    expect((await me()).statusCode).toBe(200);
    w.clock.advance(16 * 60_000);
    expect((await me()).statusCode).toBe(401);
    const second = await w.login('po', password, totpSecret);
    const out = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${second}` } });
    expect(out.statusCode).toBe(204);
    expect((await w.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${second}` } })).statusCode).toBe(401);
  });

  it('lets privacy officers search the audit trail, and audits the search', async () => {
    w = await createHttpWorld(dialect);
    for (let i = 0; i < 30; i++) await w.log.append(sampleEntry(i));
    const { token, id } = await w.userWithToken('po', ['privacy-officer']);
    const headers = { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HCOMPL' };
    const res = await w.app.inject({ method: 'GET', url: '/v1/audit/entries?patient=pt-3&limit=2', headers });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ entries: { patient: string; seq: number }[]; nextBefore?: number }>();
    expect(body.entries).toHaveLength(2);
    expect(body.entries.every((e) => e.patient === 'pt-3')).toBe(true);
    expect(body.entries[0]!.seq).toBeGreaterThan(body.entries[1]!.seq);
    const page2 = await w.app.inject({ method: 'GET', url: `/v1/audit/entries?patient=pt-3&limit=2&before=${String(body.nextBefore)}`, headers });
    expect(page2.json<{ entries: { seq: number }[] }>().entries[0]!.seq).toBeLessThan(body.entries[1]!.seq);
    const denied = await w.app.inject({ method: 'GET', url: '/v1/audit/entries?outcome=denied', headers });
    expect(denied.json<{ entries: { outcome: string }[] }>().entries.every((e) => e.outcome === 'denied')).toBe(true);
    await w.log.flush();
    const searches = await w.t.db.selectFrom('audit_entry').select(['principal_id', 'patient_id', 'outcome']).where('action', '=', 'audit.search').execute();
    expect(searches).toContainEqual({ principal_id: id, patient_id: 'pt-3', outcome: 'success' });
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries?limit=100000', headers }), 400, 'request.invalid');
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries?frm=x', headers }), 400, 'request.invalid');
    const freeText = await w.app.inject({ method: 'GET', url: `/v1/audit/entries?patient=${encodeURIComponent('Quillon Vantressa')}`, headers });
    expectProblem(freeText, 400, 'request.invalid');
    expect(freeText.body).not.toContain('Quillon');
  });

  it('denies audit search to other roles (administrators included) and to anonymous callers, and audits the denial', async () => {
    w = await createHttpWorld(dialect);
    const { token, id } = await w.userWithToken('root', ['admin']);
    const po = await w.userWithToken('po', ['privacy-officer']);
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HCOMPL' } }), 403, 'policy.no_matching_rule');
    // A privacy officer too must state a purpose the policy accepts for this action.
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: `Bearer ${po.token}` } }), 403, 'policy.purpose_required');
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: `Bearer ${po.token}`, 'x-purpose-of-use': 'TREAT' } }), 403, 'policy.no_matching_rule');
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: `Bearer ${po.token}`, 'x-purpose-of-use': 'HMARKT' } }), 403, 'policy.marketing_prohibited');
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries' }), 401, 'auth.unauthenticated');
    expectProblem(await w.app.inject({ method: 'GET', url: '/v1/audit/entries', headers: { authorization: 'Bearer wss_forged' } }), 401, 'auth.unauthenticated');
    await w.log.flush();
    const rows = (await w.t.db.selectFrom('audit_entry').select(['body']).where('action', '=', 'access.decision').orderBy('seq').execute())
      .map((r) => JSON.parse(r.body) as { who: { id: string }; outcome: string; reason?: string; purpose?: string; details: Record<string, unknown> });
    expect(rows.map((r) => [r.who.id, r.outcome, r.reason, r.purpose, r.details.action])).toEqual([
      [id, 'denied', 'policy.no_matching_rule', 'HCOMPL', 'audit.search'],
      [po.id, 'denied', 'policy.purpose_required', undefined, 'audit.search'],
      [po.id, 'denied', 'policy.no_matching_rule', 'TREAT', 'audit.search'],
      [po.id, 'denied', 'policy.marketing_prohibited', 'HMARKT', 'audit.search'],
    ]);
    expect(rows[3]!.details).toMatchObject({ rule: 'deny-marketing', authn: 'session' });
    const refused = await w.t.db.selectFrom('audit_entry').select(['outcome', 'body']).where('action', '=', 'auth.authenticate').orderBy('seq').execute();
    expect(refused.map((r) => (JSON.parse(r.body) as { reason: string }).reason)).toEqual(['auth.credential_missing', 'auth.session_invalid']);
  });

  it('fails closed: when the audit entry cannot be written, the search returns 503 and no data', async () => {
    let readonlyLog: AuditLog | undefined;
    w = await createHttpWorld(dialect, {
      auditLog: (aw) => {
        const conn = aw.t.connection;
        const ro = conn.kind === 'sqlite'
          ? openSqlite({ file: conn.file, readonly: true })
          : openPostgres({ url: `${conn.url}${conn.url.includes('?') ? '&' : '?'}options=-c%20default_transaction_read_only%3Don` });
        readonlyLog = new AuditLog({ db: ro.db, clock: aw.clock });
        return readonlyLog;
      },
    });
    for (let i = 0; i < 5; i++) await w.log.append(sampleEntry(i));
    const { token } = await w.userWithToken('po', ['privacy-officer']);
    const res = await w.app.inject({ method: 'GET', url: '/v1/audit/entries?patient=pt-1', headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HCOMPL' } });
    expectProblem(res, 503, 'audit.write_failed');
    expect(res.body).not.toContain('pt-1');
    expect(res.body).not.toContain('entries');
    expect(readonlyLog).toBeDefined();
  });
});
