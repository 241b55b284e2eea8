/**
 * Secret files (key-encryption key, audit signing key) are created with mode 0600 inside a
 * 0700 data directory, and refused at load when others can read them: a key that may have
 * leaked is not used silently (fail closed).
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { WardError } from '../shared/ward-error.js';

export function writeSecretFile(path: string, contents: string | Buffer): void {
  if (existsSync(path)) throw new WardError('storage.secret_exists', `refusing to overwrite existing secret file ${path}`);
  writeFileSync(path, contents, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

export function readSecretFile(path: string): Buffer {
  if (!existsSync(path)) throw new WardError('storage.secret_missing', `secret file ${path} is missing (run \`ward init\`)`);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new WardError('storage.secret_permissions', `secret file ${path} is readable by others (mode ${mode.toString(8)}); run chmod 600`);
  }
  return readFileSync(path);
}
