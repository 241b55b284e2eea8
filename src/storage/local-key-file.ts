/**
 * The local key file: the key-encryption key (KEK) of the embedded default. Envelope
 * encryption (per-patient data keys wrapped by this KEK, 45 CFR 164.312(a)(2)(iv)) builds on
 * it; a PKCS#11 HSM replaces it at scale. Versioned so rotation can add keys without
 * losing the ones that still wrap data.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readSecretFile, replaceSecretFile, withSecretFileLock, writeSecretFile } from './secret-file.js';
import { WardError } from '../shared/ward-error.js';

const KEK_ID = /^kek-([1-9][0-9]{0,8})$/;

const keyFileSchema = z.object({
  format: z.literal('ward.local-keys.v1'),
  active: z.string(),
  keys: z.array(z.object({ id: z.string(), created: z.string(), key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) })).min(1),
});

export interface LocalKeys {
  activeId: string;
  keys: Map<string, Buffer>;
}

export function createLocalKeyFile(path: string, now: Date): void {
  const id = 'kek-1';
  const contents = { format: 'ward.local-keys.v1', active: id, keys: [{ id, created: now.toISOString(), key: randomBytes(32).toString('base64') }] };
  writeSecretFile(path, `${JSON.stringify(contents, null, 2)}\n`);
}

export function readLocalKeyFile(path: string): LocalKeys {
  const document = readKeyDocument(path);
  return { activeId: document.active, keys: new Map(document.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')])) };
}

/** Key version N is the key with id `kek-N` (the id SecretBox writes into sealed values). */
export function localKekId(version: number): string {
  return `kek-${version}`;
}

/** The version of a key id, or undefined for an id that is not `kek-N`. */
export function localKekVersion(id: string): number | undefined {
  const match = KEK_ID.exec(id);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Add a fresh 256-bit key `kek-(N+1)` (N the highest version in the file), make it the active
 * key, and replace the file atomically under its lock; every older key is kept, since data
 * keys and sealed values under them stay readable until they are rewrapped. Returns the new id.
 */
export async function appendLocalKey(path: string, now: Date): Promise<string> {
  return withSecretFileLock(path, () => {
    const document = readKeyDocument(path);
    const highest = Math.max(0, ...document.keys.map((k) => localKekVersion(k.id) ?? 0));
    const id = localKekId(highest + 1);
    const next = {
      format: document.format,
      active: id,
      keys: [...document.keys, { id, created: now.toISOString(), key: randomBytes(32).toString('base64') }],
    };
    replaceSecretFile(path, `${JSON.stringify(next, null, 2)}\n`);
    return id;
  });
}

function readKeyDocument(path: string): z.infer<typeof keyFileSchema> {
  const parsed = keyFileSchema.safeParse(safeJson(readSecretFile(path).toString('utf8')));
  if (!parsed.success) throw new WardError('storage.key_file_invalid', `local key file ${path} is malformed`);
  const ids = new Set(parsed.data.keys.map((k) => k.id));
  if (ids.size !== parsed.data.keys.length) throw new WardError('storage.key_file_invalid', `local key file ${path} has duplicate key ids`);
  if (!ids.has(parsed.data.active)) throw new WardError('storage.key_file_invalid', `local key file ${path} names a missing active key`);
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
