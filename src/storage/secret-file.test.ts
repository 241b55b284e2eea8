import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSecretFile, replaceSecretFile, withSecretFileLock, writeSecretFile } from './secret-file.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-secret-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('secret files', () => {
  it('writes 0600, refuses to overwrite, replaces atomically keeping 0600 and leaving no temporary file', () => {
    const d = dir();
    const file = join(d, 'k.json');
    writeSecretFile(file, 'one');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => writeSecretFile(file, 'two')).toThrow(expect.objectContaining({ code: 'storage.secret_exists' }));
    replaceSecretFile(file, 'two');
    expect(readSecretFile(file).toString()).toBe('two');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['k.json']);
    expect(() => replaceSecretFile(join(d, 'missing.json'), 'x')).toThrow(expect.objectContaining({ code: 'storage.secret_missing' }));
  });

  it('the lock serializes writers in one process', async () => {
    const file = join(dir(), 'counter');
    writeSecretFile(file, '0');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withSecretFileLock(file, async () => {
          const n = Number(readSecretFile(file).toString());
          await new Promise((r) => setTimeout(r, 1));
          replaceSecretFile(file, String(n + 1));
        }),
      ),
    );
    expect(readFileSync(file, 'utf8')).toBe('20');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('removes a lock left by a process that is gone', async () => {
    const file = join(dir(), 'k');
    writeSecretFile(file, 'x');
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${file}.lock`, `${gone}\n`);
    expect(await withSecretFileLock(file, () => 'ran', { timeoutMs: 2000 })).toBe('ran');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('waits for a lock held by a live process and reports it after the timeout, without breaking it', async () => {
    const file = join(dir(), 'k');
    writeSecretFile(file, 'x');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(`${file}.lock`, `${holder.pid}\n`);
      await expect(withSecretFileLock(file, () => 'ran', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'storage.secret_locked' });
      expect(readFileSync(`${file}.lock`, 'utf8')).toBe(`${holder.pid}\n`);
      // Released by its holder: the waiter goes ahead.
      const waiting = withSecretFileLock(file, () => 'ran', { timeoutMs: 5000 });
      setTimeout(() => rmSync(`${file}.lock`), 100);
      expect(await waiting).toBe('ran');
    } finally {
      holder.kill();
    }
  });
});
