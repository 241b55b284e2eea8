/**
 * Identity and access from the console, as administrators run it: the real `ward` binary in a
 * child process for `users`, `api-keys`, `care-team` and `policy`, on one shared data
 * directory (the tests build on each other's state, in file order), then the same core
 * commands once against PostgreSQL. Checked: exit codes, one-line `ward:` errors without
 * stack traces, secrets shown once and never listed or audited, what `policy explain` says,
 * and that every change is audited as the person at the console. All data is synthetic.
 */
import { STACK_LINE, expectOk, expectOneLineFailure } from './testing/cli-expectations.js';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import { consoleUser } from './console-user.js';
import { createTestPgDatabase } from '../storage/testing/test-databases.js';

const KEY_SHAPE = /\bkey: (wak_([a-z2-7]{12})_([A-Za-z0-9_-]{43}))\n/;

function oneTimePasswordsIn(text: string): string[] {
  return [...text.matchAll(/one-time password:\s*(\S+)/g)].map((m) => m[1] ?? '');
}

/** The key `api-keys create|rotate` printed: the whole key, its id and its secret. */
function issuedKey(stdout: string): { key: string; id: string; secret: string } {
  const m = KEY_SHAPE.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return { key: m?.[1] ?? '', id: m?.[2] ?? '', secret: m?.[3] ?? '' };
}

interface JsonObject {
  [key: string]: unknown;
}

function jsonLines(text: string): JsonObject[] {
  return text.split('\n').filter((l) => l.length > 0).map((l) => {
    const v: unknown = JSON.parse(l);
    expect(typeof v === 'object' && v !== null && !Array.isArray(v), l).toBe(true);
    return v as JsonObject;
  });
}

/** The data rows of a `formatTable` listing whose first column is `first`, split on runs of spaces. */
function tableRow(stdout: string, first: string): string[] {
  const row = stdout.split('\n').map((l) => l.trim().split(/\s{2,}/)).find((cells) => cells[0] === first);
  expect(row, `no row for ${first} in:\n${stdout}`).toBeDefined();
  return row ?? [];
}

/** Every file under `dir`, as bytes, for "the secret is nowhere on disk" checks. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ path: p, bytes: readFileSync(p) });
  }
  return out;
}

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-identity-'));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const CLINICIAN = 'dr.grey';
const PATIENT = 'pt-1';

describe('identity commands on SQLite (one data directory, tests in order)', () => {
  let root = '';
  let data = '';
  const secrets: string[] = [];
  let keyId = '';
  let rotatedKeyId = '';
  const ward = (args: string[]): Promise<RunResult> => runWard([...args, '--data', data]);
  const explainArgs = (principal: string, extra: string[] = []): string[] =>
    ['policy', 'explain', '--principal', principal, '--action', 'patient.read', '--purpose', 'TREAT', '--patient', PATIENT, ...extra];

  beforeAll(async () => {
    root = tempDir();
    data = join(root, 'ward-data');
    const init = await runWard(['init', '--data', data]);
    expect(init.code, init.stderr).toBe(0);
    secrets.push(...oneTimePasswordsIn(init.stdout));
  }, 60_000);

  it('users add|list|disable|enable|reset-mfa: person roles only, status changes, no password hash listed', async () => {
    const add = expectOk(await ward(['users', 'add', '--username', CLINICIAN, '--role', 'clinician']));
    expect(add).toMatch(new RegExp(`created ${CLINICIAN.replace('.', '\\.')} \\(usr_`));
    const otp = oneTimePasswordsIn(add);
    expect(otp).toHaveLength(1);
    secrets.push(...otp);

    // A service role is not for a person: it is held through API keys.
    const workflow = await ward(['users', 'add', '--username', 'bot', '--role', 'workflow']);
    expect(expectOneLineFailure(workflow)).toMatch(/role/);
    expect(workflow.stdout).not.toMatch(/one-time password/);

    expect(expectOk(await ward(['users', 'disable', CLINICIAN]))).toMatch(new RegExp(`disabled ${CLINICIAN.replace('.', '\\.')}; 0 session\\(s\\) ended`));

    const listed = await ward(['users', 'list', '--json']);
    const accounts = jsonLines(expectOk(listed));
    expect(accounts.map((a) => a.username)).toEqual(['admin', CLINICIAN]);
    const [admin, doc] = accounts;
    expect(admin).toMatchObject({ roles: ['admin'], mfaEnrolled: false, disabled: false });
    expect(doc).toMatchObject({ roles: ['clinician'], mfaEnrolled: false, disabled: true });
    // Nothing about the password: no hash field, no argon2 string, not the one-time passwords.
    for (const a of accounts) for (const k of Object.keys(a)) expect(k, `field ${k}`).not.toMatch(/hash|password|secret|totp/i);
    expect(listed.stdout).not.toMatch(/argon2/);
    for (const s of secrets) expect(listed.stdout).not.toContain(s);

    expect(expectOk(await ward(['users', 'enable', CLINICIAN]))).toMatch(new RegExp(`enabled ${CLINICIAN.replace('.', '\\.')}`));

    const table = expectOk(await ward(['users', 'list']));
    expect(table.split('\n')[0]).toMatch(/^USERNAME\s+ID\s+ROLES\s+MFA\s+STATUS\s+LOCKED UNTIL\s+CREATED/);
    for (const [name, role] of [['admin', 'admin'], [CLINICIAN, 'clinician']] as const) {
      const row = tableRow(table, name);
      expect(row.slice(2, 6), name).toEqual([role, 'not enrolled', 'active', '-']);
    }
    expect(table).not.toMatch(/argon2/);
    for (const s of secrets) expect(table).not.toContain(s);

    const unknown = await ward(['users', 'disable', 'nobody']);
    expect(expectOneLineFailure(unknown)).toMatch(/no such account|not found/);
    expect(unknown.stdout).toBe('');

    // No factor enrolled yet: nothing to remove, and that is not an error.
    const reset = expectOk(await ward(['users', 'reset-mfa', CLINICIAN]));
    expect(reset).toMatch(new RegExp(`no authenticator was enrolled for ${CLINICIAN.replace('.', '\\.')}`));
    // A new one-time password replaces the old one (which may have been lost with the phone).
    expect(reset).toMatch(/one-time password: \S{20,}/);
  }, 120_000);

  it('api-keys create|list|rotate|revoke: the key shown once, never listed; bad scope, person role, long expiry refused', async () => {
    const created = expectOk(await ward(['api-keys', 'create', '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', 'patient.read']));
    const first = issuedKey(created);
    expect(created).toContain(`api key ${first.id} for service intake-bot (principal svc:intake-bot)`);
    expect(created).toMatch(/scopes model\.chat, patient\.read/);
    expect(created.match(/wak_[a-z2-7]{12}_[A-Za-z0-9_-]{43}/g), 'the key is printed exactly once').toHaveLength(1);
    keyId = first.id;
    secrets.push(first.secret);

    const table = expectOk(await ward(['api-keys', 'list']));
    expect(table.split('\n')[0]).toMatch(/^ID\s+PREFIX\s+SERVICE\s+ROLES\s+SCOPES\s+STATUS/);
    expect(tableRow(table, first.id).slice(1, 6)).toEqual([`wak_${first.id}`, 'intake-bot', 'integration', 'model.chat,patient.read', 'active']);
    expect(table).not.toContain(first.secret);

    const badScope = await ward(['api-keys', 'create', '--service', 'intake-bot', '--role', 'integration', '--scope', 'patient.raed']);
    expect(expectOneLineFailure(badScope)).toContain('patient.raed');
    expect(badScope.stdout).not.toMatch(/wak_/);

    const personRole = await ward(['api-keys', 'create', '--service', 'intake-bot', '--role', 'clinician', '--scope', 'model.chat']);
    expect(expectOneLineFailure(personRole)).toMatch(/role/);
    expect(personRole.stdout).not.toMatch(/wak_/);

    const tooLong = await ward(['api-keys', 'create', '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', '--expires-in-days', '400']);
    // A usage error (exit 2) from the option parser, naming the flag and the range.
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/--expires-in-days.*1 to 365/);
    expect(tooLong.stderr).not.toMatch(STACK_LINE);
    expect(tooLong.stdout).not.toMatch(/wak_/);

    const rotated = expectOk(await ward(['api-keys', 'rotate', first.id, '--grace-hours', '0']));
    const second = issuedKey(rotated);
    expect(second.id).not.toBe(first.id);
    expect(second.secret).not.toBe(first.secret);
    expect(rotated).toMatch(/service intake-bot.*roles integration, scopes model\.chat, patient\.read/);
    rotatedKeyId = second.id;
    secrets.push(second.secret);

    expect(expectOk(await ward(['api-keys', 'revoke', first.id]))).toMatch(new RegExp(`revoked ${first.id} \\(service intake-bot\\)`));

    const listed = await ward(['api-keys', 'list', '--json']);
    const keys = jsonLines(expectOk(listed));
    expect(keys.find((k) => k.id === first.id)).toMatchObject({ prefix: `wak_${first.id}`, status: 'revoked', createdBy: consoleUser().id });
    expect(keys.find((k) => k.id === second.id)).toMatchObject({ prefix: `wak_${second.id}`, status: 'active', rotatedFrom: first.id, service: 'intake-bot' });
    expect(keys).toHaveLength(2);
    for (const k of keys) for (const f of Object.keys(k)) expect(f, `field ${f}`).not.toMatch(/hash|secret/i);
    for (const s of [first.secret, second.secret]) expect(listed.stdout).not.toContain(s);

    // Stored hashed: neither secret is anywhere in the data directory.
    for (const f of filesUnder(data)) for (const s of [first.secret, second.secret]) expect(f.bytes.includes(s), f.path).toBe(false);
  }, 120_000);

  it('care-team add|list|remove, and policy explain follows the relationship, the purpose and the roles', async () => {
    const before = expectOk(await ward(explainArgs(CLINICIAN)));
    expect(before).toMatch(/^principal usr_\S+ \(person\) roles: clinician$/m);
    expect(before).toMatch(new RegExp(`^relationship to ${PATIENT}: none$`, 'm'));
    expect(before).toMatch(/^DENY policy\.no_matching_rule /m);
    expect(before).toMatch(/^ {2}no rule permits role\(s\) clinician to patient\.read for purpose TREAT with relationship none$/m);
    expect(before).not.toMatch(/^PERMIT/m);

    const added = expectOk(await ward(['care-team', 'add', '--principal', CLINICIAN, '--patient', PATIENT, '--kind', 'care-team']));
    expect(added).toMatch(new RegExp(`is care-team for patient ${PATIENT}`));
    const accountId = /\((usr_[^)]+)\)/.exec(added)?.[1] ?? '';
    expect(accountId).toMatch(/^usr_/);

    const list = expectOk(await ward(['care-team', 'list']));
    expect(list.split('\n')[0]).toMatch(/^PRINCIPAL\s+PATIENT\s+KIND\s+UNTIL\s+ADDED BY/);
    expect(tableRow(list, accountId)).toEqual([accountId, PATIENT, 'care-team', '-', consoleUser().id]);

    const permitted = expectOk(await ward(explainArgs(CLINICIAN)));
    expect(permitted).toMatch(new RegExp(`^relationship to ${PATIENT}: care-team$`, 'm'));
    expect(permitted).toMatch(/^PERMIT by rule clinician-read /m);
    expect(permitted).toMatch(/^ {2}obligations: view clinical, de-identify no, human review no$/m);
    expect(permitted).toMatch(/clinician-read\s+matched {2}<= decides/);

    const marketing = expectOk(await ward(['policy', 'explain', '--principal', CLINICIAN, '--action', 'patient.read', '--purpose', 'HMARKT', '--patient', PATIENT]));
    expect(marketing).toMatch(/^DENY policy\.marketing_prohibited by rule deny-marketing /m);
    expect(marketing).toMatch(/deny-marketing\s+matched {2}<= decides/);

    // Hypothetical: the same person as an administrator has no PHI access, relationship or not.
    const asAdmin = expectOk(await ward(explainArgs(CLINICIAN, ['--role', 'admin'])));
    expect(asAdmin).toMatch(/roles: admin \(assumed\)$/m);
    expect(asAdmin).toMatch(/^DENY /m);
    expect(asAdmin).not.toMatch(/^PERMIT/m);

    const unknown = await ward(explainArgs('nobody'));
    expect(expectOneLineFailure(unknown)).toMatch(/no account|unknown/);
    expect(unknown.stdout).toBe('');

    // The service identity of the key created above (its live key is the rotated one).
    expect(rotatedKeyId).not.toBe('');
    const service = expectOk(await ward(['policy', 'explain', '--principal', 'svc:intake-bot', '--action', 'model.chat', '--purpose', 'TREAT', '--patient', PATIENT]));
    expect(service).toMatch(/^principal svc:intake-bot \(service\) roles: integration$/m);
    expect(service).toMatch(/^PERMIT by rule integration-chat-treatment /m);
    expect(service).toMatch(/human review yes/);

    expect(expectOk(await ward(['care-team', 'remove', '--principal', CLINICIAN, '--patient', PATIENT, '--kind', 'care-team']))).toBe('removed\n');
  }, 120_000);

  it('policy check: the installed policy is valid; a broken file and invalid JSON are refused with every problem named', async () => {
    const installed = join(data, 'policy.json');
    const doc = JSON.parse(readFileSync(installed, 'utf8')) as { version: string; rules: { id: string; roles: string[] }[] };
    const [r0, r1] = doc.rules;
    if (r0 === undefined || r1 === undefined) throw new Error('the default policy has fewer than two rules');
    const broken = { ...doc, rules: [{ ...r0, roles: ['wizard'] }, { ...r1, id: r0.id }, ...doc.rules.slice(2)] };
    const brokenFile = join(root, 'broken-policy.json');
    writeFileSync(brokenFile, JSON.stringify(broken, null, 2));
    const junkFile = join(root, 'junk-policy.json');
    copyFileSync(installed, junkFile);
    writeFileSync(junkFile, readFileSync(junkFile, 'utf8').slice(0, 500));

    // Stateless (no database is opened): run side by side, with one usage error for the exit code 2.
    const [ok, bad, junk, usage] = await Promise.all([
      ward(['policy', 'check']),
      ward(['policy', 'check', '--file', brokenFile]),
      ward(['policy', 'check', '--file', junkFile]),
      ward(['care-team', 'add', '--principal', CLINICIAN, '--patient', PATIENT, '--kind', 'friend']),
    ]);
    if (ok === undefined || bad === undefined || junk === undefined || usage === undefined) throw new Error('missing result');

    // The digest is that of the file's bytes, the figure every start records next to the version.
    const digest = createHash('sha256').update(readFileSync(installed)).digest('hex');
    expect(expectOk(ok)).toBe(`${installed}: valid, version ${doc.version}, ${doc.rules.length} rules, sha256 ${digest}\n`);

    // Both problems named, exit 1, no stack trace, nothing on stdout.
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).not.toMatch(STACK_LINE);
    expect(bad.stderr).toMatch(/^ward: /);
    expect(bad.stderr).toContain('unknown role "wizard"');
    expect(bad.stderr).toContain(`"${r0.id}" is already the id of rules[0]`);
    expect(bad.stderr).toMatch(/2 problems/);
    expect(junk.code, junk.stderr).toBe(1);
    expect(junk.stdout).toBe('');
    expect(junk.stderr).not.toMatch(STACK_LINE);
    expect(junk.stderr).toMatch(/^ward: .*not valid JSON/s);
    // The CLI contract: one `ward: ...` line. (Fails today: policy.invalid lists one problem per line.)
    for (const [name, r] of [['broken file', bad], ['invalid JSON', junk]] as const) {
      const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
      expect.soft(lines, `${name}: stderr is not one line: ${JSON.stringify(r.stderr)}`).toHaveLength(1);
    }

    // Usage errors exit 2 with one error line (commander may add a hint pointing at --help).
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).not.toMatch(STACK_LINE);
    const usageLines = usage.stderr.split('\n').filter((l) => l.trim().length > 0 && !/--help for usage/.test(l));
    expect(usageLines, usage.stderr).toHaveLength(1);
    expect(usageLines[0]).toMatch(/--kind/);
    expect(usage.stdout).toBe('');
  }, 120_000);

  it('every change above is audited as the person at the console, no secret is in the trail, and it verifies', async () => {
    const exported = await ward(['audit', 'export', '--format', 'jsonl']);
    const entries = jsonLines(expectOk(exported));
    for (const s of secrets) expect(exported.stdout, 'a key secret or one-time password is in the audit export').not.toContain(s);

    const me = consoleUser();
    const byMe = (action: string): JsonObject[] => entries.filter((e) => e.action === action && e.outcome === 'success' && JSON.stringify(e.who) === JSON.stringify(me));
    const expected: Record<string, number> = {
      'account.create': 1, 'account.disable': 1, 'account.enable': 1, 'mfa.reset': 1,
      'api-key.create': 1, 'api-key.rotate': 1, 'api-key.revoke': 1,
      'care-relationship.add': 1, 'care-relationship.remove': 1,
      // Explains that ran: no relationship, permit, marketing, hypothetical admin, service.
      'policy.explain': 5, 'audit.export': 1,
    };
    const counts = Object.fromEntries(Object.keys(expected).map((a) => [a, byMe(a).length]));
    expect(counts).toEqual(expected);
    // Refused administrative attempts are in the trail too, with the error's code.
    const refused = entries.filter((e) => e.outcome === 'denied' && JSON.stringify(e.who) === JSON.stringify(me)).map((e) => `${String(e.action)}:${String(e.reason)}`);
    expect(refused).toContain('account.disable:account.not_found');
    expect(refused.some((r) => r.startsWith('api-key.create:'))).toBe(true);
    // Nothing after init is attributed to Ward itself.
    const init = entries.findIndex((e) => e.action === 'account.create');
    expect(entries.slice(init + 1).filter((e) => JSON.stringify(e.who) !== JSON.stringify(me)).map((e) => e.action)).toEqual([]);

    expect(byMe('api-key.create')[0]?.resource).toEqual({ type: 'ApiKey', id: keyId });
    expect(byMe('api-key.rotate')[0]?.details).toMatchObject({ replacedBy: rotatedKeyId, graceHours: 0 });
    expect(byMe('api-key.revoke')[0]?.resource).toEqual({ type: 'ApiKey', id: keyId });
    expect(byMe('care-relationship.add')[0]?.patient).toBe(PATIENT);
    const explains = byMe('policy.explain');
    expect(explains.map((e) => (e.details as { effect?: unknown } | undefined)?.effect)).toEqual(['deny', 'permit', 'deny', 'deny', 'permit']);
    expect(explains.map((e) => (e.details as { rule?: unknown } | undefined)?.rule)).toEqual([undefined, 'clinician-read', 'deny-marketing', undefined, 'integration-chat-treatment']);
    for (const e of explains) expect(e.patient).toBe(PATIENT);

    const verify = await ward(['audit', 'verify']);
    expect(expectOk(verify)).toMatch(/intact/);
    expect(verify.stdout).not.toMatch(/NOT intact/);
  }, 90_000);
});

describe('identity commands on PostgreSQL (DATABASE_URL)', () => {
  let dbUrl = '';
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ url: dbUrl, drop } = await createTestPgDatabase('ward_t_idcli'));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('init, users add|list|disable, api-keys create|list|revoke and policy explain run against PostgreSQL', async () => {
    const data = join(tempDir(), 'ward-data');
    const env = { DATABASE_URL: dbUrl };
    const ward = (args: string[]): Promise<RunResult> => runWard([...args, '--data', data], { env });

    const init = expectOk(await ward(['init']));
    expect(init).toMatch(/PostgreSQL/);
    expect(oneTimePasswordsIn(init)).toHaveLength(1);

    expect(oneTimePasswordsIn(expectOk(await ward(['users', 'add', '--username', CLINICIAN, '--role', 'clinician'])))).toHaveLength(1);
    expectOk(await ward(['users', 'disable', CLINICIAN]));
    const accounts = jsonLines(expectOk(await ward(['users', 'list', '--json'])));
    expect(accounts.map((a) => [a.username, a.disabled, a.mfaEnrolled])).toEqual([['admin', false, false], [CLINICIAN, true, false]]);

    const issued = issuedKey(expectOk(await ward(['api-keys', 'create', '--service', 'intake-bot', '--role', 'integration', '--scope', 'model.chat', 'patient.read'])));
    expect(expectOk(await ward(['api-keys', 'revoke', issued.id]))).toMatch(new RegExp(`revoked ${issued.id}`));
    const listed = await ward(['api-keys', 'list', '--json']);
    const keys = jsonLines(expectOk(listed));
    expect(keys.map((k) => [k.id, k.prefix, k.status])).toEqual([[issued.id, `wak_${issued.id}`, 'revoked']]);
    expect(listed.stdout).not.toContain(issued.secret);

    // The explanation reads the roles and the relationship from PostgreSQL (no relationship here).
    const explained = expectOk(await ward(['policy', 'explain', '--principal', CLINICIAN, '--action', 'patient.read', '--purpose', 'TREAT', '--patient', PATIENT]));
    expect(explained).toMatch(/roles: clinician$/m);
    expect(explained).toMatch(/^DENY policy\.no_matching_rule /m);

    const verify = await ward(['audit', 'verify']);
    expect(expectOk(verify)).toMatch(/intact/);
    expect(verify.stdout).not.toMatch(/NOT intact/);
  }, 120_000);
});
