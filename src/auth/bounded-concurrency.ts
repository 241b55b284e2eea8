/**
 * A cap on how many expensive operations (argon2id verifications, 19 MiB each) run at once in
 * this process. Up to `maxInFlight` run; up to `maxQueued` more wait their turn; beyond that
 * the call is refused at once with `auth.busy` (429), so a flood of unauthenticated requests
 * costs a bounded amount of memory instead of exhausting it.
 */
import { WardError } from '../shared/ward-error.js';

export interface BoundedConcurrencyOptions {
  maxInFlight: number;
  maxQueued: number;
  /** Seconds a refused caller is told to wait (the `Retry-After` of the 429). */
  retryAfterSeconds?: number;
}

export class BoundedConcurrency {
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: BoundedConcurrencyOptions) {
    if (!(options.maxInFlight >= 1) || !(options.maxQueued >= 0)) {
      throw new WardError('config.invalid', 'bounded concurrency needs maxInFlight >= 1 and maxQueued >= 0');
    }
  }

  /** Operations running now and waiting now (for tests and metrics). */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queue.length };
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.options.maxInFlight) {
      if (this.queue.length >= this.options.maxQueued) {
        const retryAfterSeconds = this.options.retryAfterSeconds ?? 1;
        throw new WardError('auth.busy', `too many sign-in attempts in progress; retry in ${retryAfterSeconds} s`, { status: 429, extra: { retryAfterSeconds } });
      }
      // The slot is handed over by the finishing operation, so inFlight never overshoots.
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.inFlight++;
    }
    try {
      return await operation();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}
