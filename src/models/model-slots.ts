/**
 * Per-model concurrency (the `limits.concurrency` and `limits.queue` of a model in ward.json):
 * at most `concurrency` calls run against one model, up to `queue` more wait in order (FIFO),
 * beyond that the call is refused at once with `model.busy` (503 + Retry-After, RFC 9110
 * 15.6.4 / 10.2.3), so a burst costs bounded memory and a slow model cannot pile up unbounded work.
 *
 * Unlike auth/bounded-concurrency.ts the wait is abort-aware: a caller whose signal fires
 * (client gone, timeout, shutdown) leaves the queue at once with `model.cancelled` (499) and
 * never takes a slot. `acquire` hands back a release function; release is idempotent, so a
 * `finally` plus an error path releasing twice cannot free a slot that is not theirs.
 */
import { WardError } from '../shared/ward-error.js';

export interface ModelSlotsOptions {
  /** Calls in flight at once (>= 1). */
  readonly concurrency: number;
  /** Calls waiting for a slot (>= 0); beyond this: `model.busy`. */
  readonly queue: number;
  /** Seconds a refused caller is told to wait (the `Retry-After` of the 503). Default 1. */
  readonly retryAfterSeconds?: number;
}

interface Waiter {
  readonly grant: (release: () => void) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

export type ReleaseSlot = () => void;

export class ModelSlots {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  private readonly retryAfterSeconds: number;

  constructor(private readonly options: ModelSlotsOptions) {
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || !Number.isInteger(options.queue) || options.queue < 0 || !(this.retryAfterSeconds >= 0)) {
      throw new WardError('config.invalid', 'model slots need concurrency >= 1, queue >= 0 and retryAfterSeconds >= 0');
    }
  }

  /** Calls running now and waiting now (for tests, metrics and the health page). */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.waiting.length };
  }

  /**
   * Wait for a slot. Resolves with the release function; rejects with `model.busy` (queue full)
   * or `model.cancelled` (the signal fired before a slot was granted).
   */
  acquire(signal: AbortSignal): Promise<ReleaseSlot> {
    if (signal.aborted) return Promise.reject(cancelled());
    // Free slot and nobody waiting ahead: take it (a waiter is never overtaken).
    if (this.inFlight < this.options.concurrency && this.waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.options.queue) {
      const retryAfterSeconds = this.retryAfterSeconds;
      return Promise.reject(
        new WardError('model.busy', `the model is busy; retry in ${retryAfterSeconds} s`, { status: 503, extra: { retryAfterSeconds } }),
      );
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        signal,
        onAbort: () => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(cancelled());
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A release function for one granted slot: the first call frees it, later calls do nothing. */
  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the oldest waiter, so inFlight never overshoots.
      const next = this.waiting.shift();
      if (next === undefined) {
        this.inFlight--;
        return;
      }
      next.signal.removeEventListener('abort', next.onAbort);
      next.grant(this.releaser());
    };
  }
}

function cancelled(): WardError {
  return new WardError('model.cancelled', 'the model call was cancelled', { status: 499 });
}
