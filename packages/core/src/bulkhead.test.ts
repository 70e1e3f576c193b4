import { getEventListeners } from 'node:events';
import { VirtualClock } from '@faultline/clock';
import { type Deferred, deferred, refusal } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type BulkheadPolicy, bulkhead } from './bulkhead.js';
import { BulkheadRejectedError } from './bulkhead-errors.js';
import type { BulkheadRejectEvent } from './bulkhead-events.js';
import { contextFor, type ExecutionContext } from './context.js';
import { ExecutionRejectedError } from './errors.js';
import {
  executeInContext,
  invoke,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';

/** Takes a slot of `policy` with a call that runs until `free()`, which lets it finish. */
function occupy(policy: BulkheadPolicy): { free(): Promise<void> } {
  const gate = deferred();
  const running = policy.execute(() => gate.promise);
  return {
    async free() {
      gate.resolve();
      await running;
    },
  };
}

/** Lets every pending promise reaction run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/**
 * A stand-in for an enclosing timeout (core cannot depend on @faultline/timeout): runs the inner
 * work in a child context that it aborts after `ms` on `clock`, and stops waiting at that moment.
 */
class TestTimeout extends PolicyBase {
  constructor(
    readonly ms: number,
    readonly clock: VirtualClock,
  ) {
    super();
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const child = ctx.child();
    let cancel: () => void = () => {};
    const timedOut = new Promise<never>((_, reject) => {
      cancel = this.clock.setTimer(this.ms, () => {
        const error = new Error('timed out');
        child.abort(error);
        reject(error);
      });
    });
    return Promise.race([invoke(fn, child), timedOut]).finally(() => {
      cancel();
      child.dispose();
    });
  }

  describe(): PolicyDescription {
    return { name: 'test-timeout', options: { ms: this.ms } };
  }
}

describe('bulkhead: limit and rejection', () => {
  it('runs at most `limit` at once and rejects the next with BulkheadRejectedError', async () => {
    const policy = bulkhead({ limit: 2 });
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = policy.execute(() => a.promise);
    const pb = policy.execute(() => b.promise);
    expect(policy.active).toBe(2);
    expect(policy.queued).toBe(0);
    const error = await refusal((task) => policy.execute(task));
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect(error).toMatchObject({
      name: 'BulkheadRejectedError',
      code: 'BULKHEAD_FULL',
      reason: 'full',
      retryAfter: undefined,
    });
    a.resolve('a');
    await expect(pa).resolves.toBe('a');
    expect(policy.active).toBe(1);
    await expect(policy.execute(() => 'c')).resolves.toBe('c');
    b.reject(new TypeError('b failed'));
    await expect(pb).rejects.toThrow('b failed'); // the function's own error, unwrapped
    expect(policy.active).toBe(0);
  });

  it('frees the slot after a synchronous throw', async () => {
    const policy = bulkhead({ limit: 1 });
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(policy.active).toBe(0);
    await expect(policy.execute(() => 1)).resolves.toBe(1);
  });

  it('emits onReject with plain data', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 1, queueTimeout: 10, clock });
    const events: BulkheadRejectEvent[] = [];
    const off = policy.onReject((event) => events.push(event));
    const slot = occupy(policy);
    const waiting = policy.execute(() => 'never').catch((e: unknown) => e);
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(10);
    expect(await waiting).toMatchObject({ code: 'BULKHEAD_QUEUE_TIMEOUT', reason: 'queueTimeout' });
    expect(events).toEqual([
      { reason: 'full', active: 1, queued: 1 },
      { reason: 'queueTimeout', active: 1, queued: 0 },
    ]);
    off();
    await slot.free();
  });

  it('describe() gives its name and options', () => {
    expect(bulkhead({ limit: 3 }).describe()).toEqual({
      name: 'bulkhead',
      options: { limit: 3, queue: 0, queueTimeout: Number.POSITIVE_INFINITY },
    });
    expect(
      bulkhead({ limit: 1, queue: Number.POSITIVE_INFINITY, queueTimeout: 250 }).describe(),
    ).toEqual({
      name: 'bulkhead',
      options: { limit: 1, queue: Number.POSITIVE_INFINITY, queueTimeout: 250 },
    });
  });
});

describe('bulkhead: queue', () => {
  it('starts queued callers in FIFO order as slots free', async () => {
    const policy = bulkhead({ limit: 1, queue: 3 });
    const started: number[] = [];
    const gates = [0, 1, 2, 3].map(() => deferred());
    const results = gates.map((gate, i) =>
      policy.execute(() => {
        started.push(i);
        return gate.promise.then(() => i);
      }),
    );
    expect(started).toEqual([0]);
    expect(policy.queued).toBe(3);
    for (let i = 0; i < 4; i++) {
      gates[i]!.resolve();
      await flush();
      expect(started).toEqual([0, 1, 2, 3].slice(0, Math.min(i + 2, 4)));
    }
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2, 3]);
    expect(policy.active).toBe(0);
    expect(policy.queued).toBe(0);
  });

  it('a queued caller that aborts leaves the queue at once, with its reason and no listener', async () => {
    const policy = bulkhead({ limit: 1, queue: 2 });
    const slot = occupy(policy);
    const controller = new AbortController();
    const fn = vi.fn(() => 'aborted one');
    const queued = policy.execute(fn, controller.signal);
    const next = policy.execute(() => 'next');
    expect(policy.queued).toBe(2);
    expect(listeners(controller.signal)).toBe(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(policy.queued).toBe(1); // synchronously
    expect(listeners(controller.signal)).toBe(0);
    await expect(queued).rejects.toBe(reason);
    await slot.free();
    await expect(next).resolves.toBe('next');
    expect(fn).not.toHaveBeenCalled();
    expect(policy.active).toBe(0);
  });

  it('queued callers sharing one signal share one listener, and its abort rejects them all in order', async () => {
    const policy = bulkhead({ limit: 1, queue: 50 });
    const slot = occupy(policy);
    const request = new AbortController();
    const other = new AbortController();
    const order: number[] = [];
    const shared = Array.from({ length: 20 }, (_, i) =>
      policy.execute(() => i, request.signal).catch(() => order.push(i)),
    );
    const survivor = policy.execute(() => 'survivor', other.signal);
    expect(policy.queued).toBe(21);
    expect(listeners(request.signal)).toBe(1); // not 20: Node warns past 10
    expect(listeners(other.signal)).toBe(1);
    request.abort('request cancelled');
    expect(policy.queued).toBe(1);
    expect(listeners(request.signal)).toBe(0);
    await Promise.all(shared);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await slot.free();
    await expect(survivor).resolves.toBe('survivor');
    expect(listeners(other.signal)).toBe(0);
  });

  it('an aborted queued caller frees its queue place for another caller', async () => {
    const policy = bulkhead({ limit: 1, queue: 1 });
    const slot = occupy(policy);
    const controller = new AbortController();
    const queued = policy.execute(() => 1, controller.signal).catch((e: unknown) => e);
    await expect(policy.execute(() => 2)).rejects.toBeInstanceOf(BulkheadRejectedError);
    controller.abort('stop');
    const replacement = policy.execute(() => 3);
    await slot.free();
    expect(await queued).toBe('stop');
    await expect(replacement).resolves.toBe(3);
  });

  it('removes the abort listener when a queued caller gets its slot', async () => {
    const policy = bulkhead({ limit: 1, queue: 1 });
    const slot = occupy(policy);
    const controller = new AbortController();
    const inner = deferred();
    let seen: AbortSignal | undefined;
    const queued = policy.execute(({ signal }) => {
      seen = signal;
      return inner.promise;
    }, controller.signal);
    expect(listeners(controller.signal)).toBe(1);
    await slot.free();
    await flush();
    expect(seen).toBe(controller.signal);
    expect(listeners(controller.signal)).toBe(0);
    inner.resolve();
    await queued;
  });

  it('an enclosing timeout aborting a queued caller removes it from the queue', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 1 });
    const guarded = pipeline(new TestTimeout(50, clock), policy);
    const slot = occupy(policy);
    const fn = vi.fn();
    const queued = guarded.execute(fn).catch((e: unknown) => e);
    expect(policy.queued).toBe(1);
    await clock.advance(50);
    expect(policy.queued).toBe(0);
    expect(await queued).toMatchObject({ message: 'timed out' });
    await slot.free();
    expect(fn).not.toHaveBeenCalled();
    expect(policy.active).toBe(0);
  });

  it("watches a queued caller's enclosing context without creating its signal", async () => {
    const policy = bulkhead({ limit: 1, queue: 2 });
    const slot = occupy(policy);
    const caller = new AbortController();
    const timedOut = contextFor(caller.signal).child();
    const kept = contextFor(caller.signal).child();
    const dropped = policy[executeInContext](() => 'dropped', timedOut).catch((e: unknown) => e);
    const served = policy[executeInContext](() => 'served', kept);
    expect(policy.queued).toBe(2);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1); // shared by both
    timedOut.abort('timeout');
    expect(policy.queued).toBe(1); // synchronously
    expect(await dropped).toBe('timeout');
    await slot.free();
    await expect(served).resolves.toBe('served');
    expect(timedOut.signalRead || kept.signalRead).toBe(false);
    timedOut.dispose();
    kept.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('queueTimeout rejects a caller that waited that long, and its timer is cleared otherwise', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 2, queueTimeout: 100, clock });
    const slot = occupy(policy);
    const first = policy.execute(() => 'first').catch((e: unknown) => e);
    await clock.advance(60);
    const second = policy.execute(() => 'second');
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(40); // first has waited 100 ms
    const error = await first;
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toMatchObject({ code: 'BULKHEAD_QUEUE_TIMEOUT', retryAfter: undefined });
    expect(policy.queued).toBe(1);
    await slot.free(); // second gets the slot before its own timeout
    await expect(second).resolves.toBe('second');
    expect(clock.pendingTimers).toBe(0);
  });

  it('an unbounded queue accepts any number of callers', async () => {
    const policy = bulkhead({ limit: 1, queue: Number.POSITIVE_INFINITY });
    const slot = occupy(policy);
    const waiting = Array.from({ length: 1000 }, (_, i) => policy.execute(() => i));
    expect(policy.queued).toBe(1000);
    await slot.free();
    expect((await Promise.all(waiting)).length).toBe(1000);
  });

  it('a long queue of synchronously throwing callers drains without deep recursion', async () => {
    const policy = bulkhead({ limit: 1, queue: Number.POSITIVE_INFINITY });
    const slot = occupy(policy);
    const n = 20_000;
    const waiting = Array.from({ length: n }, () =>
      policy.execute(() => {
        throw new Error('sync');
      }),
    );
    await slot.free();
    const settled = await Promise.allSettled(waiting);
    expect(settled.every((r) => r.status === 'rejected')).toBe(true);
    expect(policy.active).toBe(0);
  });
});

describe('bulkhead: a slot is held until the function really settles', () => {
  it('an execution an outer timeout abandoned keeps its slot until it settles', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1 });
    // The outer timeout is a plain Promise.race on a VirtualClock timer.
    const slowCall = policy.execute(() => clock.sleep(500).then(() => 'late result'));
    const timedOut = Promise.race([
      slowCall,
      clock.sleep(100).then(() => {
        throw new Error('timeout');
      }),
    ]);
    const outcome = timedOut.catch((e: unknown) => e);
    await clock.advance(100);
    expect(await outcome).toMatchObject({ message: 'timeout' });
    expect(policy.active).toBe(1); // the function is still running
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(400);
    await expect(slowCall).resolves.toBe('late result');
    expect(policy.active).toBe(0);
    await expect(policy.execute(() => 'now')).resolves.toBe('now');
  });

  it('never lets more than `limit` functions run, even when every call times out', async () => {
    // The opossum check from js-peers §3.6: capacity 2, 20 ms timeout, 6 actions of 200 ms.
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 2, queue: 10 });
    const guarded = pipeline(new TestTimeout(20, clock), policy);
    let running = 0;
    let maxRunning = 0;
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 6; i++) {
      calls.push(
        guarded
          .execute(async () => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await clock.sleep(200); // ignores the signal, like opossum's action
            running--;
          })
          .catch((e: unknown) => e),
      );
      await clock.advance(30);
    }
    await clock.runAll();
    await Promise.all(calls);
    expect(maxRunning).toBe(2);
    expect(policy.active).toBe(0);
  });
});

describe('bulkhead: property', () => {
  type Op =
    | { kind: 'arrive'; abortable: boolean }
    | { kind: 'settle'; index: number; ok: boolean }
    | { kind: 'abort'; index: number }
    | { kind: 'tick'; ms: number };

  // Weighted so that queues actually fill: arrivals outnumber settles, aborts and ticks.
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant('arrive' as const), abortable: fc.boolean() }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        index: fc.nat(),
        ok: fc.boolean(),
      }),
      weight: 3,
    },
    { arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }), weight: 1 },
    {
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        ms: fc.integer({ min: 1, max: 8 }),
      }),
      weight: 1,
    },
  );

  it('active ≤ limit and queued ≤ queue under any arrival/settle/abort/time sequence, FIFO, vs a model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(Number.POSITIVE_INFINITY, 5, 10),
        fc.array(op, { minLength: 4, maxLength: 60, size: 'max' }),
        async (limit, queue, queueTimeout, ops) => {
          const clock = new VirtualClock();
          const policy = bulkhead({ limit, queue, queueTimeout, clock });
          // Model: ids running and ids waiting, in order, with the time each started waiting.
          const running: number[] = [];
          const waiting: number[] = [];
          const waitingSince = new Map<number, number>();
          const expectedStarts: number[] = [];
          const expectedResults = new Map<number, string>();
          // Real side.
          const gates = new Map<number, Deferred<void>>();
          const controllers = new Map<number, AbortController>();
          const starts: number[] = [];
          const results = new Map<number, Promise<string>>();
          let nextId = 0;
          for (const step of ops) {
            if (step.kind === 'arrive') {
              const id = nextId++;
              const gate = deferred();
              gates.set(id, gate);
              const controller = step.abortable ? new AbortController() : undefined;
              if (controller) controllers.set(id, controller);
              results.set(
                id,
                policy
                  .execute(() => {
                    starts.push(id);
                    return gate.promise;
                  }, controller?.signal)
                  .then(
                    () => 'ok',
                    (e: unknown) =>
                      e instanceof BulkheadRejectedError
                        ? e.reason
                        : e === 'boom'
                          ? 'failed'
                          : String(e),
                  ),
              );
              if (running.length < limit) {
                running.push(id);
                expectedStarts.push(id);
              } else if (waiting.length < queue) {
                waiting.push(id);
                waitingSince.set(id, clock.now());
              } else expectedResults.set(id, 'full');
            } else if (step.kind === 'settle') {
              if (running.length === 0) continue;
              const [id] = running.splice(step.index % running.length, 1) as [number];
              if (step.ok) gates.get(id)!.resolve();
              else gates.get(id)!.reject('boom');
              expectedResults.set(id, step.ok ? 'ok' : 'failed');
              const next = waiting.shift();
              if (next !== undefined) {
                running.push(next);
                expectedStarts.push(next);
              }
            } else if (step.kind === 'abort') {
              const candidates = waiting.filter((id) => controllers.has(id));
              if (candidates.length === 0) continue;
              const id = candidates[step.index % candidates.length]!;
              waiting.splice(waiting.indexOf(id), 1);
              controllers.get(id)!.abort(`aborted ${id}`);
              expectedResults.set(id, `aborted ${id}`);
              expect(policy.queued).toBe(waiting.length); // synchronously
            } else if (step.kind === 'tick') {
              await clock.advance(step.ms);
              for (const id of [...waiting]) {
                if (waitingSince.get(id)! + queueTimeout <= clock.now()) {
                  waiting.splice(waiting.indexOf(id), 1);
                  expectedResults.set(id, 'queueTimeout');
                }
              }
            }
            await flush();
            expect(policy.active).toBeLessThanOrEqual(limit);
            expect(policy.queued).toBeLessThanOrEqual(queue);
            expect(policy.active).toBe(running.length);
            expect(policy.queued).toBe(waiting.length);
            expect(starts).toEqual(expectedStarts);
          }
          for (const [id, result] of expectedResults) {
            await expect(results.get(id)).resolves.toBe(result);
          }
          // Drain: settle everything and check that the bulkhead empties.
          for (const gate of gates.values()) gate.resolve();
          for (let i = 0; i < ops.length + 2; i++) await flush();
          expect(policy.active).toBe(0);
          expect(policy.queued).toBe(0);
          expect(clock.pendingTimers).toBe(0);
          for (const controller of controllers.values()) {
            expect(listeners(controller.signal)).toBe(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
