/**
 * Per-client-address limit on failed sign-ins (NIST SP 800-63B 5.2.2): the username lockout
 * stops guessing one account, this stops one source spraying a common password across many
 * usernames. A client with `maxFailures` failures inside the sliding `windowMinutes` is
 * refused (429 `auth.throttled`) until the oldest of them leaves the window.
 *
 * In memory, per process, and bounded: at most `maxClients` addresses are tracked (the least
 * recently failing one is forgotten first), each with at most `maxFailures` timestamps. IPv6
 * clients are counted per /64, the block one subscriber usually holds, so rotating addresses
 * inside it does not reset the count.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';

export interface ClientThrottleOptions {
  /** Failures allowed per client inside the window (default 30). */
  maxFailures?: number;
  /** The sliding window (default 10 minutes). */
  windowMinutes?: number;
  /** Most clients tracked at once (default 10,000). */
  maxClients?: number;
}

export type ClientState = { limited: false } | { limited: true; retryAfterSeconds: number };

export class ClientThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  /** Failure times per client key, oldest first; the Map's order is least recently failing first. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    options: ClientThrottleOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 30;
    this.windowMs = (options.windowMinutes ?? 10) * 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    if (!Number.isInteger(this.maxFailures) || this.maxFailures < 1 || !(this.windowMs > 0) || !Number.isInteger(this.maxClients) || this.maxClients < 1) {
      throw new WardError('config.invalid', 'client throttle needs maxFailures >= 1, windowMinutes > 0 and maxClients >= 1');
    }
  }

  /** Clients tracked now (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  /** Whether the client may try now. Without an address (console use) nothing is limited. */
  check(client: string | undefined): ClientState {
    if (client === undefined) return { limited: false };
    const key = clientKeyOf(client);
    const now = this.clock.now().getTime();
    const times = this.recent(key, now);
    const oldest = times[0];
    if (times.length < this.maxFailures || oldest === undefined) return { limited: false };
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
  }

  /**
   * Check and count an attempt in one step (attempts in flight count as failures until they
   * succeed, so a burst cannot all pass the check before any fails). Returns the refusal when
   * the budget is spent; the attempt is then not counted.
   */
  attempt(client: string | undefined): ClientState {
    const state = this.check(client);
    if (!state.limited) this.recordFailure(client);
    return state;
  }

  /** Forget the most recent counted attempt of the client: it succeeded (or was never judged). */
  forgive(client: string | undefined): void {
    if (client === undefined) return;
    const times = this.failures.get(clientKeyOf(client));
    times?.pop();
    if (times?.length === 0) this.failures.delete(clientKeyOf(client));
  }

  /** Count a failed sign-in from the client. */
  recordFailure(client: string | undefined): void {
    if (client === undefined) return;
    const key = clientKeyOf(client);
    const now = this.clock.now().getTime();
    const times = this.recent(key, now);
    times.push(now);
    if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
    // Re-insert so the Map's first entry is always the least recently failing client.
    this.failures.delete(key);
    this.failures.set(key, times);
    while (this.failures.size > this.maxClients) {
      const first = this.failures.keys().next();
      if (first.done === true) break;
      this.failures.delete(first.value);
    }
  }

  /** The client's failures still inside the window (older ones dropped). */
  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (times === undefined) return [];
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < times.length && (times[drop] ?? 0) <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) this.failures.delete(key);
    return times;
  }
}

/** The throttle key of an address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix. */
export function clientKeyOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(address)) return address.slice(0, 64);
  const bare = address.toLowerCase().replace(/%.*$/, '');
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded dotted IPv4 (the last 32 bits) counts as two groups.
  const width = (gs: string[]): number => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
