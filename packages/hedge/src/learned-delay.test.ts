import { VirtualClock } from '@faultline/clock';
import { type Context, seededRandom } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { hedge } from './hedge.js';
import { LEARNED_DELAY_DEFAULTS, type LearnedDelay, learnedDelay } from './learned-delay.js';

/** The delay lies between the latencies `low` and `high`, within DDSketch's 1 % relative error. */
function expectDelayBetween(delay: LearnedDelay, low: number, high: number): void {
  expect(delay.current()).toBeGreaterThan(low * 0.99);
  expect(delay.current()).toBeLessThan(high * 1.01);
}

describe('learnedDelay', () => {
  it('uses `initial` until minSamples latencies are in, then the 1 − maxExtraLoad quantile', () => {
    const clock = new VirtualClock();
    const delay = learnedDelay({ maxExtraLoad: 0.05, initial: 2000, clock });
    for (let ms = 1; ms <= 49; ms++) delay.observe(ms);
    expect(delay.current()).toBe(2000);
    for (let ms = 50; ms <= 100; ms++) delay.observe(ms);
    // p95 of 1…100 (DDSketch, 1 % relative accuracy; lower rank 0.95 · 99 = 94.05).
    expectDelayBetween(delay, 94, 96);
  });

  it("Finagle's rule: maxExtraLoad 0.01 hedges at the p99", () => {
    const clock = new VirtualClock();
    const delay = learnedDelay({ maxExtraLoad: 0.01, clock });
    for (let ms = 1; ms <= 1000; ms++) delay.observe(ms);
    expectDelayBetween(delay, 989, 990);
  });

  it('never goes below minDelay (a p95 of ~0 ms must not hedge every call)', () => {
    const clock = new VirtualClock();
    const delay = learnedDelay({ minDelay: 5, clock });
    for (let i = 0; i < 100; i++) delay.observe(0);
    expect(delay.current()).toBe(5);
  });

  it('forgets latencies older than the window, and refreshes at most every window / 100', async () => {
    const clock = new VirtualClock();
    const delay = learnedDelay({ window: 1000, minSamples: 10, initial: 500, clock });
    for (let i = 0; i < 20; i++) delay.observe(10);
    expect(delay.current()).toBeCloseTo(10, 0);
    for (let i = 0; i < 200; i++) delay.observe(100);
    // Cached for window / 100 = 10 ms.
    expect(delay.current()).toBeCloseTo(10, 0);
    await clock.advance(10);
    expect(delay.current()).toBeCloseTo(100, -1);
    await clock.advance(2000);
    expect(delay.current()).toBe(500);
  });

  it('has the documented defaults', () => {
    const delay = learnedDelay();
    expect({
      maxExtraLoad: delay.maxExtraLoad,
      window: delay.window,
      minDelay: delay.minDelay,
      initial: delay.initial,
      minSamples: delay.minSamples,
    }).toEqual(LEARNED_DELAY_DEFAULTS);
    expect(delay.describe()).toEqual({ kind: 'learned', ...LEARNED_DELAY_DEFAULTS });
  });

  it('in a hedge, about maxExtraLoad of calls get a hedge once learned (10 000 seeded calls)', async () => {
    const clock = new VirtualClock();
    const random = seededRandom(42);
    const delay = learnedDelay({ maxExtraLoad: 0.05, clock });
    const policy = hedge({ delay, clock });
    let hedges = 0;
    const fn = (ctx: Context): Promise<string> => {
      if (ctx.attempt > 1) hedges++;
      // Log-normal latency, median 5 ms, sigma 0.5 (Box-Muller on the seeded stream).
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const latency = 5 * Math.exp(0.5 * z);
      return new Promise((resolve, reject) => {
        const cancel = clock.setTimer(latency, () => resolve('ok'));
        ctx.signal.addEventListener('abort', () => {
          cancel();
          reject(ctx.signal.reason);
        });
      });
    };
    const warmup = 200;
    const calls = 10_000;
    let failed = 0;
    // One call every 20 ms (each settles within it), all scheduled up front: one runAll.
    for (let i = 0; i < warmup + calls; i++) {
      clock.setTimer(i * 20, () => {
        if (i === warmup) hedges = 0;
        policy.execute(fn).catch(() => failed++);
      });
    }
    await clock.runAll(1_000_000);
    expect(failed).toBe(0);
    // The p95 of lognormal(5, 0.5) is 5·e^(0.5·1.645) ≈ 11.4 ms.
    console.log(
      `learned delay ${delay.current().toFixed(2)} ms, hedged ${((100 * hedges) / calls).toFixed(2)} %`,
    );
    expect(delay.current()).toBeGreaterThan(10.5);
    expect(delay.current()).toBeLessThan(12.5);
    // First attempts only are learned (censored when a hedge wins): about 5 % get a hedge.
    expect(hedges / calls).toBeGreaterThan(0.045);
    expect(hedges / calls).toBeLessThan(0.06);
  });
});
