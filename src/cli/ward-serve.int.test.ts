/**
 * `ward serve` as operators run it: the real binary in a child process on a fresh data
 * directory, an ephemeral port (--port 0, the address parsed from the "serving on" line),
 * probes, PHI- and credential-free JSON logs, and graceful shutdown on SIGTERM/SIGINT with
 * requests in flight: every request sent before the signal gets a complete response, the
 * process exits 0, and the audit log ends with `system.stop` under a final signed checkpoint.
 * All data is synthetic.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARD_BIN, cleanEnv, runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import Database from 'better-sqlite3';

const STACK_LINE = /^\s{4}at /m;

function ward(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return runWard(args, { timeoutMs });
}

const temps: string[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

afterEach(() => {
  // A failed test must not leave a server behind.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

async function initialized(): Promise<{ data: string; oneTimePassword: string }> {
  const root = mkdtempSync(join(tmpdir(), 'ward-serve-'));
  temps.push(root);
  const data = join(root, 'ward-data');
  const r = await ward(['init', '--data', data]);
  expect(r.code, r.stderr).toBe(0);
  const m = /one-time password:\s*(\S+)/.exec(r.stdout);
  expect(m).not.toBeNull();
  return { data, oneTimePassword: m?.[1] ?? '' };
}

interface Server {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `ward serve --port 0` and wait (bounded) for its "serving on" line. */
async function serve(data: string, extra: string[] = [], timeoutMs = 30_000): Promise<Server> {
  const child = spawn(process.execPath, [WARD_BIN, 'serve', '--data', data, '--port', '0', ...extra], {
    cwd: tmpdir(),
    env: cleanEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ward serve did not report its address within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = /^ward: serving on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(stderr);
      if (m && Number(m[2]) > 0) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`ward serve exited (${String(code ?? signal)}) before serving; stderr: ${stderr}`));
    });
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exited };
}

async function exitWithin(server: Server, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ward serve did not exit within ${ms} ms; stderr: ${server.stderr()}`)), ms);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface HttpOutcome {
  status?: number;
  body?: string;
  headers?: http.IncomingHttpHeaders;
  error?: string;
  /** The connection was established and the request completely written to it. */
  sent: Promise<void>;
}

/** One request on its own connection (no agent), reporting a transport error instead of throwing. */
function request(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): { sent: Promise<void>; done: Promise<Omit<HttpOutcome, 'sent'>> } {
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const done = new Promise<Omit<HttpOutcome, 'sent'>>((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(new URL(path, url), {
      method,
      agent: false,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers },
    });
    // Sent = the TCP connection is established and the whole request has been handed to it.
    let connected = false;
    let finished = false;
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => {
        connected = true;
        if (finished) markSent();
      });
    });
    req.on('finish', () => {
      finished = true;
      if (connected) markSent();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      markSent();
      resolve({ error: e.code ?? e.message });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: `response: ${e.code ?? e.message}` }));
      res.on('aborted', () => resolve({ error: 'response aborted' }));
    });
    req.end(payload);
  });
  return { sent, done };
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await request(url, method, path, body, headers).done;
  if (r.error !== undefined || r.status === undefined) throw new Error(`${method} ${path}: ${r.error ?? 'no response'}`);
  return { status: r.status, body: r.body ?? '' };
}

interface StoredEntry {
  seq: number;
  action: string;
  outcome: string;
  reason?: string;
}

function auditEntries(data: string): StoredEntry[] {
  const db = new Database(join(data, 'ward.db'), { readonly: true });
  try {
    const rows = db.prepare('select body from audit_entry order by seq').all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as StoredEntry);
  } finally {
    db.close();
  }
}

/** `ward audit verify` passes and its latest signed checkpoint covers every entry. */
async function expectVerifiedAndCheckpointed(data: string): Promise<number> {
  const v = await ward(['audit', 'verify', '--data', data]);
  expect(v.code, v.stderr).toBe(0);
  const entries = Number(/intact: (\d+) entries/.exec(v.stdout)?.[1]);
  const covered = Number(/latest checkpoint covers (\d+)/.exec(v.stdout)?.[1]);
  expect(entries).toBeGreaterThan(0);
  expect(covered, v.stdout).toBe(entries);
  return entries;
}

describe('ward serve', () => {
  it('serves on an ephemeral port: /healthz and /readyz answer 200', async () => {
    const { data } = await initialized();
    const s = await serve(data);
    expect(Number(new URL(s.url).port)).toBeGreaterThan(0);
    const health = await call(s.url, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const ready = await call(s.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
    const missing = await call(s.url, 'GET', '/no-such-route');
    expect(missing.status).toBe(404);
    s.child.kill('SIGTERM');
    expect(await exitWithin(s, 30_000)).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('logs JSON lines on stdout that never carry a password, a session token or a query string', async () => {
    const { data, oneTimePassword } = await initialized();
    expect(oneTimePassword.length).toBeGreaterThanOrEqual(12);
    const s = await serve(data);
    const wrongPassword = `canary-${randomBytes(9).toString('hex')}`;
    const queryCanary = `pat-canary-${randomBytes(6).toString('hex')}`;

    const login = await call(s.url, 'POST', '/v1/auth/login', { username: 'admin', password: oneTimePassword });
    expect(login.status, login.body).toBe(200);
    const token = (JSON.parse(login.body) as { token?: unknown }).token;
    expect(typeof token).toBe('string');
    const tokenText = token as string;
    expect(tokenText.length).toBeGreaterThanOrEqual(32);
    const me = await call(s.url, 'GET', '/v1/auth/me', undefined, { authorization: `Bearer ${tokenText}` });
    expect(me.status, me.body).toBe(200);
    const denied = await call(s.url, 'POST', '/v1/auth/login', { username: 'admin', password: wrongPassword });
    expect(denied.status).toBe(401);
    expect(denied.body).not.toContain(wrongPassword);
    const probe = await call(s.url, 'GET', `/healthz?patient=${queryCanary}`);
    expect(probe.status).toBe(200);
    const badToken = await call(s.url, 'GET', '/v1/auth/me', undefined, { authorization: `Bearer ${tokenText}x` });
    expect(badToken.status).toBe(401);

    s.child.kill('SIGTERM');
    expect(await exitWithin(s, 30_000)).toEqual({ code: 0, signal: null });

    const out = s.stdout();
    const lines = out.split('\n').filter((l) => l.length > 0);
    // At least the start line, one per request above, and the shutdown lines.
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) {
      const v: unknown = JSON.parse(line);
      expect(typeof v === 'object' && v !== null, line).toBe(true);
      const rec = v as { level?: unknown; time?: unknown; msg?: unknown };
      expect(typeof rec.level, line).toBe('number');
      expect(typeof rec.time, line).toBe('number');
    }
    const requestLines = lines.map((l) => JSON.parse(l) as { msg?: unknown; route?: unknown; status?: unknown }).filter((r) => r.msg === 'request');
    expect(requestLines.map((r) => r.route)).toEqual(expect.arrayContaining(['/v1/auth/login', '/v1/auth/me', '/healthz']));
    for (const secret of [oneTimePassword, tokenText, tokenText.slice(-24), wrongPassword, queryCanary]) {
      expect(out.includes(secret), 'stdout holds a secret').toBe(false);
      expect(s.stderr().includes(secret), 'stderr holds a secret').toBe(false);
    }
  }, 90_000);

  it('SIGTERM with 50 logins in flight: every request sent gets a complete response, exit 0, system.stop under a final checkpoint', async () => {
    const { data } = await initialized();
    const s = await serve(data);
    const ready = await call(s.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);

    // Each wrong-password login runs an argon2 verification, so 50 of them take a while.
    const N = 50;
    let answeredBeforeSignal = 0;
    let signalled = false;
    const inFlight = Array.from({ length: N }, (_, i) => request(s.url, 'POST', '/v1/auth/login', { username: `user${i}`, password: `wrong-${i}-${randomBytes(4).toString('hex')}` }));
    for (const r of inFlight) void r.done.then(() => { if (!signalled) answeredBeforeSignal += 1; });
    await Promise.all(inFlight.map((r) => r.sent));
    signalled = true;
    expect(s.child.kill('SIGTERM')).toBe(true);

    const outcomes = await Promise.all(inFlight.map((r) => r.done));
    const exit = await exitWithin(s, 60_000);

    // The test only means something when the signal arrived while requests were being served.
    expect(answeredBeforeSignal, 'all requests were answered before the signal; nothing was in flight').toBeLessThan(N);
    const failures = outcomes.filter((o) => o.error !== undefined || o.status === undefined);
    expect(failures.map((f) => f.error)).toEqual([]);
    for (const o of outcomes) {
      // Served to the end (401), refused cleanly because the server is closing (503), or
      // refused by the login concurrency cap (429): always a complete response.
      expect([401, 429, 503]).toContain(o.status);
      expect(() => JSON.parse(o.body ?? '') as unknown).not.toThrow();
    }
    expect(exit).toEqual({ code: 0, signal: null });
    expect(s.stderr()).not.toMatch(STACK_LINE);
    expect(s.stderr()).not.toMatch(/shutdown incomplete/);

    const total = await expectVerifiedAndCheckpointed(data);
    const entries = auditEntries(data);
    expect(entries).toHaveLength(total);
    const last = entries.at(-1);
    expect(last?.action).toBe('system.stop');
    expect(last?.reason).toBe('system.sigterm');
    expect(entries.filter((e) => e.action === 'system.stop')).toHaveLength(1);
    // Every refusal the server sent was audited before the process stopped (fail closed): the
    // 401s, and the 429s of the per-address failure limit (the concurrency cap's 429
    // `auth.busy` is load shedding, not a sign-in decision).
    const denied = entries.filter((e) => e.action === 'auth.login' && e.outcome === 'denied');
    const decided = outcomes.filter((o) => o.status === 401 || (o.status === 429 && (JSON.parse(o.body ?? '{}') as { code?: string }).code !== 'auth.busy'));
    expect(denied).toHaveLength(decided.length);
    // And nothing was recorded after system.stop.
    const stopIndex = entries.findIndex((e) => e.action === 'system.stop');
    expect(stopIndex).toBe(entries.length - 1);
  }, 120_000);

  it('SIGINT (Ctrl-C) stops cleanly too, and a restarted server keeps one verified log', async () => {
    const { data } = await initialized();
    const s = await serve(data);
    expect((await call(s.url, 'GET', '/readyz')).status).toBe(200);
    expect(s.child.kill('SIGINT')).toBe(true);
    expect(await exitWithin(s, 30_000)).toEqual({ code: 0, signal: null });
    expect(s.stderr()).not.toMatch(STACK_LINE);
    await expectVerifiedAndCheckpointed(data);
    const first = auditEntries(data);
    expect(first.at(-1)).toMatchObject({ action: 'system.stop', reason: 'system.sigint' });

    // A second run appends to the same chain.
    const again = await serve(data);
    expect((await call(again.url, 'GET', '/healthz')).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await exitWithin(again, 30_000)).toEqual({ code: 0, signal: null });
    await expectVerifiedAndCheckpointed(data);
    const both = auditEntries(data);
    expect(both.slice(0, first.length)).toEqual(first);
    expect(both.filter((e) => e.action === 'system.start')).toHaveLength(2);
    expect(both.filter((e) => e.action === 'system.stop')).toHaveLength(2);
  }, 120_000);

  it('refuses plain HTTP beyond loopback (--host 0.0.0.0) with a one-line error and a non-zero exit', async () => {
    const { data } = await initialized();
    const before = auditEntries(data).length;
    const r = await ward(['serve', '--data', data, '--port', '0', '--host', '0.0.0.0']);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toMatch(/serving on/);
    const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ward: .*plain HTTP/);
    // Refused before anything started: no system.start was recorded.
    expect(auditEntries(data)).toHaveLength(before);
  }, 60_000);
});
