/**
 * Secret files (key-encryption key, audit signing key) are created with mode 0600 inside a
 * 0700 data directory, and refused at load when others can read them: a key that may have
 * leaked is not used silently (fail closed).
 *
 * A secret file that must change (the local key file gains a version at each rotation) is
 * replaced atomically: the new contents go to a 0600 temporary file in the same directory,
 * are fsynced, renamed over the old file, and the directory is fsynced, so a crash leaves
 * either the old file or the new one, never a torn or empty key file (losing a key-encryption
 * key would make every data key it wraps unreadable: 45 CFR 164.308(a)(7)(ii)(A)).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WardError } from '../shared/ward-error.js';

export function writeSecretFile(path: string, contents: string | Buffer): void {
  if (existsSync(path)) throw new WardError('storage.secret_exists', `refusing to overwrite existing secret file ${path}`);
  writeFileSync(path, contents, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  // A key announced as created must survive a power cut.
  fsyncFile(path);
  fsyncDirectory(dirname(path));
}

export function readSecretFile(path: string): Buffer {
  if (!existsSync(path)) throw new WardError('storage.secret_missing', `secret file ${path} is missing (run \`ward init\`)`);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new WardError('storage.secret_permissions', `secret file ${path} is readable by others (mode ${mode.toString(8)}); run chmod 600`);
  }
  return readFileSync(path);
}

/**
 * Replace an existing secret file atomically (temporary 0600 file + fsync + rename + directory
 * fsync). Readers see the old contents or the new, never a mixture. Callers that read, modify
 * and write back hold `withSecretFileLock` so two writers cannot lose each other's change.
 */
export function replaceSecretFile(path: string, contents: string | Buffer): void {
  if (!existsSync(path)) throw new WardError('storage.secret_missing', `secret file ${path} is missing (run \`ward init\`)`);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    if (e instanceof WardError) throw e;
    throw new WardError('storage.secret_write_failed', `could not replace secret file ${path}`, { cause: e });
  }
  fsyncDirectory(dirname(path));
}

export interface SecretFileLockOptions {
  /** Give up after this long (default 10 s) with `storage.secret_locked`. */
  timeoutMs?: number;
}

/**
 * Run `fn` while holding `<path>.lock` (created exclusively, holding the owner's pid), so a
 * read-modify-write of a secret file by two processes (a running server and `ward keys
 * rotate`) cannot lose a key. A lock left by a process that no longer exists is removed; a
 * lock held longer than the timeout is reported, never broken.
 */
export async function withSecretFileLock<T>(path: string, fn: () => T | Promise<T>, options: SecretFileLockOptions = {}): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (tryCreateLock(lock)) break;
    if (lockOwnerIsGone(lock)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new WardError('storage.secret_locked', `secret file ${path} is locked by another process (remove ${lock} if no Ward process is running)`);
    }
    await sleep(10 + Math.floor(Math.random() * 40));
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function tryCreateLock(lock: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw new WardError('storage.secret_write_failed', `could not create lock file ${lock}`, { cause: e });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function lockOwnerIsGone(lock: string): boolean {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    // Released between our attempt and this read: try again at once.
    return isErrno(e, 'ENOENT');
  }
  const pid = Number.parseInt(text.trim(), 10);
  // Empty: the owner is between creating and writing it (or died there); wait, and let the
  // timeout report it rather than guess.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return isErrno(e, 'ESRCH');
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    closeSync(fd);
  }
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === code;
}
