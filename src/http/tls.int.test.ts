/**
 * TLS as clients meet it (issue 4 item 5; 45 CFR 164.312(e)(1); NIST SP 800-52r2): real
 * handshakes over loopback against the Ward server built with `tlsServerOptions`, no mocks.
 * TLS 1.2 and 1.3 succeed with AEAD suites; TLS 1.0, 1.1 and weak TLS 1.2 suites fail, while
 * a permissive control server accepts the very same clients (so the clients really offer
 * them); HSTS is on every HTTPS response and never on plain HTTP. Mutual TLS: `required`
 * refuses a handshake without a certificate from the client CA; certificate-bound API keys
 * (RFC 8705 section 3) work only with their certificate, every other attempt gets one 401
 * audited `auth.certificate_mismatch` with no secret written anywhere; unbound keys still work.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TlsConfig } from '../config/tls-config.js';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { HSTS_HEADER, HSTS_VALUE } from './hsts.js';
import { TLS12_CIPHERS, TLS13_CIPHERS, tlsServerOptions } from './tls-server-options.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { audited, everythingWritten } from './testing/http-assertions.js';
import { createTestCa } from './testing/test-pki.js';
import type { TestCa, TestCertificate } from './testing/test-pki.js';

interface Pki {
  serverCa: TestCa;
  server: TestCertificate;
  clientCa: TestCa;
  /** Two service certificates from the client CA, and one from a CA Ward does not trust. */
  clientA: TestCertificate;
  clientB: TestCertificate;
  stranger: TestCertificate;
}

let pki: Pki;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ward-tls-'));
  const serverCa = await createTestCa('Ward Test Server CA');
  const clientCa = await createTestCa('Ward Test Service CA');
  const otherCa = await createTestCa('Some Other CA');
  pki = {
    serverCa, clientCa,
    server: await serverCa.issue({ commonName: 'localhost', usage: 'server' }),
    clientA: await clientCa.issue({ commonName: 'intake-bot', usage: 'client' }),
    clientB: await clientCa.issue({ commonName: 'coding-bot', usage: 'client' }),
    stranger: await otherCa.issue({ commonName: 'intake-bot', usage: 'client' }),
  };
  writeFileSync(join(dir, 'cert.pem'), pki.server.pem);
  writeFileSync(join(dir, 'key.pem'), pki.server.keyPem, { mode: 0o600 });
  chmodSync(join(dir, 'key.pem'), 0o600);
  writeFileSync(join(dir, 'client-ca.pem'), clientCa.pem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tlsConfig(clientCertificates: TlsConfig['clientCertificates'] = 'off'): TlsConfig {
  return { certFile: 'cert.pem', keyFile: 'key.pem', clientCertificates, ...(clientCertificates !== 'off' ? { clientCaFile: 'client-ca.pem' } : {}) };
}

async function listening(w: HttpWorld): Promise<number> {
  await w.app.listen({ host: '127.0.0.1', port: 0 });
  return (w.app.server.address() as AddressInfo).port;
}

type Handshake = { ok: true; protocol: string; cipher: string } | { ok: false; code: string };

/** One bare TLS handshake (no HTTP), reporting the outcome instead of throwing. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.serverCa.pem, ...options }, () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? e.message }));
  });
}

interface Answer {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  error?: string;
}

/** One HTTPS request on its own connection, optionally with a client certificate. */
function httpsGet(port: number, path: string, options: { client?: TestCertificate; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = https.request({
      host: '127.0.0.1', port, path, method: 'GET', agent: false, ca: pki.serverCa.pem, servername: 'localhost',
      ...(options.client !== undefined ? { cert: options.client.pem, key: options.client.keyPem } : {}),
      headers: options.headers ?? {},
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

// Protocol checks do not depend on the database: one is enough.
const oneDatabase: TestDialect[] = testDialects().slice(0, 1);

describe.each(oneDatabase)('TLS protocol versions, ciphers and HSTS ($name)', (dialect) => {
  let w: HttpWorld;
  let port: number;
  let control: tls.Server;
  let controlPort: number;

  beforeAll(async () => {
    w = await createHttpWorld(dialect, { https: tlsServerOptions(tlsConfig(), dir) });
    port = await listening(w);
    // The control: the same certificate, but every protocol and suite OpenSSL still has.
    control = tls.createServer({ cert: pki.server.pem, key: pki.server.keyPem, minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    controlPort = (control.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => control.close(r));
    await w.dispose();
  });

  it('TLS 1.2 and TLS 1.3 handshakes succeed, with ECDHE and AEAD suites only', async () => {
    const v12 = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(v12).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
    // The server's order wins: the first ECDSA suite, not the client's favourite.
    expect(v12.ok && v12.cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    const v13 = await handshake(port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(v13).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
    expect(TLS13_CIPHERS).toContain(v13.ok ? v13.cipher : '');
    // Every TLS 1.2 suite on offer is reachable, one client at a time.
    for (const suite of TLS12_CIPHERS.filter((c) => c.includes('ECDSA'))) {
      expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: suite })).toMatchObject({ ok: true, cipher: suite });
    }
    // And a default client gets TLS 1.3.
    expect(await handshake(port, {})).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
  });

  it('TLS 1.0 and 1.1 handshakes fail (protocol_version alert), though the same clients connect to a permissive server', async () => {
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const client = { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' };
      expect(await handshake(controlPort, client)).toMatchObject({ ok: true, protocol: version });
      expect(await handshake(port, client)).toEqual({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    }
  });

  it('a client offering only weak TLS 1.2 suites (CBC, SHA-1 MACs) fails the handshake', async () => {
    const weak = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384'];
    for (const suite of weak) {
      const client = { maxVersion: 'TLSv1.2' as const, ciphers: `${suite}@SECLEVEL=0` };
      expect(await handshake(controlPort, client)).toMatchObject({ ok: true, protocol: 'TLSv1.2', cipher: suite });
      expect(await handshake(port, client)).toEqual({ ok: false, code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
    }
    const all = { maxVersion: 'TLSv1.2' as const, ciphers: `${weak.join(':')}@SECLEVEL=0` };
    expect(await handshake(port, all)).toEqual({ ok: false, code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
  });

  it('sends Strict-Transport-Security on every HTTPS response: success, 401, 404 and an unreadable URL', async () => {
    const answers = await Promise.all(['/healthz', '/v1/auth/me', '/no-such-route', '/%ZZ'].map((p) => httpsGet(port, p)));
    expect(answers.map((a) => a.status)).toEqual([200, 401, 404, 400]);
    for (const a of answers) {
      expect(a.headers?.[HSTS_HEADER]).toBe(HSTS_VALUE);
      expect(a.headers?.['x-content-type-options']).toBe('nosniff');
    }
  });

  it('never sends HSTS over plain HTTP, and a plain HTTP request to the TLS port gets no answer', async () => {
    const plain = await createHttpWorld(dialect);
    try {
      const res = await plain.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.headers[HSTS_HEADER]).toBeUndefined();
    } finally {
      await plain.dispose();
    }
    const clear = await new Promise<Answer>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve({ status: res.statusCode ?? 0 }));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      req.end();
    });
    expect(clear.status).toBeUndefined();
    expect(clear.error).toBeDefined();
  });
});

describe.each(testDialects())('mutual TLS and certificate-bound API keys on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  async function world(mode: TlsConfig['clientCertificates']): Promise<{ w: HttpWorld; port: number }> {
    w = await createHttpWorld(dialect, { https: tlsServerOptions(tlsConfig(mode), dir) });
    return { w, port: await listening(w) };
  }

  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

  async function mismatches(x: HttpWorld): Promise<unknown[][]> {
    return (await audited(x, 'auth.authenticate')).map((e) => [e.who.id, e.outcome, e.reason, e.details?.method]);
  }

  it('required: the handshake fails without a client certificate or with one from another CA; a certificate from the client CA gets through', async () => {
    const { port } = await world('required');
    const none = await httpsGet(port, '/healthz');
    expect(none.status).toBeUndefined();
    expect(none.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|EPIPE/);
    const stranger = await httpsGet(port, '/healthz', { client: pki.stranger });
    expect(stranger.status).toBeUndefined();
    expect(stranger.error).toMatch(/UNKNOWN_CA|ECONNRESET|EPIPE/);
    // TLS 1.2 as well: the refusal is part of the handshake itself there.
    expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toMatchObject({ ok: false });
    const ok = await httpsGet(port, '/healthz', { client: pki.clientA });
    expect(ok.status).toBe(200);
  });

  it('optional: clients without a certificate reach ordinary authentication; an unbound key works with or without one', async () => {
    const { w: x, port } = await world('optional');
    const { key } = await x.serviceWithKey('intake-bot', ['integration'], ['model.chat']);
    expect((await httpsGet(port, '/healthz')).status).toBe(200);
    expect((await httpsGet(port, '/v1/auth/me')).status).toBe(401);
    for (const client of [undefined, pki.clientA, pki.stranger]) {
      const res = await httpsGet(port, '/v1/auth/me', { headers: bearer(key), ...(client !== undefined ? { client } : {}) });
      expect(res.status, res.body).toBe(200);
      expect(JSON.parse(res.body ?? '{}')).toMatchObject({ id: 'svc:intake-bot', authn: 'api-key' });
    }
  });

  it('a certificate-bound key works only with its certificate: none, a sibling from the same CA, an unknown CA and plain inject each get one 401, audited auth.certificate_mismatch', async () => {
    const { w: x, port } = await world('optional');
    const issued = await x.apiKeys.create({ service: 'intake-bot', roles: ['integration'], scopes: ['model.chat'], certificateSha256: pki.clientA.sha256 }, { id: 'ward', kind: 'system', roles: [] });
    const key = issued.key;
    const good = await httpsGet(port, '/v1/auth/me', { client: pki.clientA, headers: bearer(key) });
    expect(good.status, good.body).toBe(200);
    expect(JSON.parse(good.body ?? '{}')).toMatchObject({ id: 'svc:intake-bot', authn: 'api-key' });

    const refused = [
      await httpsGet(port, '/v1/auth/me', { headers: bearer(key) }),
      await httpsGet(port, '/v1/auth/me', { client: pki.clientB, headers: bearer(key) }),
      await httpsGet(port, '/v1/auth/me', { client: pki.stranger, headers: bearer(key) }),
    ];
    const injected = await x.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(key) });
    const bodies = [...refused.map((r) => JSON.parse(r.body ?? '{}') as Record<string, unknown>), injected.json<Record<string, unknown>>()];
    expect([...refused.map((r) => r.status), injected.statusCode]).toEqual([401, 401, 401, 401]);
    // One answer for every refusal: the same problem as an unknown key.
    for (const b of bodies) expect(b).toMatchObject({ status: 401, code: 'auth.unauthenticated' });
    expect(await mismatches(x)).toEqual(Array<unknown[]>(4).fill(['unauthenticated', 'denied', 'auth.certificate_mismatch', 'api-key']));
    // The binding and its audit trail name the certificate, never the key's secret.
    const [created] = await audited(x, 'api-key.create');
    expect(created?.details?.certificateSha256).toBe(pki.clientA.sha256);
    const written = await everythingWritten(x);
    expect(written).not.toContain(key.slice(-43));
    expect(written).not.toContain(key);
    // A refused use is not a use.
    const [listed] = await x.apiKeys.list();
    expect(listed?.certificateSha256).toBe(pki.clientA.sha256);
  });

  it('required: a bound key with a sibling certificate is refused, with its own certificate accepted, and an unbound key works over mutual TLS', async () => {
    const { w: x, port } = await world('required');
    const system = { id: 'ward', kind: 'system' as const, roles: [] };
    const bound = await x.apiKeys.create({ service: 'intake-bot', roles: ['integration'], scopes: ['model.chat'], certificateSha256: pki.clientA.sha256 }, system);
    const unbound = await x.serviceWithKey('coding-bot', ['workflow'], ['model.chat']);
    expect((await httpsGet(port, '/v1/auth/me', { client: pki.clientA, headers: bearer(bound.key) })).status).toBe(200);
    expect((await httpsGet(port, '/v1/auth/me', { client: pki.clientB, headers: bearer(bound.key) })).status).toBe(401);
    expect((await httpsGet(port, '/v1/auth/me', { client: pki.clientB, headers: bearer(unbound.key) })).status).toBe(200);
    expect(await mismatches(x)).toEqual([['unauthenticated', 'denied', 'auth.certificate_mismatch', 'api-key']]);
  });
});
