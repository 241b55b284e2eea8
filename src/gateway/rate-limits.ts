/**
 * The gateway's request limits (`gateway` in ward.json): requests per identity per minute,
 * requests per model per minute (all identities together: protects a shared model), and tokens
 * per identity per UTC day. A limit of 0 is no limit. Refusals are verdicts the HTTP layer turns
 * into 429 with Retry-After (RFC 6585 section 4, RFC 9110 section 10.2.3).
 *
 * Per-minute limits are token buckets: capacity N, refilled continuously at N per minute. N
 * requests pass at once, the next waits until a whole token has refilled; state is O(1) per key
 * (a log of timestamps would be N entries, and a model may allow millions a minute).
 *
 * In memory, per process: with several Ward instances behind a balancer each enforces its own
 * share; a shared store (Redis, the database) is future scale-out work. Bounded: at most
 * `maxIdentities` identities and `maxModels` models are tracked, the least recently used forgotten
 * first (forgetting resets that identity's counters: a bound on memory, not a loophole worth
 * 100,000 live identities). Pass only registered model ids (resolve the model first), so a caller
 * cannot cycle made-up names to evict a real model's bucket.
 */
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';

export interface RateLimitsOptions {
  /** Requests per identity per minute, across models (0: no limit). */
  readonly requestsPerMinute: number;
  /** Requests per model per minute, all identities together (0: no limit). */
  readonly modelRequestsPerMinute: number;
  /** Prompt + completion tokens per identity per UTC day (0: no quota). */
  readonly tokensPerDay: number;
  readonly clock: Clock;
  /** Identities tracked at most (default 100,000). */
  readonly maxIdentities?: number;
  /** Models tracked at most (default 1,024). */
  readonly maxModels?: number;
}

export type RateVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'gateway.rate_limited' | 'gateway.quota_exhausted'; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms since the epoch). */
  at: number;
}

interface IdentityState {
  bucket: Bucket | undefined;
  /** UTC day number (days since the epoch) `used` counts for. */
  day: number;
  used: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Tolerance for float refill arithmetic: a bucket at 0.9999999999 counts as holding one token. */
const EPSILON = 1e-9;

export class RateLimits {
  private readonly maxIdentities: number;
  private readonly maxModels: number;
  /** Map order is least recently used first. */
  private readonly identities = new Map<string, IdentityState>();
  private readonly models = new Map<string, Bucket>();

  constructor(private readonly options: RateLimitsOptions) {
    this.maxIdentities = options.maxIdentities ?? 100_000;
    this.maxModels = options.maxModels ?? 1024;
    const counts = [options.requestsPerMinute, options.modelRequestsPerMinute, options.tokensPerDay];
    if (counts.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(this.maxIdentities) || this.maxIdentities < 1 || !Number.isInteger(this.maxModels) || this.maxModels < 1) {
      throw new WardError('config.invalid', 'rate limits must be whole numbers >= 0 and the tracking bounds >= 1');
    }
  }

  /** Identities tracked now (for tests and metrics). */
  get size(): number {
    return this.identities.size;
  }

  /**
   * May this identity call this model now? Counts the request when it is admitted; a refused
   * request is not counted. The daily quota is checked first (its wait is the longest).
   */
  admit(identity: string, model: string): RateVerdict {
    const { requestsPerMinute, modelRequestsPerMinute, tokensPerDay } = this.options;
    const now = this.options.clock.now().getTime();
    const state = requestsPerMinute > 0 || tokensPerDay > 0 ? this.identityState(identity, now) : undefined;

    if (state !== undefined && tokensPerDay > 0 && state.used >= tokensPerDay) {
      const nextMidnight = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
      return { ok: false, code: 'gateway.quota_exhausted', retryAfterSeconds: Math.max(1, Math.ceil((nextMidnight - now) / 1000)) };
    }

    let identityBucket: Bucket | undefined;
    if (state !== undefined && requestsPerMinute > 0) {
      state.bucket ??= { tokens: requestsPerMinute, at: now };
      identityBucket = refill(state.bucket, requestsPerMinute, now);
    }
    let modelBucket: Bucket | undefined;
    if (modelRequestsPerMinute > 0) {
      modelBucket = this.modelBucket(model, now);
      refill(modelBucket, modelRequestsPerMinute, now);
    }

    const wait = Math.max(
      identityBucket === undefined ? 0 : waitMs(identityBucket, requestsPerMinute),
      modelBucket === undefined ? 0 : waitMs(modelBucket, modelRequestsPerMinute),
    );
    if (wait > 0) return { ok: false, code: 'gateway.rate_limited', retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };

    if (identityBucket !== undefined) identityBucket.tokens = Math.max(0, identityBucket.tokens - 1);
    if (modelBucket !== undefined) modelBucket.tokens = Math.max(0, modelBucket.tokens - 1);
    return { ok: true };
  }

  /** Count tokens an identity used (prompt + completion, after the call) against today's quota. */
  recordTokens(identity: string, tokens: number): void {
    if (this.options.tokensPerDay === 0 || !Number.isFinite(tokens) || tokens <= 0) return;
    const state = this.identityState(identity, this.options.clock.now().getTime());
    state.used += Math.ceil(tokens);
  }

  /** The identity's state, most recently used now, today's usage reset at UTC midnight. */
  private identityState(identity: string, now: number): IdentityState {
    const day = Math.floor(now / DAY_MS);
    let state = this.identities.get(identity);
    if (state === undefined) state = { bucket: undefined, day, used: 0 };
    else this.identities.delete(identity);
    if (state.day !== day) {
      state.day = day;
      state.used = 0;
    }
    this.identities.set(identity, state);
    evictOldest(this.identities, this.maxIdentities);
    return state;
  }

  private modelBucket(model: string, now: number): Bucket {
    let bucket = this.models.get(model);
    if (bucket === undefined) bucket = { tokens: this.options.modelRequestsPerMinute, at: now };
    else this.models.delete(model);
    this.models.set(model, bucket);
    evictOldest(this.models, this.maxModels);
    return bucket;
  }
}

/** Bring the bucket up to `now` (a clock moving backwards refills nothing). */
function refill(bucket: Bucket, perMinute: number, now: number): Bucket {
  if (now > bucket.at) {
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / MINUTE_MS);
    bucket.at = now;
  }
  return bucket;
}

/** Milliseconds until the bucket holds one whole token (0: it does now). */
function waitMs(bucket: Bucket, perMinute: number): number {
  if (bucket.tokens + EPSILON >= 1) return 0;
  return ((1 - bucket.tokens) * MINUTE_MS) / perMinute;
}

function evictOldest<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done === true) return;
    map.delete(first.value);
  }
}
