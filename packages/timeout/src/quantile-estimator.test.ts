import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantileEstimator } from './quantile-estimator.js';

/** The exact lower-rank quantile the sketch approximates: sorted[floor(q·(n − 1))]. */
function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('QuantileEstimator', () => {
  it('property: every quantile is within 1 % (relative) of the exact one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.002, max: 1e6, noNaN: true }), {
          minLength: 1,
          maxLength: 400,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const estimator = new QuantileEstimator({ clock: new VirtualClock() });
          for (const value of values) estimator.observe(value);
          const truth = exact(values, q);
          const estimate = estimator.quantile(q);
          expect(Math.abs(estimate - truth) / truth).toBeLessThanOrEqual(0.01 + 1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tracks the usual latency quantiles of a heavy-tailed sample within 1 %', () => {
    const clock = new VirtualClock();
    const estimator = new QuantileEstimator({ clock });
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      const u = seed / 2_147_483_647;
      const value = 20 * Math.exp(2 * u * u * u); // skewed: most near 20 ms, a tail to ~150 ms
      values.push(value);
      estimator.observe(value);
    }
    expect(estimator.count).toBe(20_000);
    for (const q of [0, 0.5, 0.9, 0.99, 0.999, 1]) {
      const truth = exact(values, q);
      expect(Math.abs(estimator.quantile(q) - truth) / truth, `q=${q}`).toBeLessThanOrEqual(0.01);
    }
  });

  it('property: matches a reference sliding window over random observations and clock moves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ observe: fc.double({ min: 0.01, max: 1e5, noNaN: true }) }),
            fc.record({ advance: fc.integer({ min: 0, max: 3000 }) }),
          ),
          { maxLength: 80 },
        ),
        fc.constantFrom(0, 0.5, 0.9, 0.999, 1),
        async (ops, q) => {
          const clock = new VirtualClock();
          const estimator = new QuantileEstimator({ clock, window: 10_000, slices: 5 });
          const kept: Array<{ slice: number; value: number }> = [];
          for (const op of ops) {
            if ('observe' in op) {
              estimator.observe(op.observe);
              kept.push({ slice: Math.floor(clock.now() / 2000), value: op.observe });
            } else {
              await clock.advance(op.advance);
            }
            // Reference: a sample lives while its slice is one of the last `slices` slices.
            const current = Math.floor(clock.now() / 2000);
            const live = kept.filter((sample) => sample.slice > current - 5).map((s) => s.value);
            expect(estimator.count).toBe(live.length);
            if (live.length === 0) expect(estimator.quantile(q)).toBeNaN();
            else {
              const truth = exact(live, q);
              expect(Math.abs(estimator.quantile(q) - truth) / truth).toBeLessThanOrEqual(
                0.0100001,
              );
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('slides: a slice expires by time, and everything after an idle gap longer than the window', async () => {
    const clock = new VirtualClock();
    const estimator = new QuantileEstimator({ clock }); // 60 s in 10 slices of 6 s
    estimator.observe(500);
    await clock.advance(30_000);
    estimator.observe(50);
    expect(estimator.count).toBe(2);
    expect(estimator.quantile(1)).toBeCloseTo(500, -1);
    await clock.advance(30_000); // t = 60 s: the slice [0, 6 s) has left the window
    expect(estimator.count).toBe(1);
    expect(estimator.quantile(1)).toBeCloseTo(50, 0);
    await clock.advance(3_600_000); // an hour of silence
    expect(estimator.count).toBe(0);
    expect(estimator.quantile(0.5)).toBeNaN();
    estimator.observe(10);
    expect(estimator.count).toBe(1);
    expect(estimator.quantile(0.999)).toBeCloseTo(10, 0);
  });

  it('keeps data between window − slice and window old', async () => {
    const clock = new VirtualClock();
    const estimator = new QuantileEstimator({ clock, window: 1000, slices: 10 });
    await clock.advance(50);
    estimator.observe(1); // slice [0, 100)
    await clock.advance(949); // t = 999
    expect(estimator.count).toBe(1);
    await clock.advance(1); // t = 1000: slice 10 reuses the ring place of slice 0
    expect(estimator.count).toBe(0);
  });

  it('memory does not grow with traffic: counts stay exact over a million samples', () => {
    const estimator = new QuantileEstimator({ clock: new VirtualClock() });
    for (let i = 0; i < 1_000_000; i++) estimator.observe(1 + (i % 1000));
    expect(estimator.count).toBe(1_000_000);
    const median = estimator.quantile(0.5);
    expect(Math.abs(median - 500) / 500).toBeLessThanOrEqual(0.01);
  });

  it('works on a clock that reads negative times (a VirtualClock may start anywhere)', async () => {
    const clock = new VirtualClock(-95_500);
    const estimator = new QuantileEstimator({ clock, window: 10_000 });
    for (let i = 1; i <= 100; i++) estimator.observe(i);
    expect(estimator.count).toBe(100);
    expect(estimator.quantile(0.5)).toBeCloseTo(50, -0.5);
    await clock.advance(10_000);
    expect(estimator.count).toBe(0);
  });

  it('clamps values outside the tracked range and handles zero', () => {
    const estimator = new QuantileEstimator({ clock: new VirtualClock() });
    estimator.observe(0);
    estimator.observe(1e12);
    expect(estimator.quantile(0)).toBeLessThanOrEqual(0.00102);
    expect(estimator.quantile(1)).toBeGreaterThan(0.99e7);
    expect(estimator.quantile(0.5, 3)).toBeNaN(); // fewer than minCount samples
    estimator.clear();
    expect(estimator.count).toBe(0);
  });

  it('validates every option: wrong type and out of range', () => {
    const cases: Array<[string, unknown, unknown]> = [
      ['window', '60s', 0],
      ['slices', '10', 0],
      ['relativeAccuracy', '1%', 0.5],
    ];
    for (const [option, wrongType, outOfRange] of cases) {
      expect(() => new QuantileEstimator({ [option]: wrongType }), option).toThrow(TypeError);
      expect(() => new QuantileEstimator({ [option]: outOfRange }), option).toThrow(RangeError);
    }
    expect(() => new QuantileEstimator({ slices: 2.5 })).toThrow(RangeError);
    expect(() => new QuantileEstimator({ clock: Date as never })).toThrow(TypeError);
    expect(() => new QuantileEstimator(7 as never)).toThrow(TypeError);
    const estimator = new QuantileEstimator();
    expect(() => estimator.observe(-1)).toThrow(RangeError);
    expect(() => estimator.observe(Number.NaN)).toThrow(TypeError);
    expect(() => estimator.quantile(1.5)).toThrow(RangeError);
  });
});
