import { VirtualClock } from '@faultline/clock';
import { ExecutionRejectedError, pipeline, telemetry } from '@faultline/core';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { timeout } from '@faultline/timeout';
import { describe, expect, it, vi } from 'vitest';
import { gcra } from './gcra.js';
import { memoryRateLimitStore } from './memory-store.js';
import type { RateLimitStore } from './rate-limit-algorithm.js';
import { rateLimiter } from './rate-limiter.js';
import { RateLimitRejectedError } from './rate-limiter-errors.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

const recordTelemetry = telemetryRecorder(telemetry);

const ok = async () => 'ok';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('rateLimiter', () => {
  it('admits up to the limit, then rejects with RateLimitRejectedError and retryAfter', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ limit: tokenBucket({ rate: 2, burst: 2 }), clock });
    expect(await limiter.execute(ok)).toBe('ok');
    expect(await limiter.execute(ok)).toBe('ok');
    const fn = vi.fn(ok);
    const error = await rejection(limiter.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(RateLimitRejectedError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 500, limit: 2, remaining: 0 });
    expect((error as Error).message).toBe(
      'rate-limiter: rate limit of 2 reached (0 left); retry after 500 ms',
    );
    await clock.advance(500);
    expect(await limiter.execute(ok)).toBe('ok');
  });

  it("passes the function's own errors through unchanged", async () => {
    const limiter = rateLimiter({ limit: tokenBucket({ rate: 10 }) });
    const boom = new Error('boom');
    expect(await rejection(limiter.execute(() => Promise.reject(boom)))).toBe(boom);
    expect(
      await rejection(
        limiter.execute(() => {
          throw boom;
        }),
      ),
    ).toBe(boom);
  });

  it('keeps one limit per key', async () => {
    const clock = new VirtualClock();
    let tenant = 'a';
    const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), key: () => tenant, clock });
    await limiter.execute(ok);
    await expect(limiter.execute(ok)).rejects.toBeInstanceOf(RateLimitRejectedError);
    tenant = 'b';
    await expect(limiter.execute(ok)).resolves.toBe('ok');
  });

  it('a key function that returns a non-string rejects with a TypeError', async () => {
    const limiter = rateLimiter({
      limit: gcra({ rate: 1 }),
      key: () => 42 as unknown as string,
    });
    await expect(limiter.execute(ok)).rejects.toThrow(
      new TypeError('rate-limiter: option "key" must return a string, returned 42'),
    );
  });

  describe('maxWait', () => {
    it('waits for a permit when it comes within maxWait', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: gcra({ rate: 10, burst: 0 }), maxWait: 250, clock });
      const waits: number[] = [];
      limiter.onWait((event) => waits.push(event.delay));
      await limiter.execute(ok);
      let done = false;
      const second = limiter.execute(ok).then((value) => {
        done = true;
        return value;
      });
      await clock.advance(99);
      expect(done).toBe(false);
      await clock.advance(1);
      expect(await second).toBe('ok');
      expect(waits).toEqual([100]);
    });

    it('rejects at once when the permit comes after maxWait', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), maxWait: 999, clock });
      await limiter.execute(ok);
      const error = await rejection(limiter.execute(ok));
      expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1000 });
      expect(clock.pendingTimers).toBe(0);
    });

    it('counts the time already waited against maxWait', async () => {
      const clock = new VirtualClock();
      // Three callers race for one permit per 100 ms; each may wait 150 ms in all.
      const limiter = rateLimiter({ limit: gcra({ rate: 10, burst: 0 }), maxWait: 150, clock });
      await limiter.execute(ok);
      const results = [1, 2, 3].map((i) =>
        limiter
          .execute(async () => i)
          .then(
            (value) => value,
            (error: unknown) => error,
          ),
      );
      await clock.advance(300);
      const settled = await Promise.all(results);
      expect(settled[0]).toBe(1);
      expect(settled.filter((r) => r instanceof RateLimitRejectedError)).toHaveLength(2);
      const late = settled.find((r) => r instanceof RateLimitRejectedError) as Error;
      expect(late.message).toMatch(/after waiting 100 ms; retry after 100 ms/);
    });

    it('never waits past the deadline: rejects at once when the permit comes after it', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), maxWait: 10_000, clock });
      await limiter.execute(ok);
      const fn = vi.fn(ok);
      const error = await rejection(pipeline(timeout(500, { clock }), limiter).execute(fn));
      expect(error).toBeInstanceOf(RateLimitRejectedError);
      expect(fn).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
      // Within the deadline it waits.
      const waited = pipeline(timeout(2000, { clock }), limiter).execute(ok);
      await clock.advance(1000);
      expect(await waited).toBe('ok');
    });

    it('a caller that aborts while waiting leaves at once: abort reason, no timer, no listener', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), maxWait: 5_000, clock });
      await limiter.execute(ok);
      const caller = new AbortController();
      const fn = vi.fn(ok);
      const waiting = limiter.execute(fn, caller.signal);
      await clock.advance(10);
      expect(clock.pendingTimers).toBe(1);
      const reason = new Error('gone');
      caller.abort(reason);
      expect(await rejection(waiting)).toBe(reason);
      expect(fn).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
    });

    it('Infinity waits as long as it takes, but never for a call that can never pass', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), maxWait: Infinity, clock });
      await limiter.execute(ok);
      const waited = limiter.execute(ok);
      await clock.advance(1000);
      expect(await waited).toBe('ok');
      const never = await limiter.tryAcquire('', 2);
      expect(never).toMatchObject({ allowed: false, retryAfter: Infinity });
    });
  });

  it('never calls fn for a caller already aborted', async () => {
    const limiter = rateLimiter({ limit: gcra({ rate: 1 }) });
    const fn = vi.fn(ok);
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    await expect(limiter.execute(fn, caller.signal)).rejects.toThrow('gone');
    expect(fn).not.toHaveBeenCalled();
    // Nothing was taken from the limit.
    expect(await limiter.tryAcquire('', 0)).toMatchObject({ remaining: 1 });
  });

  it('works with an asynchronous store, and checks the caller again after it answers', async () => {
    const memory = memoryRateLimitStore();
    const store: RateLimitStore = {
      kind: 'slow',
      consume: (key, algorithm, permits, now) =>
        new Promise((resolve) =>
          setTimeout(() => resolve(memory.consume(key, algorithm, permits, now)), 5),
        ),
    };
    const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), store });
    expect(await limiter.execute(ok)).toBe('ok');
    await expect(limiter.execute(ok)).rejects.toBeInstanceOf(RateLimitRejectedError);
    const caller = new AbortController();
    const fn = vi.fn(ok);
    const pending = limiter.execute(fn, caller.signal);
    caller.abort(new Error('left while the store answered'));
    await expect(pending).rejects.toThrow('left while the store answered');
    expect(fn).not.toHaveBeenCalled();
    // A store that fails rejects the call with its error.
    const failing = rateLimiter({
      limit: gcra({ rate: 1 }),
      store: { consume: () => Promise.reject(new Error('store down')) },
    });
    await expect(failing.execute(ok)).rejects.toThrow('store down');
    await expect(failing.tryAcquire()).rejects.toThrow('store down');
  });

  describe('tryAcquire', () => {
    it('takes permits without waiting, and 0 permits only reads', async () => {
      const clock = new VirtualClock();
      const limiter = rateLimiter({ limit: slidingWindow({ limit: 5, window: 1000 }), clock });
      expect(await limiter.tryAcquire('k', 3)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await limiter.tryAcquire('k', 0)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await limiter.tryAcquire('k', 3)).toMatchObject({ allowed: false, remaining: 2 });
      expect(await limiter.tryAcquire('other', 5)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('validates its arguments', async () => {
      const limiter = rateLimiter({ limit: gcra({ rate: 1 }) });
      await expect(limiter.tryAcquire(1 as unknown as string)).rejects.toThrow(
        new TypeError('rateLimiter.tryAcquire: "key" must be a string, received 1'),
      );
      await expect(limiter.tryAcquire('k', -1)).rejects.toThrow(
        new RangeError(
          'rateLimiter.tryAcquire: argument "permits" must be an integer in [0, Infinity), received -1',
        ),
      );
      await expect(limiter.tryAcquire('k', 1.5)).rejects.toBeInstanceOf(RangeError);
    });
  });

  it('reports rejections as events and as telemetry records (no key in telemetry)', async () => {
    const clock = new VirtualClock(100);
    const limiter = rateLimiter({ limit: gcra({ rate: 1, burst: 0 }), clock, name: 'partner-api' });
    const events: unknown[] = [];
    limiter.onReject((event) => events.push(event));
    const records = recordTelemetry();
    await limiter.tryAcquire('tenant-7');
    await limiter.tryAcquire('tenant-7');
    await limiter.tryAcquire('tenant-7', 2);
    expect(events).toEqual([
      { reason: 'limited', key: 'tenant-7', limit: 1, remaining: 0, retryAfter: 1000, waited: 0 },
      { reason: 'never', key: 'tenant-7', limit: 1, remaining: 0, retryAfter: Infinity, waited: 0 },
    ]);
    const events2 = records.filter((r) => r.type === 'event');
    expect(events2).toHaveLength(2);
    expect(events2[0]).toMatchObject({
      event: 'rate-limited',
      severity: 'warning',
      policy: { kind: 'rate-limiter', name: 'partner-api' },
      time: 100,
      attributes: { reason: 'limited', algorithm: 'gcra' },
    });
    expect(
      JSON.stringify(events2[0]!.type === 'event' ? events2[0]!.attributes : {}),
    ).not.toContain('tenant-7');
  });

  it('describes itself as plain data', () => {
    const limiter = rateLimiter({
      limit: gcra({ rate: 30, per: 60_000, burst: 15 }),
      key: () => 'x',
    });
    expect(limiter.describe()).toEqual({
      name: 'rate-limiter',
      options: {
        name: 'rate-limiter',
        limit: { name: 'gcra', options: { rate: 30, per: 60_000, burst: 15 } },
        maxWait: 0,
        key: 'custom',
        store: 'memory',
      },
    });
    expect(pipeline(limiter).describe().name).toBe('rate-limiter');
  });
});
