/**
 * Data keys for envelope encryption: one AES-256 key per patient (so erasing a patient is
 * destroying one key: crypto-shredding) and one per shared subject (the provider
 * directory, the blind-index key). Keys are generated here, stored only wrapped by the key
 * provider's active key-encryption key, and unwrapped on use.
 *
 * Unwrapped keys are cached, but every use re-reads the wrapped row: a key destroyed or
 * rewrapped by another process (a `ward patient erase` from the console while the server
 * runs) is never served from a stale cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from './schema.js';
import type { KeyProvider } from './keys/key-provider.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';

type Db = Kysely<WardSchema>;

export interface DataKey {
  subject: string;
  version: number;
  key: Buffer;
}

interface CachedKey {
  version: number;
  wrappedDigest: string;
  key: Buffer;
  /** When it was unwrapped (ms); entries older than CACHE_TTL_MS are wiped. */
  at: number;
}

/** Unwrapped keys stay in memory at most this long (an erased patient's key leaves with it). */
const CACHE_TTL_MS = 5 * 60_000;

export interface RotationReport {
  provider: string;
  fromVersions: number[];
  toVersion: number;
  rewrapped: number;
}

const MAX_SUBJECT = 200;

/** The context bound to a wrapped data key: it unwraps only as this subject's key of this version. */
export function wrapContextOf(subject: string, version: number): string {
  return `ward.dek.v1|${subject}|${version}`;
}

export function patientKeySubject(patientId: string): string {
  return `patient:${patientId}`;
}

export class DataKeyRing {
  private readonly cache = new Map<string, CachedKey>();

  /**
   * @param provider wraps new keys (the configured provider).
   * @param others providers still holding older wraps (e.g. `local` after moving to an HSM),
   *   used to unwrap and by rotation to rewrap onto `provider`.
   */
  constructor(
    private readonly db: Db,
    private readonly provider: KeyProvider,
    private readonly clock: Clock,
    private readonly others: readonly KeyProvider[] = [],
    private readonly cacheSize = 10_000,
  ) {}

  get providerName(): string {
    return this.provider.name;
  }

  /**
   * The active KEK version of the configured provider, recording it on first use (a provider
   * without any key gets its first one).
   */
  async activeKekVersion(db: Db = this.db): Promise<number> {
    // Read every time (one indexed row, only when a new data key is made): a rotation by
    // another process must take effect at once, never after this process restarts.
    const row = await db.selectFrom('kek_version').select('version').where('provider', '=', this.provider.name).where('state', '=', 'active').executeTakeFirst();
    if (row !== undefined) return row.version;
    const versions = await this.provider.versions();
    const version = versions.at(-1) ?? (await this.provider.createVersion());
    await db
      .insertInto('kek_version')
      .values({ provider: this.provider.name, version, created_at: this.clock.now().toISOString(), state: 'active' })
      .onConflict((oc) => oc.columns(['provider', 'version']).doUpdateSet({ state: 'active' }))
      .execute();
    return version;
  }

  /** The subject's current key, created (and stored wrapped, in `trx`) if it has none. */
  async keyFor(trx: Db, subject: string): Promise<DataKey> {
    const existing = await this.existingKey(trx, subject);
    if (existing !== undefined) return existing;
    if (subject.length > MAX_SUBJECT) throw new WardError('storage.invalid_subject', 'data key subject too long');
    const key = randomBytes(32);
    const version = 1;
    // In the caller's transaction: on SQLite another statement outside it would wait forever.
    const kekVersion = await this.activeKekVersion(trx);
    const wrapped = await this.provider.wrap(kekVersion, key, wrapContextOf(subject, version));
    const inserted = await trx
      .insertInto('data_key')
      .values({ subject, version, kek_provider: this.provider.name, kek_version: kekVersion, wrapped, created_at: this.clock.now().toISOString(), rewrapped_at: null })
      .onConflict((oc) => oc.columns(['subject', 'version']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
      // Another writer created it first: use theirs.
      key.fill(0);
      const theirs = await this.existingKey(trx, subject);
      if (theirs === undefined) throw new WardError('storage.key_missing', 'a data key vanished while being created');
      return theirs;
    }
    this.remember(subject, { version, wrappedDigest: digestOf(wrapped), key: Buffer.from(key), at: Date.now() });
    return { subject, version, key };
  }

  /** The subject's key if it exists (undefined after erasure or before any data). */
  async existingKey(db: Db, subject: string, version?: number): Promise<DataKey | undefined> {
    let q = db.selectFrom('data_key').select(['version', 'kek_provider', 'kek_version', 'wrapped']).where('subject', '=', subject);
    q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
    const row = await q.executeTakeFirst();
    if (row === undefined) {
      this.forget(subject);
      return undefined;
    }
    const wrapped = Buffer.from(row.wrapped);
    const digest = digestOf(wrapped);
    this.sweep();
    const cached = this.cache.get(subject);
    if (cached !== undefined && cached.version === row.version && cached.wrappedDigest === digest) {
      // Refresh recency (Map keeps insertion order: delete + set moves it to the end).
      this.cache.delete(subject);
      this.cache.set(subject, cached);
      // Callers get their own copy: the cached one is wiped when evicted or destroyed.
      return { subject, version: row.version, key: Buffer.from(cached.key) };
    }
    const key = await this.providerNamed(row.kek_provider).unwrap(row.kek_version, wrapped, wrapContextOf(subject, row.version));
    this.remember(subject, { version: row.version, wrappedDigest: digest, key: Buffer.from(key), at: Date.now() });
    return { subject, version: row.version, key };
  }

  /** Delete every version of the subject's key (in `trx`) and wipe the cached copy. */
  async destroy(trx: Db, subject: string): Promise<number> {
    const result = await trx.deleteFrom('data_key').where('subject', '=', subject).executeTakeFirst();
    this.forget(subject);
    return Number(result.numDeletedRows);
  }

  /** Drop a cached key (after a rollback, or when another process may have changed it). */
  forget(subject: string): void {
    const cached = this.cache.get(subject);
    if (cached !== undefined) {
      cached.key.fill(0);
      this.cache.delete(subject);
    }
  }

  /**
   * Rotate: unless a previous rotation is unfinished, make a new KEK version on the configured
   * provider; then rewrap every data key not yet under it (batch by batch, each batch one
   * transaction, so a crash loses nothing and a rerun resumes), and retire the old versions.
   * Records are not touched: their data keys do not change.
   */
  async rotate(options: { batchSize?: number; onProgress?: (done: number, total: number) => void; runBatch?: (work: (trx: Db) => Promise<number>) => Promise<number> } = {}): Promise<RotationReport> {
    const batchSize = options.batchSize ?? 500;
    const current = await this.activeKekVersion();
    const pending = await this.countNotUnder(current);
    let target = current;
    const fromVersions = new Set<number>();
    if (pending === 0) {
      target = await this.provider.createVersion();
      const now = this.clock.now().toISOString();
      await this.db.transaction().execute(async (trx) => {
        await trx.updateTable('kek_version').set({ state: 'retiring' }).where('provider', '=', this.provider.name).where('state', '=', 'active').execute();
        await trx.insertInto('kek_version').values({ provider: this.provider.name, version: target, created_at: now, state: 'active' })
          .onConflict((oc) => oc.columns(['provider', 'version']).doUpdateSet({ state: 'active' })).execute();
      });
      fromVersions.add(current);
    }
    const total = await this.countNotUnder(target);
    const runBatch = options.runBatch ?? ((work) => this.db.transaction().execute(work));
    let done = 0;
    for (;;) {
      const rewrapped = await runBatch(async (trx) => {
        const rows = await trx
          .selectFrom('data_key')
          .select(['subject', 'version', 'kek_provider', 'kek_version', 'wrapped'])
          .where((eb) => eb.or([eb('kek_provider', '!=', this.provider.name), eb('kek_version', '!=', target)]))
          .orderBy('subject').orderBy('version')
          .limit(batchSize)
          .execute();
        for (const row of rows) {
          const context = wrapContextOf(row.subject, row.version);
          const wrappedOld = Buffer.from(row.wrapped);
          const key = await this.providerNamed(row.kek_provider).unwrap(row.kek_version, wrappedOld, context);
          try {
            const wrapped = await this.provider.wrap(target, key, context);
            await trx.updateTable('data_key')
              .set({ kek_provider: this.provider.name, kek_version: target, wrapped, rewrapped_at: this.clock.now().toISOString() })
              .where('subject', '=', row.subject).where('version', '=', row.version)
              .execute();
          } finally {
            key.fill(0);
          }
          if (row.kek_provider === this.provider.name) fromVersions.add(row.kek_version);
        }
        return rows.length;
      });
      done += rewrapped;
      options.onProgress?.(done, total);
      if (rewrapped < batchSize) break;
    }
    await this.db.updateTable('kek_version').set({ state: 'retired' }).where('provider', '=', this.provider.name).where('state', '=', 'retiring').execute();
    // Keys moved off another provider (the local file, after moving to an HSM): its versions
    // that no longer wrap any data key are retired too, not left looking active.
    await this.db.updateTable('kek_version').set({ state: 'retired' })
      .where('provider', '!=', this.provider.name).where('state', '!=', 'retired')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('data_key').select('data_key.subject')
        .whereRef('data_key.kek_provider', '=', 'kek_version.provider')
        .whereRef('data_key.kek_version', '=', 'kek_version.version'))))
      .execute();
    return { provider: this.provider.name, fromVersions: [...fromVersions].sort((a, b) => a - b), toVersion: target, rewrapped: done };
  }

  /** How many data keys are wrapped by each provider and KEK version. */
  async status(): Promise<Array<{ provider: string; version: number; state: string; dataKeys: number }>> {
    const versions = await this.db.selectFrom('kek_version').selectAll().orderBy('provider').orderBy('version').execute();
    const counts = await this.db.selectFrom('data_key').select(['kek_provider', 'kek_version', (eb) => eb.fn.countAll<number | string | bigint>().as('n')]).groupBy(['kek_provider', 'kek_version']).execute();
    const countOf = (p: string, v: number): number => Number(counts.find((c) => c.kek_provider === p && c.kek_version === v)?.n ?? 0);
    return versions.map((v) => ({ provider: v.provider, version: v.version, state: v.state, dataKeys: countOf(v.provider, v.version) }));
  }

  private async countNotUnder(version: number): Promise<number> {
    const row = await this.db.selectFrom('data_key')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where((eb) => eb.or([eb('kek_provider', '!=', this.provider.name), eb('kek_version', '!=', version)]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private providerNamed(name: string): KeyProvider {
    if (name === this.provider.name) return this.provider;
    const other = this.others.find((p) => p.name === name);
    if (other === undefined) throw new WardError('keys.provider_unavailable', `data keys are wrapped by the "${name}" key provider, which is not configured`, { status: 503 });
    return other;
  }

  /** Wipe entries older than the TTL (the map is in recency order, oldest first). */
  private sweep(): void {
    const cutoff = Date.now() - CACHE_TTL_MS;
    for (const [subject, entry] of this.cache) {
      if (entry.at >= cutoff) break;
      this.forget(subject);
    }
  }

  private remember(subject: string, entry: CachedKey): void {
    this.forget(subject);
    this.cache.set(subject, entry);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.forget(oldest.value);
    }
  }
}

function digestOf(wrapped: Buffer): string {
  return createHash('sha256').update(wrapped).digest('hex');
}
