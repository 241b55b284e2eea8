/**
 * Key-encryption keys (KEKs) inside a hardware security module, through PKCS#11 (v2.40) with
 * pkcs11js. Tested against SoftHSM2 (Debian's `softhsm2`).
 *
 * Each KEK version is an AES-256 token object labelled `ward-kek-<version>`, generated inside
 * the token (C_GenerateKey, CKM_AES_KEY_GEN) as sensitive and non-extractable, usable only to
 * encrypt and decrypt: its bytes never leave the HSM (45 CFR 164.312(a)(2)(iv)). A data key is
 * wrapped with C_Encrypt under CKM_AES_GCM (NIST SP 800-38D) inside the token: a 96-bit IV
 * drawn by Node, the caller's context as associated data, a 128-bit tag. Wrapped form
 * (61 bytes): `0x02 || iv(12) || ciphertext(32) || tag(16)`.
 *
 * One session per provider, logged in as the normal user; PKCS#11 sessions are not
 * thread-safe and an operation spans two calls (C_EncryptInit, C_Encrypt), so calls are
 * serialized on a promise chain. The slow calls (generate, encrypt, decrypt) run on libuv's
 * thread pool, so a network HSM does not stall the event loop. A session the HSM dropped
 * (restart, network) is reopened once, transparently.
 *
 * Errors: `keys.hsm_unavailable` (module, slot, token, login or device problems; the message
 * names the token label and the CKR_ code, never the PIN), `keys.kek_missing`,
 * `keys.unwrap_failed`, `keys.invalid_data_key`, `keys.kek_unsafe` (an object under a Ward
 * label that is extractable or not sensitive is refused, not used).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pkcs11js from 'pkcs11js';
import type { GcmParams, Mechanism, PKCS11, Template } from 'pkcs11js';
import type { KeyProvider } from './key-provider.js';
import { WardError } from '../../shared/ward-error.js';

type Handle = Buffer;

const FORMAT = 0x02;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const WRAPPED_BYTES = 1 + IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;
const LABEL_PREFIX = 'ward-kek-';
const LABEL = /^ward-kek-([1-9][0-9]{0,8})$/;

/** CKR_ codes after which the session is gone and a new one (and login) is needed. */
const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
]);
/** CKR_ codes after which cached object handles are stale. */
const HANDLE_STALE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID']);
/** CKR_ codes that describe the device rather than the data. */
const DEVICE_TROUBLE = new Set([...SESSION_LOST, 'CKR_DEVICE_ERROR', 'CKR_DEVICE_MEMORY', 'CKR_HOST_MEMORY', 'CKR_FUNCTION_FAILED']);

export interface Pkcs11KeyProviderOptions {
  /** Path of the vendor's PKCS#11 module (for SoftHSM2, Debian's `libsofthsm2.so`). */
  module: string;
  /** Label of the token that holds Ward's KEKs. */
  tokenLabel: string;
  /** The normal user's PIN. Never logged or put in an error message. */
  pin: string;
}

export class Pkcs11KeyProvider implements KeyProvider {
  readonly name = 'pkcs11';
  private session: Handle | undefined;
  private readonly handles = new Map<number, Handle>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: Pkcs11KeyProviderOptions,
    private readonly loaded: LoadedModule,
    private readonly token: TokenUse,
  ) {}

  /**
   * Load the module, find the token by label, open an RW session and log in. For SoftHSM2,
   * `SOFTHSM2_CONF` must be in `process.env` before the first open in the process: the
   * module reads it once, in C_Initialize.
   */
  static async open(options: Pkcs11KeyProviderOptions): Promise<Pkcs11KeyProvider> {
    if (options.tokenLabel.length === 0) throw new WardError('keys.hsm_unavailable', 'no PKCS#11 token label is configured', { status: 503 });
    const loaded = acquireModule(options);
    let token: TokenUse | undefined;
    try {
      token = acquireToken(loaded, options);
      const provider = new Pkcs11KeyProvider(options, loaded, token);
      provider.session = provider.openSession();
      return provider;
    } catch (e) {
      if (token !== undefined) releaseToken(loaded, token);
      releaseModule(loaded);
      throw e;
    }
  }

  async versions(): Promise<number[]> {
    return this.serialize(true, (session) => [...this.findKeks(session).keys()].sort((a, b) => a - b));
  }

  /**
   * Generate `ward-kek-<highest + 1>` in the token. Two Ward instances rotating at the same
   * moment could each make the same label; after generating, an instance that sees a second
   * object under its label destroys its own and tries the next version, so a version this
   * method returns is unique (at least one of two racing instances always sees the other).
   */
  async createVersion(): Promise<number> {
    // Not retried on a lost session: the key may exist already, and a retry would skip a version.
    return this.serialize(false, async (session) => {
      for (let attempt = 0; attempt < 8; attempt++) {
        const version = Math.max(0, ...this.findKeks(session).keys()) + 1;
        const label = `${LABEL_PREFIX}${version}`;
        const handle = await this.p11().C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, kekTemplate(label));
        const sameLabel = this.findObjects(session, [...secretKeyTemplate(), { type: pkcs11js.CKA_LABEL, value: label }]);
        if (sameLabel.length === 1) {
          this.handles.set(version, handle);
          return version;
        }
        this.p11().C_DestroyObject(session, handle);
        await sleep(20 + Math.floor(Math.random() * 80));
      }
      throw this.unavailable('another process keeps creating key-encryption keys at the same time');
    });
  }

  async wrap(version: number, dataKey: Buffer, context: string): Promise<Buffer> {
    return this.serialize(true, async (session) => {
      const key = this.kek(session, version);
      if (!Buffer.isBuffer(dataKey) || dataKey.length !== DATA_KEY_BYTES) {
        throw new WardError('keys.invalid_data_key', `a data key must be exactly ${DATA_KEY_BYTES} bytes`);
      }
      const iv = randomBytes(IV_BYTES);
      this.p11().C_EncryptInit(session, gcm(iv, context), key);
      const sealed = await this.p11().C_EncryptAsync(session, dataKey, Buffer.alloc(DATA_KEY_BYTES + TAG_BYTES));
      if (sealed.length !== DATA_KEY_BYTES + TAG_BYTES) throw this.unavailable(`AES-GCM returned ${sealed.length} bytes`);
      return Buffer.concat([Buffer.of(FORMAT), iv, sealed]);
    });
  }

  async unwrap(version: number, wrapped: Buffer, context: string): Promise<Buffer> {
    return this.serialize(true, async (session) => {
      const key = this.kek(session, version);
      if (!Buffer.isBuffer(wrapped) || wrapped.length !== WRAPPED_BYTES || wrapped[0] !== FORMAT) throw unwrapFailed(version);
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const out = Buffer.alloc(DATA_KEY_BYTES + TAG_BYTES);
      try {
        this.p11().C_DecryptInit(session, gcm(iv, context), key);
        const plain = await this.p11().C_DecryptAsync(session, wrapped.subarray(1 + IV_BYTES), out);
        if (plain.length !== DATA_KEY_BYTES) throw unwrapFailed(version);
        return Buffer.from(plain);
      } catch (e) {
        const ckr = ckrOf(e);
        // Session or device trouble is not the data's fault: let the retry or the caller see it.
        if (ckr !== undefined && (DEVICE_TROUBLE.has(ckr) || HANDLE_STALE.has(ckr))) throw e;
        // SoftHSM2 reports a failed tag check as CKR_GENERAL_ERROR, others as
        // CKR_ENCRYPTED_DATA_INVALID: both are an unwrap that did not authenticate.
        throw e instanceof WardError ? e : unwrapFailed(version, e);
      } finally {
        out.fill(0);
      }
    });
  }

  /** Log out (when no other provider in this process uses the token), close the session, finalize. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined);
    this.handles.clear();
    const session = this.session;
    this.session = undefined;
    releaseToken(this.loaded, this.token, session);
    releaseModule(this.loaded);
  }

  /**
   * Run `fn` alone on the session, after every earlier call. With `retry`, a lost session is
   * reopened (and stale handles dropped) and `fn` runs once more.
   */
  private serialize<T>(retry: boolean, fn: (session: Handle) => T | Promise<T>): Promise<T> {
    // Calls made before close() still run (close waits for them); calls after it are refused.
    if (this.closed) return Promise.reject(new WardError('keys.provider_closed', 'the PKCS#11 key provider is closed'));
    const run = async (): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        this.session ??= this.openSession();
        try {
          return await fn(this.session);
        } catch (e) {
          const ckr = ckrOf(e);
          if (ckr !== undefined && SESSION_LOST.has(ckr)) this.dropSession();
          if (ckr !== undefined && (SESSION_LOST.has(ckr) || HANDLE_STALE.has(ckr))) {
            this.handles.clear();
            if (retry && attempt === 0) continue;
          }
          if (e instanceof WardError) throw e;
          throw this.unavailable('the token refused an operation', e);
        }
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private openSession(): Handle {
    const p11 = this.p11();
    let session: Handle;
    try {
      session = p11.C_OpenSession(this.token.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (e) {
      throw this.unavailable('cannot open a session', e);
    }
    try {
      p11.C_Login(session, pkcs11js.CKU_USER, this.options.pin);
    } catch (e) {
      // Login state belongs to the application, not the session: another provider (or an
      // earlier session of this one) in this process may have logged in with the same PIN.
      if (ckrOf(e) !== 'CKR_USER_ALREADY_LOGGED_IN') {
        closeQuietly(p11, session);
        throw this.unavailable('login failed', e);
      }
    }
    return session;
  }

  private dropSession(): void {
    if (this.session !== undefined) closeQuietly(this.p11(), this.session);
    this.session = undefined;
  }

  /** The handle of KEK `version`, checked once to be a sensitive, non-extractable AES-256 key. */
  private kek(session: Handle, version: number): Handle {
    const cached = this.handles.get(version);
    if (cached !== undefined) return cached;
    const found = Number.isSafeInteger(version) && version > 0
      ? this.findObjects(session, [...secretKeyTemplate(), { type: pkcs11js.CKA_LABEL, value: `${LABEL_PREFIX}${version}` }])
      : [];
    const [handle, second] = found;
    if (handle === undefined) {
      throw new WardError('keys.kek_missing', `PKCS#11 token "${this.options.tokenLabel}" has no key-encryption key ${LABEL_PREFIX}${String(version)}`, {
        extra: { provider: 'pkcs11', version: String(version) },
      });
    }
    // Only while another instance's createVersion is settling a race (it removes its own).
    if (second !== undefined) throw this.unavailable(`two objects are labelled ${LABEL_PREFIX}${version}; retry`);
    const attrs = this.p11().C_GetAttributeValue(session, handle, [
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_VALUE_LEN },
    ]);
    const [sensitive, extractable, valueLen] = attrs.map((a) => a.value);
    if (!isTrue(sensitive) || !isFalse(extractable) || valueLen === undefined || readUlong(valueLen) !== 32) {
      throw new WardError(
        'keys.kek_unsafe',
        `PKCS#11 token "${this.options.tokenLabel}": ${LABEL_PREFIX}${version} is not a sensitive, non-extractable AES-256 key; refusing to use it`,
      );
    }
    this.handles.set(version, handle);
    return handle;
  }

  /** Ward's KEK objects on the token, by version. */
  private findKeks(session: Handle): Map<number, Handle> {
    const keks = new Map<number, Handle>();
    for (const handle of this.findObjects(session, secretKeyTemplate())) {
      const [label] = this.p11().C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
      const match = label?.value === undefined ? null : LABEL.exec(label.value.toString('utf8'));
      if (match?.[1] !== undefined) keks.set(Number(match[1]), handle);
    }
    return keks;
  }

  private findObjects(session: Handle, template: Template): Handle[] {
    const p11 = this.p11();
    p11.C_FindObjectsInit(session, template);
    try {
      const all: Handle[] = [];
      for (;;) {
        const batch = p11.C_FindObjects(session, 64);
        if (batch.length === 0) return all;
        all.push(...batch);
      }
    } finally {
      p11.C_FindObjectsFinal(session);
    }
  }

  private p11(): PKCS11 {
    return this.loaded.pkcs11;
  }

  private unavailable(what: string, cause?: unknown): WardError {
    return hsmUnavailable(this.options.tokenLabel, what, cause);
  }
}

// --- One loaded module per path, shared by the providers of this process -------------------
// A PKCS#11 module is process-global: C_Initialize twice fails, C_Finalize ends every
// session, and login state belongs to the application per token (PKCS#11 v2.40 5.4, 5.6).
// So providers share one load per module and one login per token, counted.

interface TokenUse {
  slot: Handle;
  key: string;
}

interface LoadedModule {
  path: string;
  pkcs11: PKCS11;
  users: number;
  /** False when someone else in this process initialized the module: leave it initialized. */
  finalize: boolean;
  tokens: Map<string, { users: number; pinDigest: Buffer }>;
}

const modules = new Map<string, LoadedModule>();

function acquireModule(options: Pkcs11KeyProviderOptions): LoadedModule {
  const existing = modules.get(options.module);
  if (existing !== undefined) {
    existing.users++;
    return existing;
  }
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(options.module);
  } catch (e) {
    throw hsmUnavailable(options.tokenLabel, `cannot load the PKCS#11 module ${options.module}`, e);
  }
  let finalize = true;
  try {
    // Calls run on libuv's thread pool: let the module lock with the OS's primitives.
    p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (e) {
    if (ckrOf(e) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      finalize = false;
    } else {
      closeModuleQuietly(p11);
      throw hsmUnavailable(options.tokenLabel, `cannot initialize the PKCS#11 module ${options.module}`, e);
    }
  }
  const loaded: LoadedModule = { path: options.module, pkcs11: p11, users: 1, finalize, tokens: new Map() };
  modules.set(options.module, loaded);
  return loaded;
}

function releaseModule(loaded: LoadedModule): void {
  loaded.users--;
  if (loaded.users > 0) return;
  modules.delete(loaded.path);
  if (loaded.finalize) {
    try {
      loaded.pkcs11.C_Finalize();
    } catch {
      // Finalizing a module that is already torn down: nothing left to release.
    }
  }
  closeModuleQuietly(loaded.pkcs11);
}

function acquireToken(loaded: LoadedModule, options: Pkcs11KeyProviderOptions): TokenUse {
  const p11 = loaded.pkcs11;
  let matches: Handle[];
  try {
    matches = p11.C_GetSlotList(true).filter((slot) => p11.C_GetTokenInfo(slot).label.trimEnd() === options.tokenLabel);
  } catch (e) {
    throw hsmUnavailable(options.tokenLabel, 'cannot list the slots', e);
  }
  const [slot, second] = matches;
  if (slot === undefined) throw hsmUnavailable(options.tokenLabel, 'no token with this label is present');
  if (second !== undefined) throw hsmUnavailable(options.tokenLabel, 'more than one token has this label');
  const key = slot.toString('hex');
  const pinDigest = createHash('sha256').update(options.pin, 'utf8').digest();
  const use = loaded.tokens.get(key);
  if (use !== undefined) {
    // Already logged in here, so C_Login would not check this PIN: compare it ourselves.
    if (!timingSafeEqual(use.pinDigest, pinDigest)) throw hsmUnavailable(options.tokenLabel, 'login failed (CKR_PIN_INCORRECT)');
    use.users++;
  } else {
    loaded.tokens.set(key, { users: 1, pinDigest });
  }
  return { slot, key };
}

function releaseToken(loaded: LoadedModule, token: TokenUse, session?: Handle): void {
  const use = loaded.tokens.get(token.key);
  const last = use === undefined || use.users <= 1;
  if (use !== undefined) use.users--;
  if (last) loaded.tokens.delete(token.key);
  if (session === undefined) return;
  if (last) {
    try {
      loaded.pkcs11.C_Logout(session);
    } catch {
      // Not logged in (the HSM dropped the session): nothing to log out.
    }
  }
  closeQuietly(loaded.pkcs11, session);
}

function closeQuietly(p11: PKCS11, session: Handle): void {
  try {
    p11.C_CloseSession(session);
  } catch {
    // The session is already gone.
  }
}

function closeModuleQuietly(p11: PKCS11): void {
  try {
    p11.close();
  } catch {
    // Already unloaded.
  }
}

// --- Templates and helpers ---------------------------------------------------------------

function secretKeyTemplate(): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
  ];
}

/** An AES-256 KEK that lives in the token, never leaves it, and only encrypts and decrypts. */
function kekTemplate(label: string): Template {
  return [
    ...secretKeyTemplate(),
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_MODIFIABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
}

/** CK_GCM_PARAMS as in PKCS#11 v2.40 errata 01 (with ulIvBits): 96-bit IV, AAD, 128-bit tag. */
function gcm(iv: Buffer, context: string): Mechanism {
  const parameter: GcmParams = {
    type: pkcs11js.CK_PARAMS_AES_GCM_v240,
    iv,
    ivBits: IV_BYTES * 8,
    aad: Buffer.from(context, 'utf8'),
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

function isTrue(value: Buffer | undefined): boolean {
  return value !== undefined && value.length === 1 && value[0] === 1;
}

function isFalse(value: Buffer | undefined): boolean {
  return value !== undefined && value.length === 1 && value[0] === 0;
}

/** A CK_ULONG attribute in the platform's byte order (little-endian on Ward's platforms). */
function readUlong(value: Buffer): number {
  if (value.length === 8) return Number(value.readBigUInt64LE(0));
  if (value.length === 4) return value.readUInt32LE(0);
  return -1;
}

/** The CKR_ name of a PKCS#11 error (pkcs11js puts it in the message), or undefined. */
function ckrOf(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const match = /^(CKR_[A-Z0-9_]+)$/.exec(e.message);
  return match?.[1];
}

function hsmUnavailable(tokenLabel: string, what: string, cause?: unknown): WardError {
  const ckr = ckrOf(cause);
  return new WardError('keys.hsm_unavailable', `PKCS#11 token "${tokenLabel}": ${what}${ckr === undefined ? '' : ` (${ckr})`}`, {
    status: 503,
    cause,
    extra: { provider: 'pkcs11' },
  });
}

function unwrapFailed(version: number, cause?: unknown): WardError {
  return new WardError('keys.unwrap_failed', `a data key did not unwrap under PKCS#11 key-encryption key version ${version}`, {
    cause,
    extra: { provider: 'pkcs11', version },
  });
}
