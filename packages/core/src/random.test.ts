import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawRandom, seededRandom } from './random.js';

// The first five outputs (as 32-bit integers; the Random returns them divided by 2^32) for seeds
// 0, 1 and 42. Cross-checked against an independent C implementation of the same construction:
// PractRand's sfc32 `raw32` (a, b, c, counter; shifts 9, 3, rotate 21) with its state filled by
// MurmurHash3's fmix32 over a golden-ratio (0x9e3779b9) Weyl sequence, 12 outputs discarded.
const expected: Record<number, number[]> = {
  0: [4205396811, 3543653536, 1222415357, 3047368389, 387095348],
  1: [1828152527, 3394835397, 2967886022, 2251045104, 4148684523],
  42: [1028872839, 2516511472, 400437680, 853279530, 1920286840],
};

describe('seededRandom', () => {
  it.each([0, 1, 42])('seed %i gives the reference sequence', (seed) => {
    const random = seededRandom(seed);
    const got = Array.from({ length: 5 }, () => random() * 2 ** 32);
    expect(got).toEqual(expected[seed]);
  });

  it('gives identical sequences for the same seed and different ones for different seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = seededRandom(seed);
        const b = seededRandom(seed);
        const c = seededRandom((seed + 1) >>> 0);
        const xs = Array.from({ length: 8 }, () => a());
        expect(Array.from({ length: 8 }, () => b())).toEqual(xs);
        expect(Array.from({ length: 8 }, () => c())).not.toEqual(xs);
        for (const x of xs) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
        }
      }),
    );
  });

  it('is roughly uniform on [0, 1): mean 1/2 and variance 1/12 over 1e5 draws', () => {
    const random = seededRandom(12345);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = random();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      sumSq += x * x;
      buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // Standard error of the mean is sqrt(1/12 / n) ≈ 0.0009; 5 of those is a safe bound.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0046);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
    // Chi-square over 10 buckets, 9 degrees of freedom: 27.9 is the 0.999 quantile.
    const chi2 = buckets.reduce((acc, count) => acc + (count - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('rejects a seed of the wrong type (TypeError) or out of range (RangeError), naming it', () => {
    expect(() => seededRandom('1' as never)).toThrow(TypeError);
    expect(() => seededRandom(Number.NaN)).toThrow(TypeError);
    expect(() => seededRandom(Number.NaN)).toThrow(/seededRandom: seed/);
    expect(() => seededRandom(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => seededRandom(Number.NEGATIVE_INFINITY)).toThrow(
      /seed must be a finite number, received -Infinity/,
    );
  });

  it('takes the seed modulo 2^32', () => {
    expect(seededRandom(2 ** 32 + 42)()).toBe(seededRandom(42)());
    expect(seededRandom(-1)()).toBe(seededRandom(2 ** 32 - 1)());
  });
});

describe('drawRandom', () => {
  it('passes draws in [0, 1] through and names the option for anything else', () => {
    expect(drawRandom(() => 0, 'x')).toBe(0);
    expect(drawRandom(() => 0.25, 'x')).toBe(0.25);
    expect(drawRandom(() => 1, 'x')).toBe(1); // the usual off-by-one: the top of the range
    for (const bad of [Number.NaN, -0.1, 1.0001, Number.POSITIVE_INFINITY]) {
      expect(() => drawRandom(() => bad, 'retry')).toThrow(RangeError);
      expect(() => drawRandom(() => bad, 'retry')).toThrow(
        /^retry: option "random" must return a number in \[0, 1\), returned /,
      );
    }
    for (const bad of ['0.5', undefined, null, 0n]) {
      expect(() => drawRandom(() => bad as never, 'retry')).toThrow(TypeError);
    }
  });
});
