/** Per-model slots: FIFO, never more than `concurrency` at once, a bounded queue, abort-aware waits. */
import { describe, expect, it } from 'vitest';
import { ModelSlots, type ReleaseSlot } from './model-slots.js';
import { WardError } from '../shared/ward-error.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const never = (): AbortSignal => new AbortController().signal;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('ModelSlots', () => {
  it('grants up to concurrency at once, queues up to queue, then refuses with model.busy (503)', async () => {
    const slots = new ModelSlots({ concurrency: 2, queue: 1, retryAfterSeconds: 3 });
    const a = await slots.acquire(never());
    await slots.acquire(never());
    const queued = slots.acquire(never());
    expect(slots.load).toEqual({ inFlight: 2, queued: 1 });
    const refused = await rejection(slots.acquire(never()));
    expect(refused).toBeInstanceOf(WardError);
    expect(refused).toMatchObject({ code: 'model.busy', status: 503, extra: { retryAfterSeconds: 3 } });
    a();
    await queued;
    expect(slots.load).toEqual({ inFlight: 2, queued: 0 });
  });

  it('hands freed slots to waiters in arrival order', async () => {
    const slots = new ModelSlots({ concurrency: 1, queue: 5 });
    const first = await slots.acquire(never());
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((i) =>
      slots.acquire(never()).then((release) => {
        order.push(i);
        return release;
      }),
    );
    let release: ReleaseSlot = first;
    for (const w of waiters) {
      release();
      release = await w;
    }
    release();
    expect(order).toEqual([1, 2, 3, 4]);
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('never overshoots under many concurrent acquires, and everyone queued is served', async () => {
    const slots = new ModelSlots({ concurrency: 3, queue: 1000 });
    let running = 0;
    let peak = 0;
    const work = async (): Promise<void> => {
      const release = await slots.acquire(never());
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      release();
    };
    await Promise.all(Array.from({ length: 200 }, work));
    expect(peak).toBe(3);
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('an aborted waiter leaves the queue at once with model.cancelled (499) and takes no slot', async () => {
    const slots = new ModelSlots({ concurrency: 1, queue: 1 });
    const held = await slots.acquire(never());
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    expect(slots.load.queued).toBe(1);
    controller.abort();
    const e = await rejection(waiting);
    expect(e).toMatchObject({ code: 'model.cancelled', status: 499 });
    expect(slots.load).toEqual({ inFlight: 1, queued: 0 });
    // The freed queue place is usable, and the slot goes to the live waiter.
    const next = slots.acquire(never());
    held();
    const release = await next;
    expect(slots.load).toEqual({ inFlight: 1, queued: 0 });
    release();
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('refuses an already-aborted signal without queueing', async () => {
    const slots = new ModelSlots({ concurrency: 1, queue: 1 });
    await expect(slots.acquire(AbortSignal.abort())).rejects.toMatchObject({ code: 'model.cancelled' });
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('a second release is harmless: it frees no one else’s slot', async () => {
    const slots = new ModelSlots({ concurrency: 1, queue: 2 });
    const a = await slots.acquire(never());
    const b = slots.acquire(never());
    const c = slots.acquire(never());
    a();
    a();
    const releaseB = await b;
    await tick();
    expect(slots.load).toEqual({ inFlight: 1, queued: 1 });
    releaseB();
    releaseB();
    (await c)();
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('an abort after the slot was granted does not disturb the slot', async () => {
    const slots = new ModelSlots({ concurrency: 1, queue: 1 });
    const a = await slots.acquire(never());
    const controller = new AbortController();
    const b = slots.acquire(controller.signal);
    a();
    const releaseB = await b;
    controller.abort();
    expect(slots.load).toEqual({ inFlight: 1, queued: 0 });
    releaseB();
    expect(slots.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new ModelSlots({ concurrency: 0, queue: 1 })).toThrow(WardError);
    expect(() => new ModelSlots({ concurrency: 1, queue: -1 })).toThrow(WardError);
  });
});
