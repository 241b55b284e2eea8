/**
 * TLS with the real `ward` binary (issue 4 item 5): `ward init --self-signed` makes a
 * certificate, prints its fingerprint and records it, and a plain `ward serve` then answers
 * `/healthz` over HTTPS to a client that pins that certificate as its only CA, with HSTS; a
 * second `init --if-missing --self-signed` keeps it. Plain HTTP on an address other than
 * loopback is refused (`config.plain_http_refused`) unless allowPlainHttp is set; with TLS any
 * address is served. Mutual TLS end to end: `api-keys create --bind-certificate` makes a key
 * that the running server accepts only with that client certificate. All data is synthetic.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WARD_BIN, cleanEnv, runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import { createTestCa } from '../http/testing/test-pki.js';
import type { TestCertificate } from '../http/testing/test-pki.js';
import { HSTS_VALUE } from '../http/hsts.js';

const STACK_LINE = /^\s{4}at /m;
const temps: string[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function ward(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runWard(args, { timeoutMs: 30_000, env });
}

function expectOk(r: RunResult): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stderr).not.toMatch(STACK_LINE);
  return r.stdout;
}

function expectOneLineFailure(r: RunResult): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(1);
  expect(r.stderr).not.toMatch(STACK_LINE);
  const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ward: /);
  return lines[0] ?? '';
}

function dataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'ward-tls-cli-'));
  temps.push(root);
  return join(root, 'ward-data');
}

/** An address of this machine that is not loopback, or the IPv4 wildcard when it has none. */
function nonLoopbackAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '0.0.0.0';
}

interface Server {
  child: ChildProcessWithoutNullStreams;
  url: URL;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `ward serve --port 0` and wait (bounded) for its "serving on" line. */
async function serve(data: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, [WARD_BIN, 'serve', '--data', data, '--port', '0', ...extra], { cwd: tmpdir(), env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "serving on" line; stderr: ${stderr}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = /^ward: serving on (https?:\/\/\S+)$/m.exec(stderr);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`ward serve exited (${String(code)}) before serving; stderr: ${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr, exited };
}

async function stop(s: Server): Promise<void> {
  s.child.kill('SIGTERM');
  expect(await s.exited).toEqual({ code: 0, signal: null });
  expect(s.stderr()).not.toMatch(STACK_LINE);
}

interface Answer {
  status?: number;
  body?: string;
  headers?: http.IncomingHttpHeaders;
  peerSha256?: string;
  error?: string;
}

function get(url: string, options: https.RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, { agent: false, ...options }, (res) => {
      const peer = target.protocol === 'https:' ? (res.socket as TLSSocket).getPeerX509Certificate() : undefined;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ...(peer !== undefined ? { peerSha256: peer.fingerprint256 } : {}) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

function auditReasons(data: string, action: string): (string | undefined)[] {
  const db = new Database(join(data, 'ward.db'), { readonly: true });
  try {
    const rows = db.prepare('select body from audit_entry where action = ? order by seq').all(action) as { body: string }[];
    return rows.map((r) => (JSON.parse(r.body) as { reason?: string }).reason);
  } finally {
    db.close();
  }
}

describe('ward serve with TLS', () => {
  it('init --self-signed, then a plain ward serve answers /healthz over HTTPS to a client pinning the certificate', async () => {
    const data = dataDir();
    const out = expectOk(await ward(['init', '--data', data, '--self-signed']));
    const fingerprint = /SHA-256 fingerprint: ([0-9A-F:]{95})\n/.exec(out)?.[1];
    expect(fingerprint, out).toBeDefined();
    expect(out).toMatch(/ward serve now serves HTTPS/);
    const certPem = readFileSync(join(data, 'tls', 'cert.pem'), 'utf8');
    expect(new X509Certificate(certPem).fingerprint256).toBe(fingerprint);
    expect(statSync(join(data, 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    // Recorded relative to the data directory, so the directory can move.
    expect(JSON.parse(readFileSync(join(data, 'ward.json'), 'utf8'))).toEqual({ tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } });

    const s = await serve(data);
    expect(s.url.protocol).toBe('https:');
    expect(s.url.hostname).toBe('127.0.0.1');
    const health = await get(`${s.url.origin}/healthz`, { ca: certPem });
    expect(health.status, health.error).toBe(200);
    expect(JSON.parse(health.body ?? '{}')).toEqual({ status: 'ok' });
    expect(health.headers?.['strict-transport-security']).toBe(HSTS_VALUE);
    expect(health.peerSha256).toBe(fingerprint);
    // By name too (the certificate names localhost), and nothing that does not pin it gets in.
    expect((await get(`https://localhost:${s.url.port}/healthz`, { ca: certPem })).status).toBe(200);
    expect((await get(`${s.url.origin}/healthz`)).error).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // Plain HTTP to the TLS port gets no answer.
    expect((await get(`http://127.0.0.1:${s.url.port}/healthz`)).status).toBeUndefined();
    await stop(s);

    // Again, with --if-missing: nothing is regenerated.
    const again = expectOk(await ward(['init', '--data', data, '--if-missing', '--self-signed']));
    expect(again).toMatch(/already initialized/);
    expect(again).toMatch(/self-signed certificate already in place \(kept\)/);
    expect(again).toContain(fingerprint);
    expect(readFileSync(join(data, 'tls', 'cert.pem'), 'utf8')).toBe(certPem);
  }, 120_000);

  it('an initialized directory gains TLS with init --if-missing --self-signed, keeping its other settings', async () => {
    const data = dataDir();
    expectOk(await ward(['init', '--data', data]));
    writeFileSync(join(data, 'ward.json'), JSON.stringify({ logLevel: 'warn', port: 8443 }));
    const out = expectOk(await ward(['init', '--data', data, '--if-missing', '--self-signed']));
    expect(out).toMatch(/already initialized/);
    expect(out).toMatch(/ward serve now serves HTTPS/);
    expect(JSON.parse(readFileSync(join(data, 'ward.json'), 'utf8'))).toEqual({ logLevel: 'warn', port: 8443, tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } });
    // A TLS setup the operator made is never replaced.
    writeFileSync(join(data, 'ward.json'), JSON.stringify({ tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' }, logLevel: 'warn' }));
    const kept = expectOk(await ward(['init', '--data', data, '--if-missing', '--self-signed']));
    expect(kept).toMatch(/already in place \(kept\)/);
    const root = join(data, '..');
    copyFileSync(join(data, 'tls', 'cert.pem'), join(root, 'own-cert.pem'));
    copyFileSync(join(data, 'tls', 'key.pem'), join(root, 'own-key.pem'));
    const own = { tls: { certFile: join(root, 'own-cert.pem'), keyFile: join(root, 'own-key.pem') } };
    writeFileSync(join(data, 'ward.json'), JSON.stringify(own));
    expect(expectOk(await ward(['init', '--data', data, '--if-missing', '--self-signed']))).toMatch(/already configured in ward\.json; no self-signed certificate made/);
    expect(JSON.parse(readFileSync(join(data, 'ward.json'), 'utf8'))).toEqual(own);
    writeFileSync(join(data, 'ward.json'), JSON.stringify({ tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } }));
    // A broken key file stops it with one line.
    chmodSync(join(data, 'tls', 'key.pem'), 0o644);
    expect(expectOneLineFailure(await ward(['serve', '--data', data, '--port', '0']))).toMatch(/readable by others.*\[tls\.key_permissions\]$/);
  }, 120_000);

  it('refuses plain HTTP on a non-loopback address unless allowPlainHttp; serves TLS on any address', async () => {
    const data = dataDir();
    expectOk(await ward(['init', '--data', data]));
    const address = nonLoopbackAddress();
    for (const host of [address, '0.0.0.0', '::']) {
      const line = expectOneLineFailure(await ward(['serve', '--data', data, '--port', '0', '--host', host]));
      expect(line).toMatch(/refusing plain HTTP.*\[config\.plain_http_refused\]$/);
    }
    expect(auditReasons(data, 'system.start')).toEqual([]);

    const allowed = await serve(data, ['--host', address], { WARD_ALLOW_PLAIN_HTTP: '1' });
    expect(allowed.url.protocol).toBe('http:');
    expect((await get(`${allowed.url.origin}/healthz`)).status).toBe(200);
    await stop(allowed);

    expectOk(await ward(['init', '--data', data, '--if-missing', '--self-signed']));
    const certPem = readFileSync(join(data, 'tls', 'cert.pem'), 'utf8');
    const secured = await serve(data, ['--host', '0.0.0.0']);
    expect(secured.url.protocol).toBe('https:');
    const res = await get(`https://127.0.0.1:${secured.url.port}/healthz`, { ca: certPem });
    expect(res.status, res.error).toBe(200);
    expect(res.headers?.['strict-transport-security']).toBe(HSTS_VALUE);
    await stop(secured);
  }, 120_000);

  it('mutual TLS: api-keys create --bind-certificate makes a key the server accepts only with that certificate', async () => {
    const data = dataDir();
    expectOk(await ward(['init', '--data', data, '--self-signed']));
    const serverCert = readFileSync(join(data, 'tls', 'cert.pem'), 'utf8');
    const clientCa = await createTestCa('Ward Test Service CA');
    const mine = await clientCa.issue({ commonName: 'intake-bot', usage: 'client' });
    const sibling = await clientCa.issue({ commonName: 'other-bot', usage: 'client' });
    const root = join(data, '..');
    writeFileSync(join(root, 'intake-bot.pem'), mine.pem);
    writeFileSync(join(root, 'not-a-cert.pem'), 'hello\n');

    const note = expectOk(await ward(['api-keys', 'create', '--data', data, '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', '--bind-certificate', join(root, 'intake-bot.pem')]));
    expect(note).toContain(`bound to the client certificate with SHA-256 ${mine.sha256}`);
    expect(note).toMatch(/note: mutual TLS is off/);
    expect(expectOneLineFailure(await ward(['api-keys', 'create', '--data', data, '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', '--bind-certificate', join(root, 'missing.pem')]))).toMatch(/\[api-key\.certificate_unreadable\]$/);
    expect(expectOneLineFailure(await ward(['api-keys', 'create', '--data', data, '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', '--bind-certificate', join(root, 'not-a-cert.pem')]))).toMatch(/\[api-key\.certificate_invalid\]$/);

    // Turn mutual TLS on (optional: services without certificates still use plain keys).
    writeFileSync(join(root, 'client-ca.pem'), clientCa.pem);
    const config = JSON.parse(readFileSync(join(data, 'ward.json'), 'utf8')) as { tls: Record<string, string> };
    writeFileSync(join(data, 'ward.json'), JSON.stringify({ tls: { ...config.tls, clientCaFile: join(root, 'client-ca.pem'), clientCertificates: 'optional' } }));
    const created = expectOk(await ward(['api-keys', 'create', '--data', data, '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', '--bind-certificate', join(root, 'intake-bot.pem')]));
    expect(created).not.toMatch(/note:/);
    const key = /\bkey: (wak_\S+)\n/.exec(created)?.[1] ?? '';
    const plain = /\bkey: (wak_\S+)\n/.exec(expectOk(await ward(['api-keys', 'create', '--data', data, '--service', 'coding-bot', '--role', 'workflow', '--scope', 'model.chat'])))?.[1] ?? '';

    const listed = expectOk(await ward(['api-keys', 'list', '--data', data]));
    expect(listed).toMatch(/CERTIFICATE/);
    expect(listed).toContain(`sha256:${mine.sha256.slice(0, 16)}`);
    const json = expectOk(await ward(['api-keys', 'list', '--data', data, '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { service: string; certificateSha256: string | null });
    expect(json.map((k) => [k.service, k.certificateSha256])).toEqual(expect.arrayContaining([['intake-bot', mine.sha256], ['coding-bot', null]]));

    const s = await serve(data);
    const me = (bearer: string, client?: TestCertificate): Promise<Answer> =>
      get(`${s.url.origin}/v1/auth/me`, { ca: serverCert, headers: { authorization: `Bearer ${bearer}` }, ...(client !== undefined ? { cert: client.pem, key: client.keyPem } : {}) });
    const good = await me(key, mine);
    expect(good.status, good.body ?? good.error).toBe(200);
    expect(JSON.parse(good.body ?? '{}')).toMatchObject({ id: 'svc:intake-bot', authn: 'api-key' });
    expect((await me(key)).status).toBe(401);
    expect((await me(key, sibling)).status).toBe(401);
    expect((await me(plain)).status).toBe(200);
    await stop(s);
    expect(auditReasons(data, 'auth.authenticate')).toEqual(['auth.certificate_mismatch', 'auth.certificate_mismatch']);
    for (const file of ['ward.db', 'ward.db-wal'].map((f) => join(data, f)).filter((f) => existsSync(f))) {
      expect(readFileSync(file).toString('latin1')).not.toContain(key.slice(-43));
    }
  }, 180_000);
});
