/**
 * The `ward` command as users run it: the real binary (bin/ward.js) in a child process, each
 * test in a fresh temporary data directory. What is checked is what administrators and other
 * tools depend on: exit codes, one-line errors without stack traces, file permissions, the
 * one-time password shown once, tamper evidence, proofs and exports. All data is synthetic.
 */
import { STACK_LINE, expectOneLineFailure } from './testing/cli-expectations.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import pg from 'pg';
import { createTestPgDatabase } from '../storage/testing/test-databases.js';

function ward(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return runWard(args, options);
}

function oneTimePasswordsIn(text: string): string[] {
  return [...text.matchAll(/one-time password:\s*(\S+)/g)].map((m) => m[1] ?? '');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

interface JsonObject {
  [key: string]: unknown;
}

function jsonLines(text: string): JsonObject[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  return lines.map((l) => {
    const v: unknown = JSON.parse(l);
    expect(typeof v === 'object' && v !== null && !Array.isArray(v), l).toBe(true);
    return v as JsonObject;
  });
}

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-cli-'));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A fresh, initialized data directory (SQLite), with what init printed. */
async function initialized(): Promise<{ root: string; data: string; init: RunResult }> {
  const root = tempDir();
  const data = join(root, 'ward-data');
  const init = await ward(['init', '--data', data]);
  expect(init.code, init.stderr).toBe(0);
  return { root, data, init };
}

function latestCheckpointCovers(verifyOut: string): number | undefined {
  const m = /latest checkpoint covers (\d+)/.exec(verifyOut);
  return m ? Number(m[1]) : undefined;
}

function entryCountOf(verifyOut: string): number | undefined {
  const m = /intact: (\d+) entries/.exec(verifyOut);
  return m ? Number(m[1]) : undefined;
}

describe('ward init', () => {
  it('creates a private data directory and key files, shows the one-time password once, refuses a second init', async () => {
    const root = tempDir();
    const data = join(root, 'nested', 'ward-data');
    const r = await ward(['init', '--data', data, '--admin', 'site-admin']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');

    expect(mode(data)).toBe(0o700);
    expect(mode(join(data, 'keys'))).toBe(0o700);
    const keyFiles = readdirSync(join(data, 'keys'));
    expect(keyFiles.sort()).toEqual(['audit-signing-key.pem', 'audit-signing-key.pub.pem', 'local-kek.json']);
    for (const f of keyFiles) expect(mode(join(data, 'keys', f)), f).toBe(0o600);
    expect(mode(join(data, 'ward.db'))).toBe(0o600);
    // Nothing in the data directory is readable by group or others.
    for (const f of readdirSync(data)) expect(mode(join(data, f)) & 0o077, f).toBe(0);

    const passwords = oneTimePasswordsIn(r.stdout);
    expect(passwords).toHaveLength(1);
    const otp = passwords[0] ?? '';
    expect(otp.length).toBeGreaterThanOrEqual(12);
    expect(r.stdout).toContain('site-admin');
    expect(r.stdout).toMatch(/SQLite/);
    // The password never lands in a file of the data directory in clear.
    for (const f of ['ward.db', 'audit-checkpoints.jsonl', 'keys/local-kek.json']) {
      if (existsSync(join(data, f))) expect(readFileSync(join(data, f)).includes(otp), f).toBe(false);
    }

    const again = await ward(['init', '--data', data]);
    const line = expectOneLineFailure(again);
    expect(line).toMatch(/already initialized/);
    expect(again.stdout).not.toMatch(/one-time password/);

    const ifMissing = await ward(['init', '--data', data, '--if-missing']);
    expect(ifMissing.code, ifMissing.stderr).toBe(0);
    expect(ifMissing.stdout).toMatch(/already initialized/);
    expect(oneTimePasswordsIn(ifMissing.stdout + ifMissing.stderr)).toHaveLength(0);
    expect(ifMissing.stderr).not.toMatch(STACK_LINE);

    // The data directory resolves against the working directory by default (./ward-data).
    const cwd = tempDir();
    const byDefault = await ward(['init'], { cwd });
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(mode(join(cwd, 'ward-data'))).toBe(0o700);
  }, 90_000);

  it('init --if-missing on an empty place initializes it and shows the password', async () => {
    const data = join(tempDir(), 'ward-data');
    const r = await ward(['init', '--data', data, '--if-missing']);
    expect(r.code, r.stderr).toBe(0);
    expect(oneTimePasswordsIn(r.stdout)).toHaveLength(1);
    expect(existsSync(join(data, 'keys', 'local-kek.json'))).toBe(true);
  }, 60_000);
});

describe('ward migrate', () => {
  it('reports an initialized database as up to date', async () => {
    const { data } = await initialized();
    const r = await ward(['migrate', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/up to date/);
  }, 60_000);
});

describe('ward audit verify', () => {
  it('exits 0 and says intact on a fresh data directory', async () => {
    const { data } = await initialized();
    const r = await ward(['audit', 'verify', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/intact/);
    expect(r.stdout).not.toMatch(/NOT intact/);
    // init records itself and the administrator's account, and checkpoints on close.
    const entries = entryCountOf(r.stdout);
    expect(entries).toBeGreaterThanOrEqual(2);
    expect(latestCheckpointCovers(r.stdout)).toBe(entries);
  }, 60_000);

  it('exits 1 and names the first bad entry after the database was edited behind its back', async () => {
    const { data } = await initialized();
    // A few more entries, so the edited one sits in the middle of the log.
    for (const u of ['sched-1', 'coder-1']) {
      const r = await ward(['users', 'add', '--username', u, '--role', 'scheduler', '--data', data]);
      expect(r.code, r.stderr).toBe(0);
    }
    const before = await ward(['audit', 'verify', '--data', data]);
    expect(before.code, before.stderr).toBe(0);
    const total = entryCountOf(before.stdout) ?? 0;
    expect(total).toBeGreaterThanOrEqual(4);

    // A database administrator with full access: drop the append-only triggers, edit one body.
    const db = new Database(join(data, 'ward.db'));
    try {
      db.exec('drop trigger if exists audit_entry_no_update; drop trigger if exists audit_entry_no_delete');
      const row = db.prepare('select body from audit_entry where seq = 2').get() as { body: string } | undefined;
      expect(row).toBeDefined();
      const body = row?.body ?? '';
      expect(body).toContain('"outcome":"success"');
      const changed = body.replace('"outcome":"success"', '"outcome":"failure"');
      expect(changed).not.toBe(body);
      expect(db.prepare('update audit_entry set body = ? where seq = 2').run(changed).changes).toBe(1);
    } finally {
      db.close();
    }

    const after = await ward(['audit', 'verify', '--data', data]);
    const line = expectOneLineFailure(after);
    expect(line).toMatch(/NOT intact/);
    expect(line).toMatch(/first bad entry 2\b/);
    expect(after.stdout).not.toMatch(/intact/);
  }, 90_000);
});

describe('ward audit checkpoint / proof / check-proof', () => {
  it('proves inclusion of an entry, and refuses a hand-edited proof or a foreign public key', async () => {
    const { root, data } = await initialized();
    const cp = await ward(['audit', 'checkpoint', '--data', data]);
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.stdout).toMatch(/checkpoint signed|no new entries/);

    const proofFile = join(root, 'proof-1.json');
    const proof = await ward(['audit', 'proof', '1', '--out', proofFile, '--data', data]);
    expect(proof.code, proof.stderr).toBe(0);
    expect(mode(proofFile)).toBe(0o600);
    const doc = JSON.parse(readFileSync(proofFile, 'utf8')) as { seq: unknown; entry: unknown };
    expect(doc.seq).toBe(1);
    expect(typeof doc.entry).toBe('string');

    const ok = await ward(['audit', 'check-proof', proofFile, '--data', data]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/proof valid/);

    // Offline: a verifier with only the public key and the proof, no data directory.
    const elsewhere = tempDir();
    const pubCopy = join(elsewhere, 'ward-audit.pub.pem');
    copyFileSync(join(data, 'keys', 'audit-signing-key.pub.pem'), pubCopy);
    const offline = await ward(['audit', 'check-proof', proofFile, '--public-key', pubCopy], { cwd: elsewhere });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(/proof valid: entry 1\b/);

    // The proof itself is an audited access.
    const exported = await ward(['audit', 'export', '--format', 'jsonl', '--data', data]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(jsonLines(exported.stdout).some((e) => e.action === 'audit.proof')).toBe(true);

    // One character of the entry changed by hand.
    const entry = doc.entry as string;
    const at = entry.indexOf('"outcome":"success"') + '"outcome":"'.length;
    expect(at).toBeGreaterThan(20);
    const edited = { ...doc, entry: `${entry.slice(0, at)}S${entry.slice(at + 1)}` };
    expect(edited.entry).not.toBe(entry);
    expect(edited.entry.length).toBe(entry.length);
    const editedFile = join(root, 'proof-edited.json');
    writeFileSync(editedFile, JSON.stringify(edited, null, 2));
    const bad = await ward(['audit', 'check-proof', editedFile, '--data', data]);
    expect(expectOneLineFailure(bad)).toMatch(/NOT valid/);

    // The genuine proof against somebody else's public key.
    const foreign = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    const foreignFile = join(root, 'foreign.pub.pem');
    writeFileSync(foreignFile, foreign);
    const wrongKey = await ward(['audit', 'check-proof', proofFile, '--public-key', foreignFile, '--data', data]);
    expect(expectOneLineFailure(wrongKey)).toMatch(/NOT valid/);

    // Garbage instead of a proof.
    const junk = join(root, 'junk.json');
    writeFileSync(junk, 'not json at all');
    const unreadable = await ward(['audit', 'check-proof', junk, '--data', data]);
    expectOneLineFailure(unreadable);

    // A sequence number beyond the log is refused, not proven.
    const beyond = await ward(['audit', 'proof', '999999', '--data', data]);
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).not.toMatch(STACK_LINE);
    expect(beyond.stdout).toBe('');
  }, 120_000);
});

describe('ward audit export', () => {
  it('writes one JSON object per line (jsonl and FHIR), records each export, filters by patient', async () => {
    const { root, data } = await initialized();

    const jsonl = await ward(['audit', 'export', '--format', 'jsonl', '--data', data]);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const entries = jsonLines(jsonl.stdout);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const e of entries) {
      expect(typeof e.seq).toBe('number');
      expect(typeof e.action).toBe('string');
      expect(e.leafHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.chainHash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.map((e) => e.action)).toContain('system.init');
    // The export records itself before any data leaves, so it is part of its own output.
    const self = entries.at(-1);
    expect(self?.action).toBe('audit.export');
    expect(self?.details).toEqual({ format: 'jsonl' });
    expect(jsonl.stderr).toMatch(new RegExp(`exported ${entries.length} entries`));

    const fhir = await ward(['audit', 'export', '--format', 'fhir', '--data', data]);
    expect(fhir.code, fhir.stderr).toBe(0);
    const events = jsonLines(fhir.stdout);
    expect(events).toHaveLength(entries.length + 1);
    for (const ev of events) {
      expect(ev.resourceType).toBe('AuditEvent');
      expect(typeof ev.recorded).toBe('string');
    }
    expect(JSON.stringify(events.at(-1))).toContain('audit.export');

    // Both exports are in the log: the fhir one as well.
    const again = jsonLines((await ward(['audit', 'export', '--format', 'jsonl', '--data', data])).stdout);
    const exportsRecorded = again.filter((e) => e.action === 'audit.export');
    expect(exportsRecorded.map((e) => (e.details as { format?: unknown } | undefined)?.format)).toEqual(['jsonl', 'fhir', 'jsonl']);

    // --patient: only entries about that patient (an export about a patient is about that patient).
    const p1 = 'pat-synthetic-001';
    const p2 = 'pat-synthetic-002';
    const first = await ward(['audit', 'export', '--format', 'jsonl', '--patient', p1, '--data', data]);
    expect(first.code, first.stderr).toBe(0);
    const firstLines = jsonLines(first.stdout);
    expect(firstLines).toHaveLength(1);
    expect(firstLines[0]?.patient).toBe(p1);
    const second = await ward(['audit', 'export', '--format', 'fhir', '--patient', p2, '--data', data]);
    expect(second.code, second.stderr).toBe(0);
    const secondLines = jsonLines(second.stdout);
    expect(secondLines).toHaveLength(1);
    expect(secondLines[0]?.resourceType).toBe('AuditEvent');
    expect(JSON.stringify(secondLines[0])).toContain(p2);
    expect(JSON.stringify(secondLines[0])).not.toContain(p1);
    const third = await ward(['audit', 'export', '--format', 'jsonl', '--patient', p1, '--data', data]);
    const thirdLines = jsonLines(third.stdout);
    expect(thirdLines).toHaveLength(2);
    for (const e of thirdLines) expect(e.patient).toBe(p1);
    const nobody = await ward(['audit', 'export', '--format', 'jsonl', '--patient', 'pat-never-seen', '--since', '2999-01-01T00:00:00Z', '--data', data]);
    expect(nobody.code, nobody.stderr).toBe(0);
    expect(nobody.stdout).toBe('');

    // --out writes a private file and nothing to standard output.
    const outFile = join(root, 'audit.ndjson');
    const toFile = await ward(['audit', 'export', '--format', 'fhir', '--out', outFile, '--data', data]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(mode(outFile)).toBe(0o600);
    for (const ev of jsonLines(readFileSync(outFile, 'utf8'))) expect(ev.resourceType).toBe('AuditEvent');

    // A missing or unknown format is a usage error.
    const noFormat = await ward(['audit', 'export', '--data', data]);
    expect(noFormat.code).not.toBe(0);
    expect(noFormat.stderr).toMatch(/--format/);
    const badFormat = await ward(['audit', 'export', '--format', 'csv', '--data', data]);
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/csv|fhir, jsonl/);

    // Every export and the log itself still verify.
    const verify = await ward(['audit', 'verify', '--data', data]);
    expect(verify.code, verify.stderr).toBe(0);
  }, 120_000);
});

describe('ward users add', () => {
  it('creates an account with a one-time password, and refuses an unknown role or a duplicate name clearly', async () => {
    const { data } = await initialized();
    const r = await ward(['users', 'add', '--username', 'po', '--role', 'privacy-officer', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created po\b/);
    expect(r.stdout).toMatch(/privacy-officer/);
    const passwords = oneTimePasswordsIn(r.stdout);
    expect(passwords).toHaveLength(1);
    expect((passwords[0] ?? '').length).toBeGreaterThanOrEqual(12);

    const multi = await ward(['users', 'add', '--username', 'doc.1', '--role', 'clinician', 'coder', '--data', data]);
    expect(multi.code, multi.stderr).toBe(0);
    expect(multi.stdout).toMatch(/clinician/);
    expect(multi.stdout).toMatch(/coder/);
    expect(oneTimePasswordsIn(multi.stdout)).toHaveLength(1);
    // Two accounts, two different passwords.
    expect(oneTimePasswordsIn(multi.stdout)[0]).not.toBe(passwords[0]);

    const unknownRole = await ward(['users', 'add', '--username', 'po2', '--role', 'wizard', '--data', data]);
    const line = expectOneLineFailure(unknownRole);
    expect(line).toMatch(/role/);
    expect(unknownRole.stdout).not.toMatch(/one-time password/);

    const duplicate = await ward(['users', 'add', '--username', 'po', '--role', 'coder', '--data', data]);
    expectOneLineFailure(duplicate);
    expect(duplicate.stdout).not.toMatch(/one-time password/);

    const verify = await ward(['audit', 'verify', '--data', data]);
    expect(verify.code, verify.stderr).toBe(0);
    const exported = jsonLines((await ward(['audit', 'export', '--format', 'jsonl', '--data', data])).stdout);
    expect(exported.filter((e) => e.action === 'account.create' && e.outcome === 'success')).toHaveLength(3);
  }, 90_000);
});

describe('usage', () => {
  const commands = [
    [], ['init'], ['serve'], ['migrate'], ['audit'], ['audit', 'verify'], ['audit', 'export'], ['audit', 'checkpoint'],
    ['audit', 'proof'], ['audit', 'check-proof'], ['users'], ['users', 'add'],
  ];

  it('every command answers --help with exit 0 and usage on stdout', async () => {
    const results = await Promise.all(commands.map((c) => ward([...c, '--help'])));
    results.forEach((r, i) => {
      const name = ['ward', ...(commands[i] ?? [])].join(' ');
      expect(r.code, `${name} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout, name).toMatch(/^Usage: ward/);
      expect(r.stderr, name).toBe('');
    });
    const version = await ward(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  }, 120_000);

  it('an unknown command, unknown option, missing option or bad argument exits non-zero with a one-line error', async () => {
    const data = join(tempDir(), 'ward-data');
    const cases: { args: string[]; mentions: RegExp }[] = [
      { args: ['frobnicate'], mentions: /unknown command 'frobnicate'/ },
      { args: ['audit', 'frobnicate'], mentions: /unknown command 'frobnicate'/ },
      { args: ['init', '--no-such-option'], mentions: /unknown option '--no-such-option'/ },
      { args: ['users', 'add', '--role', 'admin', '--data', data], mentions: /--username/ },
      { args: ['users', 'add', '--username', 'x', '--data', data], mentions: /--role/ },
      { args: ['audit', 'proof', '--data', data], mentions: /seq/ },
      { args: ['audit', 'proof', 'zero', '--data', data], mentions: /positive integer/ },
      { args: ['serve', '--port', '70000', '--data', data], mentions: /port/ },
    ];
    const results = await Promise.all(cases.map((c) => ward(c.args)));
    results.forEach((r, i) => {
      const c = cases[i];
      if (c === undefined) return;
      const name = `ward ${c.args.join(' ')}`;
      expect(r.code, name).not.toBe(0);
      expect(r.code, name).not.toBeNull();
      expect(r.stderr, name).not.toMatch(STACK_LINE);
      // One error line; commander may add a hint pointing at --help.
      const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0 && !/--help for usage/.test(l));
      expect(lines, `${name}: ${r.stderr}`).toHaveLength(1);
      expect(lines[0], name).toMatch(c.mentions);
      expect(r.stdout, name).toBe('');
    });
    // None of the failed commands created the data directory.
    expect(existsSync(data)).toBe(false);
  }, 120_000);

  it('commands on an uninitialized data directory say to run `ward init`, without a stack trace', async () => {
    const root = tempDir();
    const data = join(root, 'not-initialized');
    const proofFile = join(root, 'proof.json');
    writeFileSync(proofFile, '{}');
    const cases = [
      ['audit', 'verify'], ['audit', 'export', '--format', 'jsonl'], ['audit', 'checkpoint'], ['audit', 'proof', '1'],
      ['users', 'add', '--username', 'po', '--role', 'privacy-officer'], ['serve', '--port', '0'], ['migrate'],
    ];
    const results = await Promise.all(cases.map((c) => ward([...c, '--data', data])));
    const problems: string[] = [];
    results.forEach((r, i) => {
      const name = `ward ${(cases[i] ?? []).join(' ')}`;
      if (r.code !== 1) problems.push(`${name}: exit ${String(r.code)}`);
      if (STACK_LINE.test(r.stderr)) problems.push(`${name}: stack trace on stderr`);
      const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
      if (lines.length !== 1 || !lines[0]?.startsWith('ward: ')) problems.push(`${name}: stderr is not one "ward: ..." line: ${JSON.stringify(r.stderr)}`);
      if (!r.stderr.includes('ward init')) problems.push(`${name}: does not say to run \`ward init\`: ${r.stderr.trim()}`);
    });
    // check-proof without --public-key needs the data directory's key: it fails cleanly too.
    const checkProof = await ward(['audit', 'check-proof', proofFile, '--data', data]);
    expectOneLineFailure(checkProof);
    expect(problems).toEqual([]);
    // And none of them created the data directory as a side effect.
    expect(existsSync(data)).toBe(false);
  }, 120_000);

  it('an existing but empty directory is not initialized either: no database appears in it', async () => {
    const data = join(tempDir(), 'empty');
    mkdirSync(data, { mode: 0o700 });
    const migrate = await ward(['migrate', '--data', data]);
    const verify = await ward(['audit', 'verify', '--data', data]);
    const problems: string[] = [];
    for (const [name, r] of [['migrate', migrate], ['audit verify', verify]] as const) {
      if (r.code === 0) problems.push(`${name}: exit 0 on an uninitialized directory`);
      if (!r.stderr.includes('ward init')) problems.push(`${name}: does not say to run \`ward init\`: ${r.stderr.trim()}`);
      if (STACK_LINE.test(r.stderr)) problems.push(`${name}: stack trace`);
    }
    expect(problems).toEqual([]);
    expect(readdirSync(data)).toEqual([]);
  }, 60_000);
});

describe('ward on PostgreSQL (DATABASE_URL)', () => {
  let dbUrl = '';
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url: dbUrl, drop } = await createTestPgDatabase('ward_t_cli'));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('init, audit verify, users add and export run against PostgreSQL, with no SQLite file', async () => {
    const root = tempDir();
    const data = join(root, 'ward-data');
    const env = { DATABASE_URL: dbUrl };
    const init = await ward(['init', '--data', data], { env });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/PostgreSQL/);
    expect(oneTimePasswordsIn(init.stdout)).toHaveLength(1);
    expect(mode(data)).toBe(0o700);
    for (const f of readdirSync(join(data, 'keys'))) expect(mode(join(data, 'keys', f)), f).toBe(0o600);
    expect(existsSync(join(data, 'ward.db'))).toBe(false);

    const verify = await ward(['audit', 'verify', '--data', data], { env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact/);

    const add = await ward(['users', 'add', '--username', 'po', '--role', 'privacy-officer', '--data', data], { env });
    expect(add.code, add.stderr).toBe(0);
    expect(oneTimePasswordsIn(add.stdout)).toHaveLength(1);

    const bad = await ward(['users', 'add', '--username', 'po2', '--role', 'wizard', '--data', data], { env });
    expect(expectOneLineFailure(bad)).toMatch(/role/);

    const second = await ward(['init', '--data', data], { env });
    expectOneLineFailure(second);

    const again = await ward(['audit', 'verify', '--data', data], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(entryCountOf(again.stdout)).toBeGreaterThanOrEqual(3);

    // The rows are really in PostgreSQL.
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      const accounts = await c.query<{ username: string }>('select username from account order by username');
      expect(accounts.rows.map((r) => r.username)).toEqual(['admin', 'po']);
      const n = await c.query<{ n: string }>('select count(*)::text as n from audit_entry');
      expect(Number(n.rows[0]?.n)).toBe(entryCountOf(again.stdout));
    } finally {
      await c.end();
    }

    // Tampering is caught on PostgreSQL too.
    const t = new pg.Client({ connectionString: dbUrl });
    await t.connect();
    try {
      await t.query('alter table audit_entry disable trigger user');
      const r = await t.query("update audit_entry set body = replace(body, '\"outcome\":\"success\"', '\"outcome\":\"failure\"') where seq = 2");
      expect(r.rowCount).toBe(1);
    } finally {
      await t.end();
    }
    const tampered = await ward(['audit', 'verify', '--data', data], { env });
    expect(expectOneLineFailure(tampered)).toMatch(/first bad entry 2\b/);
  }, 120_000);
});
