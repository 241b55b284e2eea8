import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyProviderConformance } from './key-provider.conformance.js';
import { LocalKeyProvider } from './local-key-provider.js';
import { createLocalKeyFile, readLocalKeyFile } from '../local-key-file.js';
import { SecretBox, sealedAt } from '../secret-box.js';

const dirs: string[] = [];

function keyFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ward-keys-'));
  dirs.push(dir);
  const file = join(dir, 'local-kek.json');
  createLocalKeyFile(file, new Date('2026-01-01T00:00:00Z'));
  return { dir, file };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

keyProviderConformance({
  name: 'local',
  initialVersions: [1],
  formatByte: 0x01,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'ward-keys-'));
    const file = join(dir, 'local-kek.json');
    createLocalKeyFile(file, new Date());
    return {
      open: () => LocalKeyProvider.open({ file }),
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe('LocalKeyProvider', () => {
  it('createVersion appends kek-2 as the active key and keeps kek-1 byte for byte; SecretBox reads the file before and after', async () => {
    const { dir, file } = keyFile();
    const before = readLocalKeyFile(file);
    const sealedBefore = new SecretBox(before).seal('totp seed', sealedAt('totp_credential', 'secret_box', 'usr_1'));
    const provider = await LocalKeyProvider.open({ file, now: () => new Date('2026-02-01T00:00:00Z') });
    expect(await provider.createVersion()).toBe(2);
    await provider.close();

    const after = readLocalKeyFile(file);
    expect(after.activeId).toBe('kek-2');
    expect([...after.keys.keys()]).toEqual(['kek-1', 'kek-2']);
    expect(after.keys.get('kek-1')!.equals(before.keys.get('kek-1')!)).toBe(true);
    expect(after.keys.get('kek-2')!.length).toBe(32);
    const box = new SecretBox(after);
    expect(box.open(sealedBefore, sealedAt('totp_credential', 'secret_box', 'usr_1'))).toBe('totp seed');
    expect(box.seal('x', 'y')).toMatch(/^sb1\.kek-2\./);

    const document = JSON.parse(readFileSync(file, 'utf8')) as { format: string; keys: { id: string; created: string }[] };
    expect(document.format).toBe('ward.local-keys.v1');
    expect(document.keys.map((k) => k.created)).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // No temporary or lock file is left behind.
    expect(readdirSync(dir)).toEqual(['local-kek.json']);
  });

  it('wraps under a key derived for wrapping only: neither the raw KEK nor SecretBox’s key opens it', async () => {
    const { file } = keyFile();
    const provider = await LocalKeyProvider.open({ file });
    const dataKey = randomBytes(32);
    const wrapped = await provider.wrap(1, dataKey, 'ctx');
    await provider.close();
    const kek = readLocalKeyFile(file).keys.get('kek-1')!;
    const open = (key: Buffer): Buffer | undefined => {
      try {
        const d = createDecipheriv('aes-256-gcm', key, wrapped.subarray(1, 13));
        d.setAAD(Buffer.from('ctx'));
        d.setAuthTag(wrapped.subarray(45));
        return Buffer.concat([d.update(wrapped.subarray(13, 45)), d.final()]);
      } catch {
        return undefined;
      }
    };
    const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), info, 32));
    expect(open(kek)).toBeUndefined();
    expect(open(derive('ward/secret-box/v1'))).toBeUndefined();
    expect(open(derive('ward/key-provider/local/wrap/v1'))!.equals(dataKey)).toBe(true);
  });

  it('concurrent createVersion calls from two instances on one file each get their own version; none is lost', async () => {
    const { file } = keyFile();
    const a = await LocalKeyProvider.open({ file });
    const b = await LocalKeyProvider.open({ file });
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).createVersion()));
    expect([...created].sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(await a.versions()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(readLocalKeyFile(file).activeId).toBe('kek-11');
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a missing key file, one readable by others, and a malformed one', async () => {
    const { dir, file } = keyFile();
    await expect(LocalKeyProvider.open({ file: join(dir, 'nope.json') })).rejects.toMatchObject({ code: 'storage.secret_missing' });
    chmodSync(file, 0o644);
    await expect(LocalKeyProvider.open({ file })).rejects.toMatchObject({ code: 'storage.secret_permissions' });
    chmodSync(file, 0o600);
    const provider = await LocalKeyProvider.open({ file });
    chmodSync(file, 0o640);
    // The running provider re-reads the file and refuses it too.
    await expect(provider.versions()).rejects.toMatchObject({ code: 'storage.secret_permissions' });
    await expect(provider.createVersion()).rejects.toMatchObject({ code: 'storage.secret_permissions' });
    await provider.close();
  });
});
