/** The concurrency cap on password verifications: at most N run, a bounded queue, then 429. */
import { describe, expect, it } from 'vitest';
import { BoundedConcurrency } from './bounded-concurrency.js';
import { WardError } from '../shared/ward-error.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('BoundedConcurrency', () => {
  it('runs at most maxInFlight at once, queues up to maxQueued, then refuses with auth.busy (429)', async () => {
    const cap = new BoundedConcurrency({ maxInFlight: 2, maxQueued: 1, retryAfterSeconds: 2 });
    const gates = [deferred(), deferred(), deferred()];
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const job = (i: number) => async (): Promise<number> => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await gates[i]!.promise;
      running--;
      return i;
    };
    const a = cap.run(job(0));
    const b = cap.run(job(1));
    const c = cap.run(job(2));
    await tick();
    expect(started).toEqual([0, 1]);
    expect(cap.load).toEqual({ inFlight: 2, queued: 1 });

    const refused = await cap.run(job(0)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WardError);
    expect(refused).toMatchObject({ code: 'auth.busy', status: 429, extra: { retryAfterSeconds: 2 } });

    gates[0]!.resolve();
    expect(await a).toBe(0);
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all([b, c])).toEqual([1, 2]);
    expect(peak).toBe(2);
    expect(cap.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('frees the slot when an operation fails', async () => {
    const cap = new BoundedConcurrency({ maxInFlight: 1, maxQueued: 0 });
    await expect(cap.run(() => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    expect(cap.load).toEqual({ inFlight: 0, queued: 0 });
    expect(await cap.run(() => Promise.resolve('ok'))).toBe('ok');
  });

  it('hands a freed slot to the oldest waiter first', async () => {
    const cap = new BoundedConcurrency({ maxInFlight: 1, maxQueued: 3 });
    const gate = deferred();
    const order: number[] = [];
    const first = cap.run(async () => {
      await gate.promise;
      order.push(0);
    });
    const rest = [1, 2, 3].map((i) => cap.run(async () => {
      order.push(i);
    }));
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(order).toEqual([0, 1, 2, 3]);
  });
});
