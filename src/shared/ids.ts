import { randomBytes, randomUUID } from 'node:crypto';

/** Request ids: random, opaque, safe to log. */
export function newRequestId(): string {
  return randomUUID();
}

/** An opaque identifier with a readable prefix (`usr_…`, `key_…`), 128 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}
