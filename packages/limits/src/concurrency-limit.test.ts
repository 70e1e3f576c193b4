import { VirtualClock } from '@faultline/clock';
import { ExecutionRejectedError, handleErrors, pipeline, telemetry } from '@faultline/core';
import { deferred, refusal, telemetryRecorder } from '@faultline/test-support/browser';
import { timeout } from '@faultline/timeout';
import { describe, expect, it, vi } from 'vitest';
import { aimd } from './aimd.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { ConcurrencyLimitRejectedError } from './concurrency-limit-errors.js';
import { fixed } from './fixed.js';
import type { LimitAlgorithm } from './limit-algorithm.js';

const recordTelemetry = telemetryRecorder(telemetry);

/** A limit algorithm that records its samples. */
function recording(limit = 2): LimitAlgorithm & { samples: Array<[number, number, boolean]> } {
  const samples: Array<[number, number, boolean]> = [];
  return {
    kind: 'aimd', // any adaptive kind: a fixed limit is not timed
    limit,
    samples,
    update(rtt, inflight, didDrop) {
      samples.push([rtt, inflight, didDrop]);
    },
    describe: () => ({ name: 'aimd', options: { limit } }),
  };
}

describe('concurrencyLimit', () => {
  it('admits up to the limit and rejects the rest at once', async () => {
    const limiter = concurrencyLimit({ limit: fixed(2) });
    const a = deferred<string>();
    const b = deferred<string>();
    const first = limiter.execute(() => a.promise);
    const second = limiter.execute(() => b.promise);
    expect(limiter.inflight).toBe(2);
    const error = await refusal((task) => limiter.execute(task));
    expect(error).toBeInstanceOf(ConcurrencyLimitRejectedError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect(error).toMatchObject({
      code: 'CONCURRENCY_LIMITED',
      reason: 'full',
      limit: 2,
      inflight: 2,
      retryAfter: undefined,
      message: 'concurrency-limit: concurrency limit of 2 reached (2 in flight)',
    });
    a.resolve('a');
    b.resolve('b');
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(limiter.inflight).toBe(0);
  });

  it('samples: success → rtt, error → drop, caller abort → neither; inflight at admission', async () => {
    const clock = new VirtualClock();
    const algorithm = recording(5);
    const limiter = concurrencyLimit({ limit: algorithm, clock });
    const slow = deferred<string>();
    const running = limiter.execute(() => slow.promise);
    await clock.advance(30);
    await limiter.execute(async () => 'fast'); // admitted second: inflight 2, rtt 0
    await expect(limiter.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    slow.resolve('slow');
    await running;
    const caller = new AbortController();
    const pending = limiter.execute(
      (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
      caller.signal,
    );
    caller.abort(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    expect(algorithm.samples).toEqual([
      [0, 2, false],
      [0, 2, true],
      [30, 1, false],
    ]);
    expect(limiter.inflight).toBe(0);
  });

  it('a timeout inside the limit is a drop; an outer one aborting the call is not a sample', async () => {
    const clock = new VirtualClock();
    const inner = recording(5);
    const innerTimeout = pipeline(
      concurrencyLimit({ limit: inner, clock }),
      timeout(100, { clock }),
    );
    const hang = innerTimeout.execute(() => new Promise(() => {})).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await hang).toMatchObject({ name: 'TimeoutError' });
    expect(inner.samples).toEqual([[100, 1, true]]);

    const outer = recording(5);
    const limiter = concurrencyLimit({ limit: outer, clock });
    const outerTimeout = pipeline(timeout(100, { clock }), limiter);
    const hung = outerTimeout
      .execute(
        (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          ),
      )
      .catch((e: unknown) => e);
    await clock.advance(100);
    expect(await hung).toMatchObject({ name: 'TimeoutError' });
    expect(outer.samples).toEqual([]);
    expect(limiter.inflight).toBe(0);
  });

  it('shouldHandle decides the drops; a throwing one replaces the outcome and frees the permit', async () => {
    class NotFound extends Error {}
    const algorithm = recording();
    const limiter = concurrencyLimit({
      limit: algorithm,
      shouldHandle: handleErrors((error) => !(error instanceof NotFound)),
    });
    await expect(limiter.execute(() => Promise.reject(new NotFound('404')))).rejects.toThrow('404');
    expect(algorithm.samples.map((s) => s[2])).toEqual([false]);
    const broken = concurrencyLimit({
      limit: recording(),
      shouldHandle: () => {
        throw new Error('classifier bug');
      },
    });
    await expect(broken.execute(() => Promise.reject(new Error('x')))).rejects.toThrow(
      'classifier bug',
    );
    expect(broken.inflight).toBe(0);
  });

  it('never calls fn for an aborted caller', async () => {
    const limiter = concurrencyLimit({ limit: fixed(1) });
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const fn = vi.fn();
    await expect(limiter.execute(fn, caller.signal)).rejects.toThrow('gone');
    expect(fn).not.toHaveBeenCalled();
    expect(limiter.inflight).toBe(0);
  });

  describe('queue', () => {
    it('waiting callers run first come first served as slots free', async () => {
      const limiter = concurrencyLimit({ limit: fixed(1), queue: { size: 2 } });
      const gate = deferred<string>();
      const order: string[] = [];
      const first = limiter.execute(() => gate.promise);
      const second = limiter.execute(async () => order.push('second'));
      const third = limiter.execute(async () => order.push('third'));
      expect(limiter.queued).toBe(2);
      await expect(limiter.execute(async () => 0)).rejects.toMatchObject({
        code: 'CONCURRENCY_LIMITED',
        message: 'concurrency-limit: concurrency limit of 1 reached (1 in flight, 2 queued)',
      });
      gate.resolve('first');
      await Promise.all([first, second, third]);
      expect(order).toEqual(['second', 'third']);
      expect([limiter.inflight, limiter.queued]).toEqual([0, 0]);
    });

    it('a queued caller that aborts leaves at once; the queue timeout rejects', async () => {
      const clock = new VirtualClock();
      const limiter = concurrencyLimit({ limit: fixed(1), queue: { size: 5, timeout: 50 }, clock });
      const gate = deferred<string>();
      const running = limiter.execute(() => gate.promise);
      const caller = new AbortController();
      const fn = vi.fn();
      const leaving = limiter.execute(fn, caller.signal);
      caller.abort(new Error('left the queue'));
      await expect(leaving).rejects.toThrow('left the queue');
      expect(limiter.queued).toBe(0);
      const waiting = limiter.execute(fn).catch((e: unknown) => e);
      await clock.advance(50);
      expect(await waiting).toMatchObject({
        code: 'CONCURRENCY_QUEUE_TIMEOUT',
        reason: 'queueTimeout',
        message:
          'concurrency-limit: no slot under the concurrency limit of 1 within the queue timeout of 50 ms',
      });
      expect(fn).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
      gate.resolve('done');
      await running;
    });

    it('admits waiters when the limit grows', async () => {
      const clock = new VirtualClock();
      const limiter = concurrencyLimit({
        limit: aimd({ initial: 1, min: 1, max: 3 }),
        queue: { size: 10 },
        clock,
      });
      const gate = deferred<string>();
      const first = limiter.execute(() => gate.promise);
      const rest = [1, 2].map(() => limiter.execute(async () => 'ok'));
      gate.resolve('x'); // sample: inflight 1·2 ≥ 1 → limit 2; both waiters fit in turn
      await Promise.all([first, ...rest]);
      expect(limiter.limit).toBe(3);
    });
  });

  it('low level: tryAcquire and acquire return permits reported once', async () => {
    const algorithm = recording(1);
    const limiter = concurrencyLimit({ limit: algorithm, queue: { size: 1 } });
    const permit = limiter.tryAcquire()!;
    expect(permit.inflight).toBe(1);
    expect(limiter.tryAcquire()).toBeUndefined();
    const waiting = limiter.acquire();
    await expect(limiter.acquire()).rejects.toBeInstanceOf(ConcurrencyLimitRejectedError);
    permit.failure();
    permit.success(); // ignored: reported once
    const next = await waiting;
    expect(algorithm.samples.map((s) => s[2])).toEqual([true]);
    next.ignore();
    expect(limiter.inflight).toBe(0);
    const gone = new AbortController();
    gone.abort(new Error('gone'));
    await expect(limiter.acquire(gone.signal)).rejects.toThrow('gone');
  });

  it('events and telemetry: limit changes and rejections', async () => {
    const limiter = concurrencyLimit({ limit: aimd({ initial: 1, min: 1 }), name: 'inventory' });
    const changes: unknown[] = [];
    const rejects: unknown[] = [];
    limiter.onLimitChange((event) => changes.push(event));
    limiter.onReject((event) => rejects.push(event));
    const records = recordTelemetry();
    const gate = deferred<string>();
    const running = limiter.execute(() => gate.promise);
    await limiter.execute(async () => 0).catch(() => {});
    gate.resolve('ok');
    await running;
    expect(rejects).toEqual([{ reason: 'full', limit: 1, inflight: 1, queued: 0 }]);
    expect(changes).toMatchObject([{ limit: 2, previous: 1, inflight: 1, didDrop: false }]);
    const event = records.find((r) => r.type === 'event');
    expect(event).toMatchObject({
      event: 'concurrency-limited',
      policy: { kind: 'concurrency-limit', name: 'inventory' },
      attributes: { reason: 'full', algorithm: 'aimd' },
    });
  });

  it('one algorithm per limiter', () => {
    const shared = aimd();
    concurrencyLimit({ limit: shared });
    expect(() => concurrencyLimit({ limit: shared })).toThrow(
      new TypeError(
        'concurrencyLimit: option "limit" is an algorithm another concurrencyLimit already uses; build one per limiter',
      ),
    );
  });

  it('describes itself as plain data', () => {
    expect(
      concurrencyLimit({ limit: fixed(3), queue: { size: 2, timeout: 100 } }).describe(),
    ).toEqual({
      name: 'concurrency-limit',
      options: {
        name: 'concurrency-limit',
        limit: { name: 'fixed', options: { limit: 3 } },
        queue: { size: 2, timeout: 100 },
        shouldHandle: 'default',
      },
    });
  });
});
