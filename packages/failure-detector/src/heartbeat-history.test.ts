import { seededRandom } from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeartbeatHistory } from './heartbeat-history.js';

/** Fresh two-pass statistics over the retained samples: the oracle. */
function exact(values: readonly number[]): { mean: number; variance: number } {
  let total = 0;
  for (const v of values) total += v;
  const mean = total / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { mean, variance: squares / values.length };
}

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
}

describe('HeartbeatHistory', () => {
  it('[100, 200, 125, 340, 130] has mean 179 and variance 7584 (spec; Akka "correct mean and variance")', () => {
    const history = new HeartbeatHistory(20);
    for (const x of [100, 200, 125, 340, 130]) history.add(x);
    expect(history.mean).toBeCloseTo(179, 10);
    expect(history.variance).toBeCloseTo(7584, 8);
    expect(history.stdDeviation).toBeCloseTo(Math.sqrt(7584), 10);
    expect(history.size).toBe(5);
  });

  it('has 0 variance for one sample (Akka)', () => {
    const history = new HeartbeatHistory(600);
    history.add(1000);
    expect(history.variance).toBe(0);
    expect(history.mean).toBe(1000);
  });

  it('is capped by maxSampleSize (Akka "be capped by the specified maxSampleSize")', () => {
    const history = new HeartbeatHistory(3);
    for (const x of [100, 110, 90]) history.add(x);
    expect(history.mean).toBeCloseTo(100, 5);
    expect(history.variance).toBeCloseTo(66.6666667, 5);
    history.add(140);
    expect(history.mean).toBeCloseTo(113.333333, 5);
    expect(history.variance).toBeCloseTo(422.222222, 5);
    history.add(80);
    expect(history.mean).toBeCloseTo(103.333333, 5);
    expect(history.variance).toBeCloseTo(688.88888889, 5);
    expect(history.values()).toEqual([90, 140, 80]);
  });

  it('is NaN when empty, and clear() empties it', () => {
    const history = new HeartbeatHistory(4);
    expect(history.mean).toBeNaN();
    expect(history.variance).toBeNaN();
    history.add(5);
    history.clear();
    expect(history.size).toBe(0);
    expect(history.mean).toBeNaN();
    expect(history.values()).toEqual([]);
  });

  it('matches a fresh two-pass computation over the retained samples (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (max, xs) => {
          const history = new HeartbeatHistory(max);
          for (const x of xs) history.add(x);
          const kept = xs.slice(-max);
          expect(history.values()).toEqual(kept);
          const { mean, variance } = exact(kept);
          expect(Math.abs(history.mean - mean)).toBeLessThanOrEqual(1e-9 * Math.max(1, mean));
          // Variance: absolute error relative to the scale of the data (mean²), as for any
          // floating-point variance.
          expect(Math.abs(history.variance - variance)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, variance, mean * mean * 1e-3),
          );
        },
      ),
    );
  });

  it('grows its storage with the samples it holds, so a big window costs nothing up front', () => {
    // Issue 14 item 21: the ring was allocated at maxSampleSize (8 KB per peer for the default
    // 1000): 100 000 peers cost 800 MB before a single interval was learned.
    const history = new HeartbeatHistory(10_000);
    expect(history.capacity).toBeLessThanOrEqual(16);
    for (let i = 0; i < 100; i++) history.add(i);
    expect(history.capacity).toBeGreaterThanOrEqual(100);
    expect(history.capacity).toBeLessThanOrEqual(200);
    for (let i = 0; i < 20_000; i++) history.add(i);
    expect(history.capacity).toBe(10_000);
    expect(history.values()).toEqual(Array.from({ length: 10_000 }, (_, i) => 10_000 + i));
    history.clear();
    expect(history.capacity).toBeLessThanOrEqual(16);
  });

  it('running sums do not drift: 10^7 adds, variance within 1e-6 relative of a fresh computation', () => {
    // Adversarial for running sums: a huge offset with a tiny spread (Σx² needs 17+ digits),
    // regime changes of 9 orders of magnitude, and outliers that enter and leave the window.
    const random = seededRandom(2004);
    const history = new HeartbeatHistory(1000);
    const total = 10_000_000;
    let checks = 0;
    let worst = 0;
    // Akka-style plain running sums, for contrast.
    let naiveSum = 0;
    let naiveSquares = 0;
    const ring = new Float64Array(1000);
    for (let i = 0; i < total; i++) {
      const phase = Math.floor(i / 2_500_000);
      let x: number;
      if (phase === 0) x = 1e9 + random() * 2;
      else if (phase === 1) x = 1000 + random() * 1e-3;
      else if (phase === 2) x = random() < 0.01 ? 1e9 : 100 + random();
      else x = 1000 + 10 * Math.sin(i / 1000) + random();
      history.add(x);
      const slot = i % 1000;
      if (i >= 1000) {
        naiveSum -= ring[slot]!;
        naiveSquares -= ring[slot]! * ring[slot]!;
      }
      ring[slot] = x;
      naiveSum += x;
      naiveSquares += x * x;
      // Check at points spread over every epoch offset, including just before a recompute.
      if (i % 99_991 === 99_990 || i === total - 1) {
        const { variance } = exact(history.values());
        const error = relativeError(history.variance, variance);
        worst = Math.max(worst, error);
        expect(error).toBeLessThan(1e-6);
        checks++;
      }
    }
    expect(checks).toBeGreaterThan(100);
    const { mean, variance } = exact(history.values());
    expect(relativeError(history.mean, mean)).toBeLessThan(1e-12);
    expect(relativeError(history.variance, variance)).toBeLessThan(1e-6);
    const naiveVariance = naiveSquares / 1000 - (naiveSum / 1000) ** 2;
    // The plain sums have drifted far from the truth; ours have not.
    expect(relativeError(naiveVariance, variance)).toBeGreaterThan(1e-2);
    expect(worst).toBeLessThan(1e-6);
  });

  it('validates maxSampleSize and each interval', () => {
    expect(() => new HeartbeatHistory('3' as unknown as number)).toThrow(TypeError);
    expect(() => new HeartbeatHistory(0)).toThrow(RangeError);
    expect(() => new HeartbeatHistory(2.5)).toThrow(RangeError);
    expect(() => new HeartbeatHistory(0)).toThrow(
      /HeartbeatHistory.*maxSampleSize.*integer in \[1, 10000\].*0/,
    );
    // Bounded (issue 14 item 21): 10 000 intervals is 10× Akka's and Cassandra's window.
    expect(new HeartbeatHistory(10_000).maxSampleSize).toBe(10_000);
    expect(() => new HeartbeatHistory(10_001)).toThrow(RangeError);
    expect(() => new HeartbeatHistory(1e9)).toThrow(/argument "maxSampleSize"/);
    const history = new HeartbeatHistory(2);
    expect(() => history.add(-1)).toThrow(RangeError);
    expect(() => history.add(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => history.add(Number.NaN)).toThrow(TypeError);
    expect(() => history.add('1' as unknown as number)).toThrow(TypeError);
    expect(history.size).toBe(0);
  });
});
