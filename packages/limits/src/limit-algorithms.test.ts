/**
 * Fixed RTT/drop sequences in, limit sequences out, each step computed by hand from the published
 * formulas (Netflix concurrency-limits: AIMDLimit, VegasLimit, Gradient2Limit at commit 78a74b9).
 */
import { describe, expect, it } from 'vitest';
import { AIMD_DEFAULTS, aimd } from './aimd.js';
import { fixed } from './fixed.js';
import { GRADIENT2_DEFAULTS, gradient2 } from './gradient2.js';
import type { LimitAlgorithm } from './limit-algorithm.js';
import { log10Root } from './limit-algorithm.js';
import { VEGAS_DEFAULTS, vegas } from './vegas.js';

type Sample = readonly [rtt: number, inflight: number, didDrop: boolean];

function trace(algorithm: LimitAlgorithm, samples: readonly Sample[]): number[] {
  return samples.map(([rtt, inflight, didDrop]) => {
    algorithm.update(rtt, inflight, didDrop);
    return algorithm.limit;
  });
}

describe('defaults equal Netflix concurrency-limits', () => {
  it('AIMDLimit, VegasLimit, Gradient2Limit builders', () => {
    expect(AIMD_DEFAULTS).toEqual({
      initial: 20,
      min: 20,
      max: 200,
      backoffRatio: 0.9,
      timeout: 5000,
    });
    expect(VEGAS_DEFAULTS).toEqual({ initial: 20, max: 1000, smoothing: 1, probeMultiplier: 30 });
    expect(GRADIENT2_DEFAULTS).toEqual({
      initial: 20,
      min: 20,
      max: 200,
      smoothing: 0.2,
      queueSize: 4,
      longWindow: 600,
      rttTolerance: 1.5,
    });
    expect([aimd().limit, vegas().limit, gradient2().limit]).toEqual([20, 20, 20]);
  });

  it('log10 root: max(1, floor(log10 n)), as Log10RootIntFunction', () => {
    expect([0, 1, 9, 10, 99, 100, 999, 1000, 12_345].map(log10Root)).toEqual([
      1, 1, 1, 1, 1, 2, 2, 3, 4,
    ]);
  });
});

describe('AIMD', () => {
  it('defaults: +1 while inflight·2 ≥ limit, ×0.9 on a drop or rtt > 5 s, clamped to [20, 200]', () => {
    expect(
      trace(aimd(), [
        [10, 10, false], // 10·2 = 20 ≥ 20 → 20 + 1 = 21
        [10, 5, false], // 5·2 = 10 < 21: the limit is not in use → 21
        [10, 11, false], // 22 ≥ 21 → 22
        [10, 11, true], // drop → ⌊22 · 0.9⌋ = ⌊19.8⌋ = 19 → clamped to min 20
        [6000, 20, false], // rtt 6000 > timeout 5000 is a drop → ⌊20 · 0.9⌋ = 18 → 20
        [10, 20, false], // 40 ≥ 20 → 21
      ]),
    ).toEqual([21, 21, 22, 20, 20, 21]);
  });

  it('multiplicative decrease and additive increase without the floor', () => {
    const limit = aimd({ initial: 100, min: 1, max: 102, backoffRatio: 0.5, timeout: 1000 });
    expect(
      trace(limit, [
        [10, 60, false], // 120 ≥ 100 → 101
        [10, 60, false], // → 102
        [10, 60, false], // 103 → clamped to max 102
        [10, 60, true], // ⌊102 · 0.5⌋ = 51
        [1001, 30, false], // rtt > 1000: ⌊51 · 0.5⌋ = 25 (25.5 truncated)
        [999, 13, false], // 26 ≥ 25 → 26
        [10, 1, true], // ⌊26 · 0.5⌋ = 13
      ]),
    ).toEqual([101, 102, 102, 51, 25, 26, 13]);
  });
});

describe('Vegas', () => {
  // random 0 → probe jitter 0.5: the no-load RTT is re-probed after 0.5 · 30 · limit samples,
  // far beyond these traces.
  const random = () => 0;

  it('defaults: queue = ⌈limit·(1 − rttNoLoad/rtt)⌉ against alpha 3·log10, beta 6·log10', () => {
    expect(
      trace(vegas({ random }), [
        [10, 20, false], // first sample: rttNoLoad := 10, no change → 20
        [10, 20, false], // queue ⌈20·(1 − 10/10)⌉ = 0 ≤ log10(20) = 1 → 20 + beta (6·1) = 26
        [12, 26, false], // queue ⌈26·(1 − 10/12)⌉ = ⌈4.33⌉ = 5: alpha 3 ≤ 5 ≤ beta 6 → 26
        [20, 26, false], // queue ⌈26·0.5⌉ = 13 > 6 → 26 − log10(26) = 25
        [20, 10, false], // 10·2 = 20 < 25: not in use → 25
        [20, 13, true], // drop → 25 − 1 = 24
        [8, 24, false], // 8 < rttNoLoad 10: rttNoLoad := 8, no change → 24
        [8.5, 24, false], // queue ⌈24·(1 − 8/8.5)⌉ = ⌈1.41⌉ = 2: 1 < 2 < alpha 3 → 24 + 1 = 25
      ]),
    ).toEqual([20, 26, 26, 25, 25, 24, 24, 25]);
  });

  it('large limits step by ⌊log10 limit⌋, smoothing blends the estimate', () => {
    // initial 150: log10 = 2, alpha 6, beta 12; smoothing 0.5.
    const limit = vegas({ initial: 150, smoothing: 0.5, random });
    expect(
      trace(limit, [
        [10, 150, false], // rttNoLoad := 10 → 150
        [10, 150, false], // queue 0 ≤ 2 → estimate 150 + 12 = 162; 0.5·150 + 0.5·162 = 156
        [20, 156, false], // queue ⌈156·0.5⌉ = 78 > 12 → 156 − 2 = 154; 0.5·156 + 0.5·154 = 155
        [11, 155, false], // queue ⌈155·(1/11)⌉ = ⌈14.09⌉ = 15 > 12 → 153; (155 + 153)/2 = 154
        [10.5, 154, false], // queue ⌈154·(0.5/10.5)⌉ = ⌈7.33⌉ = 8: 6 ≤ 8 ≤ 12 → 154
      ]),
    ).toEqual([150, 156, 155, 154, 154]);
  });

  it('fixed alpha and beta, and the no-load RTT re-probe every probeMultiplier·limit·jitter samples', () => {
    // probeMultiplier 1, jitter 0.5: the n-th sample since the last probe re-probes when
    // 0.5 · 1 · limit ≤ n (the limit at that moment).
    const limit = vegas({ probeMultiplier: 1, alpha: 2, beta: 4, random });
    const samples: Sample[] = [[10, 20, false]]; // n = 1: 10 ≤ 1? no; rttNoLoad := 10 → 20
    // n = 2…7: 0.5·limit > n; queue ⌈limit·(1 − 10/15)⌉ ≥ 5 > beta 4 → −1 each: 19 … 14
    for (let i = 0; i < 6; i++) samples.push([15, 20, false]);
    samples.push([15, 20, false]); // n = 8: 0.5·14 = 7 ≤ 8 → probe: rttNoLoad := 15 → 14
    samples.push([15, 20, false]); // n = 1: queue ⌈14·(1 − 15/15)⌉ = 0 ≤ 1 → 14 + beta 4 = 18
    samples.push([40, 12, false]); // queue ⌈18·(1 − 15/40)⌉ = ⌈11.25⌉ = 12 > 4 → 17
    samples.push([40, 12, false]); // queue ⌈17·0.625⌉ = ⌈10.6⌉ = 11 > 4 → 16
    expect(trace(limit, samples)).toEqual([20, 19, 18, 17, 16, 15, 14, 14, 18, 17, 16]);
    expect(limit.rttNoLoad).toBe(15);
  });

  it('skips samples without a measurable RTT', () => {
    const limit = vegas({ random });
    expect(
      trace(limit, [
        [0, 20, true],
        [-1, 20, true],
      ]),
    ).toEqual([20, 20]);
  });
});

describe('Gradient2', () => {
  it('defaults: gradient = max(0.5, min(1, 1.5·longRtt/rtt)), limit = 0.8·limit + 0.2·(gradient·limit + 4)', () => {
    // longRtt is the mean of the samples so far while fewer than 10 (ExpAvgMeasurement warm-up).
    let estimate = 20;
    const expected: number[] = [];
    const step = (longRtt: number, rtt: number) => {
      const gradient = Math.max(0.5, Math.min(1, (1.5 * longRtt) / rtt));
      estimate = Math.max(20, Math.min(200, estimate * 0.8 + (gradient * estimate + 4) * 0.2));
      expected.push(Math.floor(estimate));
    };
    step(10, 10); // gradient min(1, 1.5) = 1: 20·0.8 + 24·0.2 = 20.8 → 20
    step(10, 10); // 20.8·0.8 + 24.8·0.2 = 21.6 → 21
    step(50 / 3, 30); // long (10+10+30)/3 = 16.67, gradient 0.833: 21.6·0.8 + 22·0.2 = 21.68 → 21
    step(37.5, 100); // long 150/4 = 37.5, gradient 0.5625: 17.344 + (12.195 + 4)·0.2 = 20.583 → 20
    expect(expected).toEqual([20, 21, 21, 20]);
    expect(
      trace(gradient2(), [
        [10, 20, false],
        [10, 20, false],
        [30, 21, false],
        [100, 21, false],
      ]),
    ).toEqual(expected);
  });

  it('shrinks by at most half per sample, ignores drops, and not-in-use samples only feed longRtt', () => {
    const limit = gradient2({ initial: 100, min: 1, smoothing: 1 });
    expect(
      trace(limit, [
        [10, 100, false], // long 10, gradient 1 → 100·1 + 4 = 104
        [100, 104, true], // long 55, gradient max(0.5, 1.5·55/100 = 0.825) → 104·0.825 + 4 = 89.8 → 89
        [1000, 89, false], // long 370, gradient max(0.5, 0.555) = 0.555 → 89.8·0.555 + 4 = 53.839 → 53
        [10, 20, false], // 20 < 53.8/2: not in use → 53 (long becomes 1120/4 = 280, then ×0.95)
      ]),
    ).toEqual([104, 89, 53, 53]);
    // long after the last sample: the mean 280 decayed by 0.95 because 280/10 > 2.
    expect(limit.longRtt).toBeCloseTo(266, 10);
  });

  it('after the warm-up, longRtt is an exponential average with factor 2/(longWindow + 1)', () => {
    const limit = gradient2({ initial: 50, min: 1, smoothing: 1, longWindow: 3, queueSize: 0 });
    const samples: Sample[] = [];
    for (let i = 0; i < 10; i++) samples.push([10, 50, false]); // warm-up mean 10, gradient 1 → 50
    samples.push([40, 50, false]); // long = 10·0.5 + 40·0.5 = 25, gradient 1.5·25/40 = 0.9375 → 46.875
    samples.push([40, 50, false]); // long = 25·0.5 + 20 = 32.5, gradient min(1, 1.21875) = 1 → 46.875
    expect(trace(limit, samples).slice(-3)).toEqual([50, 46, 46]);
    expect(limit.longRtt).toBe(32.5);
  });
});

describe('fixed', () => {
  it('never moves', () => {
    expect(
      trace(fixed(7), [
        [10, 7, true],
        [1e6, 7, false],
      ]),
    ).toEqual([7, 7]);
  });
});
