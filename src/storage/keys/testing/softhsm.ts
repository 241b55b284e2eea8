/**
 * SoftHSM2 (Debian's `softhsm2`; the PKCS#11 module itself ships in `libsofthsm2`) for the
 * PKCS#11 tests: throwaway tokens in a temporary token folder, never the system one.
 *
 * SoftHSM2 reads `SOFTHSM2_CONF` once, in C_Initialize. This helper therefore points
 * `process.env.SOFTHSM2_CONF` at its own temporary config the first time it is used in a
 * process, and keeps it there until `disposeSoftHsm()` (call it in `afterAll`): create tokens
 * before opening a provider, since a module already initialized may not see a token created
 * later until every provider in the process has closed.
 *
 * The module is found at `WARD_TEST_PKCS11_MODULE` if set, else in Debian's standard places
 * (`/usr/lib/softhsm/libsofthsm2.so`, the multiarch directory), else through `dpkg -L libsofthsm2`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SoftHsmToken {
  /** Path of the SoftHSM2 PKCS#11 module. */
  module: string;
  tokenLabel: string;
  /** The normal user's PIN. */
  pin: string;
  /** The security officer's PIN. */
  soPin: string;
  /** Delete the token's files. */
  dispose(): void;
}

export type SoftHsmStatus = { available: true; module: string } | { available: false; reason: string };

const MULTIARCH: Partial<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** Whether SoftHSM2 (the `softhsm2-util` tool and the module) is installed, and where. */
export function softHsmStatus(): SoftHsmStatus {
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'pipe' });
  } catch {
    return { available: false, reason: 'softhsm2-util is not on PATH (Debian: apt-get install softhsm2)' };
  }
  const override = process.env.WARD_TEST_PKCS11_MODULE;
  if (override !== undefined && override !== '') {
    return existsSync(override)
      ? { available: true, module: override }
      : { available: false, reason: `WARD_TEST_PKCS11_MODULE names a missing file: ${override}` };
  }
  const module = findSoftHsmModule();
  return module === undefined
    ? { available: false, reason: 'the SoftHSM2 PKCS#11 module libsofthsm2.so was not found (Debian package libsofthsm2)' }
    : { available: true, module };
}

export function hasSoftHsm(): boolean {
  return softHsmStatus().available;
}

/**
 * A fresh, initialized token (`softhsm2-util --init-token --free`) with a unique label and
 * random PINs, in this process's temporary token folder.
 */
export function createSoftHsmToken(options: { label?: string; pin?: string; soPin?: string } = {}): SoftHsmToken {
  const status = softHsmStatus();
  if (!status.available) throw new Error(`SoftHSM2 is not available: ${status.reason}`);
  const { tokenDir } = softHsmConfig();
  const tokenLabel = options.label ?? `ward-test-${randomBytes(6).toString('hex')}`;
  const pin = options.pin ?? randomBytes(8).toString('hex');
  const soPin = options.soPin ?? randomBytes(8).toString('hex');
  const before = new Set(readdirSync(tokenDir));
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', soPin], {
    stdio: 'pipe',
    env: process.env,
  });
  const created = readdirSync(tokenDir).filter((name) => !before.has(name));
  return {
    module: status.module,
    tokenLabel,
    pin,
    soPin,
    dispose() {
      for (const name of created) rmSync(join(tokenDir, name), { recursive: true, force: true });
    },
  };
}

let config: { dir: string; tokenDir: string } | undefined;

/** This process's temporary SoftHSM2 config and token folder; sets `SOFTHSM2_CONF`. */
export function softHsmConfig(): { dir: string; tokenDir: string; file: string } {
  if (config === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ward-softhsm-'));
    const tokenDir = join(dir, 'tokens');
    mkdirSync(tokenDir, { mode: 0o700 });
    writeFileSync(
      join(dir, 'softhsm2.conf'),
      [`directories.tokendir = ${tokenDir}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ''].join('\n'),
      { mode: 0o600 },
    );
    config = { dir, tokenDir };
    // A backstop: test workers may end without an 'exit' event, so suites call disposeSoftHsm.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = join(config.dir, 'softhsm2.conf');
  process.env.SOFTHSM2_CONF = file;
  return { ...config, file };
}

/**
 * Delete this process's temporary SoftHSM2 folder (call in `afterAll`, after every provider
 * has closed). A later `createSoftHsmToken` starts a new one.
 */
export function disposeSoftHsm(): void {
  if (config === undefined) return;
  rmSync(config.dir, { recursive: true, force: true });
  config = undefined;
}

function findSoftHsmModule(): string | undefined {
  const multiarch = MULTIARCH[process.arch];
  const candidates = [
    '/usr/lib/softhsm/libsofthsm2.so',
    ...(multiarch === undefined ? [] : [`/usr/lib/${multiarch}/softhsm/libsofthsm2.so`, `/usr/lib/${multiarch}/libsofthsm2.so`]),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found !== undefined) return found;
  try {
    const listed = execFileSync('dpkg', ['-L', 'libsofthsm2'], { stdio: 'pipe', encoding: 'utf8' });
    return listed.split('\n').find((line) => line.endsWith('/libsofthsm2.so') && existsSync(line));
  } catch {
    return undefined;
  }
}
