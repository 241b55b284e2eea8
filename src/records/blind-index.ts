/**
 * Keyed blind indexes for exact-match search (identifier; name + birth date): the search
 * term is normalized (see `patient-search-terms.ts`) and stored only as HMAC-SHA256 under a
 * data key of its own (subject `blind-index`, wrapped by the KEK like every data key). A
 * lookup hashes the query the same way, so finding a patient decrypts nothing, and the
 * index alone reveals neither names nor identifiers (unlike a plain hash, it cannot be
 * brute-forced from a dictionary of names without the key).
 */
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { DataKeyRing } from '../storage/data-key-ring.js';

export type IndexKind = 'identifier' | 'name-birthdate';

export const BLIND_INDEX_SUBJECT = 'blind-index';

export class BlindIndex {
  constructor(private readonly keys: DataKeyRing) {}

  /** Digests of `terms` under the current index key (created on first use, in `db`). */
  async digests(db: Kysely<WardSchema>, kind: IndexKind, terms: readonly string[]): Promise<string[]> {
    if (terms.length === 0) return [];
    const { key } = await this.keys.keyFor(db, BLIND_INDEX_SUBJECT);
    return [...new Set(terms)].map((t) => createHmac('sha256', key).update(`${kind}\u0000${t}`, 'utf8').digest('hex'));
  }
}
