import { VirtualClock } from '@faultline/clock';
import { pipeline, seededRandom } from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adaptiveTimeout } from './adaptive-timeout.js';
import type { AdaptiveTimeoutChangeEvent as AdaptiveTimeoutChange } from './adaptive-timeout-events.js';
import { timeout } from './timeout.js';
import { TimeoutError } from './timeout-errors.js';

describe('adaptiveTimeout', () => {
  it('uses initial until minSamples successes, then multiplier × quantile', () => {
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, minSamples: 5, quantile: 0.5, multiplier: 2 });
    expect(adaptive.current()).toBe(1000);
    for (let i = 0; i < 4; i++) adaptive.observe(100);
    expect(adaptive.current()).toBe(1000);
    adaptive.observe(100);
    expect(adaptive.current()).toBeGreaterThan(198);
    expect(adaptive.current()).toBeLessThan(202);
    expect(adaptive.samples).toBe(5);
  });

  it('clamps to [min, max]', () => {
    const clock = new VirtualClock();
    const low = adaptiveTimeout({ clock, minSamples: 1, min: 50 });
    low.observe(1);
    expect(low.current()).toBe(50);
    const high = adaptiveTimeout({ clock, minSamples: 1, max: 2000 });
    high.observe(10_000);
    expect(high.current()).toBe(2000);
  });

  it('censors timeouts: doubles until a success, capped at max, and reports changes', () => {
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, minSamples: 1, multiplier: 1, max: 1000 });
    const changes: AdaptiveTimeoutChange[] = [];
    adaptive.onChange((change) => changes.push(change));
    adaptive.observe(100);
    const base = adaptive.current();
    expect(base).toBeCloseTo(100, 0);
    const sequence: number[] = [];
    for (let i = 0; i < 5; i++) {
      adaptive.observeTimeout();
      sequence.push(adaptive.current());
    }
    expect(sequence).toEqual([2 * base, 4 * base, 8 * base, 1000, 1000]);
    adaptive.observe(100); // a success ends the backoff
    expect(adaptive.current()).toBe(base);
    expect(changes.map((change) => change.current)).toEqual([
      base,
      2 * base,
      4 * base,
      8 * base,
      1000,
      base,
    ]);
    expect(changes[0]!.previous).toBe(1000);
  });

  it('censoring doubles from the clamped value: a learned 2 ms under min 50 grows 100, 200, 400, 800', () => {
    // Issue 14 item 16: the doubling was applied before the clamp to `min`, so from a learned ~2 ms
    // four timeouts in a row gave 4, 8, 16, 32 ms, all clamped to 50: the timeout never grew and
    // a server answering in 120 ms timed out forever. Both estimators must climb alike.
    for (const estimator of ['quantile', 'rtt'] as const) {
      const adaptive = adaptiveTimeout({
        clock: new VirtualClock(),
        estimator,
        min: 50,
        max: 2_000,
        minSamples: 1,
      });
      for (let i = 0; i < 20; i++) adaptive.observe(1);
      expect(adaptive.current(), estimator).toBe(50);
      const sequence: number[] = [];
      for (let i = 0; i < 6; i++) {
        adaptive.observeTimeout();
        sequence.push(adaptive.current());
      }
      expect(sequence, estimator).toEqual([100, 200, 400, 800, 1_600, 2_000]);
      adaptive.observe(1); // a success ends the backoff
      expect(adaptive.current(), estimator).toBe(50);
    }
  });

  it('property: current() stays within [min, max] for any sequence of outcomes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(-1)), {
          maxLength: 100,
        }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.constantFrom('quantile', 'rtt') as fc.Arbitrary<'quantile' | 'rtt'>,
        (events, min, extra, estimator) => {
          const max = min + extra;
          const adaptive = adaptiveTimeout({
            clock: new VirtualClock(),
            min,
            max,
            initial: min,
            minSamples: 1,
            estimator,
          });
          for (const event of events) {
            if (event < 0) adaptive.observeTimeout();
            else adaptive.observe(event);
            expect(adaptive.current()).toBeGreaterThanOrEqual(min);
            expect(adaptive.current()).toBeLessThanOrEqual(max);
          }
        },
      ),
    );
  });

  it("'rtt' estimator: the RFC 6298 RTO with the adaptive bounds", () => {
    const adaptive = adaptiveTimeout({ estimator: 'rtt', minSamples: 1, min: 0, max: 60_000 });
    for (const sample of [100, 120, 80, 300, 90]) adaptive.observe(sample);
    expect(adaptive.current()).toBe(389.7216796875); // the reference table's last RTO
    adaptive.observeTimeout();
    expect(adaptive.current()).toBe(2 * 389.7216796875);
    expect(adaptive.describe()).toMatchObject({ name: 'adaptiveTimeout', estimator: 'rtt' });
  });

  it('timeout(adaptive) measures successes and censors its own timeouts only', async () => {
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, minSamples: 1, multiplier: 1, min: 1 });
    const policy = timeout(adaptive); // takes the adaptive timeout's clock
    expect(policy.clock).toBe(clock);
    const ok = policy.execute((ctx) => clock.sleep(40, ctx.signal));
    await clock.runAll();
    await ok;
    expect(adaptive.current()).toBeCloseTo(40, -0.5);
    const slow = policy.execute((ctx) => clock.sleep(1000, ctx.signal)).catch((e: unknown) => e);
    await clock.runAll();
    expect(await slow).toBeInstanceOf(TimeoutError);
    expect(adaptive.current()).toBeCloseTo(80, -0.5);
    // Bounded by an enclosing deadline rather than by itself: no censoring.
    const bounded = timeout(10, { clock });
    const inner = pipeline(bounded, policy)
      .execute((ctx) => clock.sleep(1000, ctx.signal))
      .catch((e: unknown) => e);
    await clock.runAll();
    expect(await inner).toBeInstanceOf(TimeoutError);
    expect(adaptive.current()).toBeCloseTo(80, -0.5);
  });

  it('with min 0, instant answers (0 ms on a VirtualClock) never learn a timeout of 0', async () => {
    // A timeout of 0 would reject before calling the function, and censoring doubles 0 to 0: the
    // policy would reject every call from then on. The estimator's smallest bucket (1 µs)
    // prevents it; this guards that.
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, min: 0, minSamples: 1 });
    const policy = timeout(adaptive);
    for (let i = 0; i < 5; i++) {
      await expect(policy.execute(async () => i)).resolves.toBe(i);
    }
    expect(adaptive.current()).toBeGreaterThan(0);
  });

  it('acceptance: recovers from a 50 → 500 ms shift within 50 calls, and falls back within a window', async () => {
    const clock = new VirtualClock();
    const random = seededRandom(42);
    const adaptive = adaptiveTimeout({ clock });
    const policy = timeout(adaptive, { clock });
    const latency = (mean: number) => mean * (0.9 + 0.2 * random()); // ±10 %
    const call = async (mean: number): Promise<boolean> => {
      const ms = latency(mean);
      const result = policy
        .execute((ctx) => clock.sleep(ms, ctx.signal))
        .then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof TimeoutError)) throw error;
            return false;
          },
        );
      await clock.runAll();
      return result;
    };

    for (let i = 0; i < 1000; i++) expect(await call(50)).toBe(true);
    expect(adaptive.current()).toBeLessThan(100);

    const afterShift: boolean[] = [];
    for (let i = 0; i < 300; i++) afterShift.push(await call(500));
    const early = afterShift.slice(0, 50).filter((ok) => !ok).length;
    const later = afterShift.slice(50);
    const successRate = later.filter(Boolean).length / later.length;
    expect(successRate).toBeGreaterThanOrEqual(0.99);
    expect(early).toBeLessThan(50); // the timeouts are all in the first calls
    expect(adaptive.current()).toBeGreaterThan(500);

    const shiftBack = clock.now();
    while (clock.now() - shiftBack < 60_000) expect(await call(50)).toBe(true);
    expect(adaptive.current()).toBeLessThan(200);
  });

  it('handled failures never shrink it: instant 503s through an outage, then 120 ms answers all pass', async () => {
    // Issue 14 item 17: the per-attempt timeout learned from instant 503s as if they were
    // successes and fell to its floor, so when the server came back answering in 120 ms every
    // probe timed out. A 503 says nothing about how long a real answer takes.
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, quantile: 0.999, min: 50, max: 2_000 });
    const policy = timeout(adaptive);
    const answer = (status: number, ms: number) =>
      policy.execute(async (ctx) => {
        await clock.sleep(ms, ctx.signal);
        return new Response(null, { status });
      });
    const run = async (status: number, ms: number): Promise<number | 'timeout'> => {
      const result = answer(status, ms).then(
        (response) => response.status,
        (error: unknown) => {
          if (error instanceof TimeoutError) return 'timeout' as const;
          throw error;
        },
      );
      await clock.runAll();
      return result;
    };
    for (let i = 0; i < 100; i++) expect(await run(200, 120)).toBe(200);
    const learned = adaptive.current();
    expect(learned).toBeGreaterThan(120);
    // A two-minute outage answered at once with 503 (twice the estimator's window).
    for (let i = 0; i < 1_200; i++) {
      expect(await run(503, 0)).toBe(503);
      await clock.advance(100);
    }
    expect(adaptive.current()).toBeGreaterThanOrEqual(learned);
    // Recovery: every call passes from the first one on.
    const recovered = [];
    for (let i = 0; i < 12; i++) recovered.push(await run(200, 120));
    expect(recovered).toEqual(Array(12).fill(200));
  });

  it('a success after a censored climb keeps the timeout above it: multiplier × the newest success', () => {
    // Found running the README pipeline fast → slow (20 → 400 ms): after the climb 50, 100, 200,
    // 400, 800 the first success reset the backoff, and one 400 ms sample among 60 of 20 ms does
    // not move a p99.9, so the timeout fell back to 50 and the next two calls failed again.
    const adaptive = adaptiveTimeout({
      clock: new VirtualClock(),
      min: 50,
      max: 2_000,
      minSamples: 1,
    });
    for (let i = 0; i < 60; i++) adaptive.observe(20);
    expect(adaptive.current()).toBe(50);
    for (let i = 0; i < 4; i++) adaptive.observeTimeout();
    expect(adaptive.current()).toBe(800);
    adaptive.observe(400);
    expect(adaptive.current()).toBe(600); // 1.5 × 400, not the p99.9 of the window (20 ms)
    adaptive.observe(400);
    expect(adaptive.current()).toBe(600);
    adaptive.observe(20); // back to fast: the window's p99.9 (the 400s) still holds it up
    expect(adaptive.current()).toBeGreaterThan(590);
  });

  it('forgets by time: once its samples leave the window, current() is initial again without a new observation', async () => {
    // Found running the README pipeline through an outage (issue 14 item 17): failures are not
    // learned, so nothing refreshed the estimate, and 70 s later the breaker's probe still got
    // the 50 ms learned before the outage: it timed out against a server answering in 120 ms.
    const clock = new VirtualClock();
    const adaptive = adaptiveTimeout({ clock, min: 50, max: 2_000, window: 60_000 });
    for (let i = 0; i < 30; i++) adaptive.observe(20);
    expect(adaptive.current()).toBe(50);
    await clock.advance(30_000);
    expect(adaptive.current()).toBe(50); // still in the window
    await clock.advance(36_000);
    expect(adaptive.current()).toBe(1_000); // every sample expired: back to initial
  });

  it('shouldHandle decides what is not learned; a throwing one rejects the call', async () => {
    const clock = new VirtualClock();
    const slowAnswers = adaptiveTimeout({
      clock,
      minSamples: 1,
      shouldHandle: (outcome) => outcome.ok && outcome.value === 'degraded',
    });
    const policy = timeout(slowAnswers);
    await expect(policy.execute(() => 'degraded')).resolves.toBe('degraded');
    expect(slowAnswers.samples).toBe(0);
    await expect(policy.execute(() => 'fine')).resolves.toBe('fine');
    expect(slowAnswers.samples).toBe(1);
    // The default learns from any result without an HTTP failure status (a 404 is an answer).
    const byDefault = adaptiveTimeout({ clock, minSamples: 1 });
    await timeout(byDefault).execute(async () => new Response(null, { status: 404 }));
    await timeout(byDefault).execute(async () => new Response(null, { status: 502 }));
    expect(byDefault.samples).toBe(1);
    const bug = new Error('classifier bug');
    const throwing = adaptiveTimeout({
      clock,
      shouldHandle: () => {
        throw bug;
      },
    });
    for (const strategy of ['aggressive', 'cooperative'] as const) {
      await expect(timeout(throwing, { strategy }).execute(async () => 1)).rejects.toBe(bug);
    }
    await expect(timeout(throwing).execute(() => 1)).rejects.toBe(bug);
    expect(throwing.samples).toBe(0);
  });
});
