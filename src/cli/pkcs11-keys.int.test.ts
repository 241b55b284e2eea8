/**
 * Moving a running installation from the local key file to an HSM, from the console: the
 * real `ward` binary against a SoftHSM2 token (PKCS#11), on SQLite. Records imported under the
 * local provider keep working once `ward.json` names the HSM (their data keys unwrap through
 * the local provider), `ward keys rotate` rewraps every data key onto the HSM (after which the
 * local KEKs no longer matter for records), new data keys are wrapped by the HSM, and a wrong
 * or missing PIN stops every command with one line that never shows a PIN.
 *
 * Without SoftHSM2 the suite is skipped locally with the reason, and fails in CI (`CI=true`).
 */
import { SYNTHEA_BULK, SYNTHEA_BUNDLES } from '../records/testing/synthea-data.js';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import { expectOk, expectOneLineFailure, jsonLines, tableRows } from './testing/cli-expectations.js';
import { countWardDb, queryWardDb } from './testing/ward-db-reader.js';
import type { WardDbTarget } from './testing/ward-db-reader.js';
import { createSoftHsmToken, disposeSoftHsm, softHsmConfig, softHsmStatus } from '../storage/keys/testing/softhsm.js';
import type { SoftHsmToken } from '../storage/keys/testing/softhsm.js';

const BUNDLES = SYNTHEA_BUNDLES;
const BULK_PATIENTS = join(SYNTHEA_BULK, 'Patient.000.ndjson.gz');
/** Ned Hintz (from his bundle) and Gladys Schumm (from the bulk Patient file). */
const HINTZ = '616eaeb2-a67a-44e5-a7e6-9bbd85e47c5c';
const SCHUMM = 'a4a401d1-a46a-eb4a-8a38-760d5d79d6ec';
const TIMEOUT = 120_000;

const status = softHsmStatus();

function keysStatus(stdout: string): Array<{ provider: string; version: number; state: string; dataKeys: number }> {
  expect(stdout.split('\n')[0]).toMatch(/^provider\s+version\s+state\s+data keys/);
  return tableRows(stdout).map(([provider, version, state, dataKeys]) => ({ provider: provider ?? '', version: Number(version), state: state ?? '', dataKeys: Number(dataKeys) }));
}

/** The exported Bundle's resources other than the accounting (AuditEvents), as JSON. */
function recordsIn(file: string): string[] {
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as { resourceType?: unknown; entry?: Array<{ resource: { resourceType: string } }> };
  expect(bundle.resourceType).toBe('Bundle');
  return (bundle.entry ?? []).map((e) => e.resource).filter((r) => r.resourceType !== 'AuditEvent').map((r) => JSON.stringify(r));
}

/** The local key file with the same ids but new key material (mode 0600, as Ward requires). */
function replaceLocalKeyMaterial(file: string): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ key: string }> };
  for (const k of doc.keys) k.key = randomBytes(32).toString('base64');
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}

if (!status.available) {
  if (process.env.CI === 'true') {
    describe('ward keys with a PKCS#11 HSM', () => {
      it('needs SoftHSM2 in CI', () => {
        throw new Error(`SoftHSM2 is required in CI (see .ci/run): ${status.reason}`);
      });
    });
  } else {
    console.warn(`ward keys PKCS#11 tests skipped: ${status.reason}`);
    describe.skip(`ward keys with a PKCS#11 HSM (skipped: ${status.reason})`, () => {
      it('needs SoftHSM2', () => undefined);
    });
  }
} else {
  describe('ward keys with a PKCS#11 HSM (SoftHSM2, SQLite; tests in order)', () => {
    let token: SoftHsmToken;
    let root = '';
    let data = '';
    let db: WardDbTarget;
    /** SOFTHSM2_CONF for the child processes: SoftHSM2 reads it at C_Initialize. */
    let hsmEnv: Record<string, string> = {};
    const before: { hintz: string[] } = { hintz: [] };

    const ward = (args: string[], env: Record<string, string> = {}): Promise<RunResult> => runWard([...args, '--data', data], { env: { ...hsmEnv, ...env }, timeoutMs: 90_000 });
    const withPin = (args: string[]): Promise<RunResult> => ward(args, { WARD_PKCS11_PIN: token.pin });
    const exportTo = async (id: string, name: string, run = withPin): Promise<string> => {
      const file = join(root, name);
      expect(expectOk(await run(['patient', 'export', id, '--out', file]))).toMatch(new RegExp(`^wrote \\d+ entries for patient ${id} to `));
      return file;
    };

    beforeAll(async () => {
      token = createSoftHsmToken();
      hsmEnv = { SOFTHSM2_CONF: softHsmConfig().file };
      root = mkdtempSync(join(tmpdir(), 'ward-pkcs11-cli-'));
      data = join(root, 'ward-data');
      db = { dialect: 'sqlite', file: join(data, 'ward.db') };
      expectOk(await ward(['init']));
    }, TIMEOUT);

    afterAll(() => {
      token?.dispose();
      disposeSoftHsm();
      if (root !== '') rmSync(root, { recursive: true, force: true });
    });

    it('on the local provider: import, every data key wrapped by the local key file', async () => {
      expect(expectOk(await ward(['import', BUNDLES])).split('\n')[0]).toBe('stored 674 resource(s) for 6 patient(s); 0 invalid; 179 skipped');
      const keys = await queryWardDb<{ kek_provider: string; kek_version: number }>(db, 'select kek_provider, kek_version from data_key');
      // 6 patients, the directory and the blind-index keys.
      expect(keys).toHaveLength(8);
      expect(keys.every((k) => k.kek_provider === 'local' && Number(k.kek_version) === 1)).toBe(true);
      expect(keysStatus(expectOk(await ward(['keys', 'status'])))).toEqual([{ provider: 'local', version: 1, state: 'active', dataKeys: 8 }]);
      before.hintz = recordsIn(await exportTo(HINTZ, 'hintz-local.json', ward));
      expect(before.hintz.length).toBeGreaterThan(10);
    }, TIMEOUT);

    it('with ward.json naming the HSM: old keys still unwrap through the local provider; status lists both', async () => {
      // The PIN stays out of the file: it comes from WARD_PKCS11_PIN.
      writeFileSync(join(data, 'ward.json'), JSON.stringify({ records: { keyProvider: 'pkcs11', pkcs11: { module: token.module, tokenLabel: token.tokenLabel } } }), { mode: 0o600 });
      expect(recordsIn(await exportTo(HINTZ, 'hintz-moved.json'))).toEqual(before.hintz);
      expect(keysStatus(expectOk(await withPin(['keys', 'status'])))).toEqual([
        { provider: 'local', version: 1, state: 'active', dataKeys: 8 },
        { provider: 'pkcs11', version: 1, state: 'active', dataKeys: 0 },
      ]);
    }, TIMEOUT);

    it('a wrong PIN stops every command with one line (keys.hsm_unavailable) that shows no PIN; no PIN at all is a configuration error', async () => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const wrapped = await queryWardDb<{ subject: string; wrapped: Buffer }>(db, 'select subject, wrapped from data_key order by subject');
      for (const args of [['keys', 'status'], ['keys', 'rotate'], ['patient', 'export', HINTZ, '--out', join(root, 'never.json')], ['import', BULK_PATIENTS]]) {
        const r = await ward(args, { WARD_PKCS11_PIN: wrong });
        const line = expectOneLineFailure(r);
        expect(line, args.join(' ')).toMatch(/\[keys\.hsm_unavailable\]$/);
        expect(line).toContain(token.tokenLabel);
        for (const pin of [wrong, token.pin]) expect(r.stdout + r.stderr, args.join(' ')).not.toContain(pin);
      }
      const missing = expectOneLineFailure(await ward(['keys', 'status']));
      expect(missing).toMatch(/WARD_PKCS11_PIN.*\[config\.invalid\]$/);
      // Nothing changed: same keys, same wraps, no patient imported.
      expect(await queryWardDb<{ subject: string; wrapped: Buffer }>(db, 'select subject, wrapped from data_key order by subject')).toEqual(wrapped);
      expect(await countWardDb(db, 'select count(*) as n from fhir_resource where patient_id = $1', [SCHUMM])).toBe(0);
    }, TIMEOUT);

    it('keys rotate rewraps every data key onto the HSM: pkcs11 version 1 active with all of them, local retired with none', async () => {
      // The control: before the rotation, records need the local key file's KEK.
      const keyFile = join(data, 'keys', 'local-kek.json');
      const saved = join(root, 'local-kek.saved.json');
      copyFileSync(keyFile, saved);
      replaceLocalKeyMaterial(keyFile);
      expect(expectOneLineFailure(await withPin(['patient', 'export', HINTZ, '--out', join(root, 'never.json')]))).toMatch(/\[keys\.unwrap_failed\]$/);
      copyFileSync(saved, keyFile);

      expect(expectOk(await withPin(['keys', 'rotate']))).toBe('pkcs11 KEK version 1 is active; rewrapped 8 data key(s)\n');
      expect(keysStatus(expectOk(await withPin(['keys', 'status'])))).toEqual([
        { provider: 'local', version: 1, state: 'retired', dataKeys: 0 },
        { provider: 'pkcs11', version: 1, state: 'active', dataKeys: 8 },
      ]);
      const keys = await queryWardDb<{ kek_provider: string; kek_version: number; wrapped: Buffer }>(db, 'select kek_provider, kek_version, wrapped from data_key');
      expect(keys).toHaveLength(8);
      for (const k of keys) {
        expect([k.kek_provider, Number(k.kek_version)]).toEqual(['pkcs11', 1]);
        // The PKCS#11 wrapped form: 0x02 || iv(12) || ciphertext(32) || tag(16).
        expect([k.wrapped[0], k.wrapped.length]).toEqual([0x02, 61]);
      }
      expect(recordsIn(await exportTo(HINTZ, 'hintz-hsm.json'))).toEqual(before.hintz);

      // Records no longer depend on the local KEKs: with their key material replaced, still readable.
      replaceLocalKeyMaterial(keyFile);
      expect(recordsIn(await exportTo(HINTZ, 'hintz-hsm-only.json'))).toEqual(before.hintz);
      copyFileSync(saved, keyFile);
    }, TIMEOUT);

    it('new imports get data keys wrapped by the HSM', async () => {
      expect(expectOk(await withPin(['import', BULK_PATIENTS])).split('\n')[0]).toBe('stored 13 resource(s) for 13 patient(s); 0 invalid; 0 skipped');
      const fresh = await queryWardDb<{ subject: string; kek_provider: string; kek_version: number; wrapped: Buffer }>(db, "select subject, kek_provider, kek_version, wrapped from data_key where subject like 'patient:%'");
      expect(fresh).toHaveLength(6 + 13);
      expect(fresh.filter((k) => k.kek_provider !== 'pkcs11' || Number(k.kek_version) !== 1 || k.wrapped[0] !== 0x02).map((k) => k.subject)).toEqual([]);
      expect(fresh.map((k) => k.subject)).toContain(`patient:${SCHUMM}`);
      const file = await exportTo(SCHUMM, 'schumm.json');
      expect(recordsIn(file).map((r) => (JSON.parse(r) as { id: string }).id)).toEqual([SCHUMM]);
      expect(keysStatus(expectOk(await withPin(['keys', 'status'])))).toEqual([
        { provider: 'local', version: 1, state: 'retired', dataKeys: 0 },
        { provider: 'pkcs11', version: 1, state: 'active', dataKeys: 8 + 13 },
      ]);
    }, TIMEOUT);

    it('the move is on record (keys.rewrap, keys.rotate by pkcs11) and the audit log verifies', async () => {
      const entries = jsonLines(expectOk(await withPin(['audit', 'export', '--format', 'jsonl'])));
      expect(entries.filter((e) => e.action === 'keys.rewrap').map((e) => [e.outcome, e.details])).toEqual([['success', { dataKeys: 8, provider: 'pkcs11' }]]);
      expect(entries.filter((e) => e.action === 'keys.rotate').map((e) => [e.outcome, e.details])).toEqual([['success', { provider: 'pkcs11', rewrapped: 8, toVersion: 1 }]]);
      expect(JSON.stringify(entries)).not.toContain(token.pin);
      expect(expectOk(await withPin(['audit', 'verify']))).toMatch(/intact/);
    }, TIMEOUT);
  });
}
