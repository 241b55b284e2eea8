/**
 * The local key file: the key-encryption key (KEK) of the embedded default. Envelope
 * encryption (per-patient data keys wrapped by this KEK, 45 CFR 164.312(a)(2)(iv)) builds on
 * it; a PKCS#11 HSM replaces it at scale. Versioned so rotation can add keys without
 * losing the ones that still wrap data.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readSecretFile, writeSecretFile } from './secret-file.js';
import { WardError } from '../shared/ward-error.js';

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
  const parsed = keyFileSchema.safeParse(safeJson(readSecretFile(path).toString('utf8')));
  if (!parsed.success) throw new WardError('storage.key_file_invalid', `local key file ${path} is malformed`);
  const keys = new Map(parsed.data.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
  if (!keys.has(parsed.data.active)) throw new WardError('storage.key_file_invalid', `local key file ${path} names a missing active key`);
  return { activeId: parsed.data.active, keys };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
