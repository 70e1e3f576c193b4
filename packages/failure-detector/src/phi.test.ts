import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elapsedForPhi, phi, standardizedElapsedForPhi } from './phi.js';

const cdf = (level: number): number => 1 - 10 ** -level;

/** Akka's `e = exp(-y · (1.5976 + 0.070566 · y²))` (PhiAccrualFailureDetector.phi). */
function akkaE(timeDiff: number, mean: number, stdDeviation: number): number {
  const y = (timeDiff - mean) / stdDeviation;
  return Math.exp(-y * (1.5976 + 0.070566 * y * y));
}

/** Akka's formula, verbatim in structure (PhiAccrualFailureDetector.phi), as the oracle. */
function akkaPhi(timeDiff: number, mean: number, stdDeviation: number): number {
  const e = akkaE(timeDiff, mean, stdDeviation);
  return timeDiff > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

/** The smallest normal double, 2^-1022: below it a double keeps fewer than 53 bits. */
const MIN_NORMAL = 2 ** -1022;

describe('phi (spec reference values)', () => {
  it('phi(0, 0, 10) gives CDF 0.5', () => {
    expect(cdf(phi(0, 0, 10))).toBeCloseTo(0.5, 12);
  });
  it('phi(20, 0, 10) ≈ 1.6428', () => {
    expect(phi(20, 0, 10)).toBeCloseTo(1.6428, 4);
  });
  it('phi(1400, 1000, 100) ≈ 4.7367', () => {
    expect(phi(1400, 1000, 100)).toBeCloseTo(4.7367, 4);
  });
  it('phi(1600, 1000, 100) ≈ 10.7826', () => {
    expect(phi(1600, 1000, 100)).toBeCloseTo(10.7826, 4);
  });
});

// AccrualFailureDetectorSpec in akka/akka (akka-remote/src/test/scala/akka/remote).
describe("phi (Akka's AccrualFailureDetectorSpec)", () => {
  it('uses a good enough cumulative distribution function', () => {
    const table: Array<[number, number, number]> = [
      [0, 0.5, 0.001],
      [6, 0.7257, 0.001],
      [15, 0.9332, 0.001],
      [20, 0.97725, 0.001],
      [25, 0.99379, 0.001],
      [35, 0.99977, 0.001],
      [40, 0.99997, 0.0001],
    ];
    for (const [x, expected, tolerance] of table) {
      expect(Math.abs(cdf(phi(x, 0, 10)) - expected)).toBeLessThanOrEqual(tolerance);
    }
    for (let x = 0; x < 40; x++) expect(phi(x, 0, 10)).toBeLessThan(phi(x + 1, 0, 10));
    expect(Math.abs(cdf(phi(22, 20, 3)) - 0.7475)).toBeLessThanOrEqual(0.001);
  });

  it('handles outliers without losing precision or hitting exceptions', () => {
    expect(Math.abs(phi(10, 0, 1) - 38)).toBeLessThanOrEqual(1);
    expect(phi(-25, 0, 1)).toBe(0);
  });

  it('returns realistic phi values', () => {
    const table: Array<[number, number]> = [
      [0, 0.0],
      [500, 0.1],
      [1000, 0.3],
      [1200, 1.6],
      [1400, 4.7],
      [1600, 10.8],
      [1700, 15.3],
    ];
    for (const [timeDiff, expected] of table) {
      expect(Math.abs(phi(timeDiff, 1000, 100) - expected)).toBeLessThanOrEqual(0.1);
    }
    // A larger standard deviation gives a lower phi.
    expect(phi(1100, 1000, 500)).toBeLessThan(phi(1100, 1000, 100));
  });

  // Where Akka's `e` falls below 2^-1022 it is subnormal and keeps only some of its bits, so
  // the oracle itself is off by up to half its last place (phi 317.5263025817 computed as
  // 317.5263022642 at y = 21.45): there the next test checks against the exact value instead.
  it("equals Akka's two-branch formula wherever that one is finite and exact", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e4, max: 1e4, noNaN: true }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        fc.double({ min: 1, max: 1e3, noNaN: true }),
        (elapsed, mean, sd) => {
          const reference = akkaPhi(elapsed, mean, sd);
          fc.pre(Number.isFinite(reference) && akkaE(elapsed, mean, sd) >= MIN_NORMAL);
          expect(Math.abs(phi(elapsed, mean, sd) - reference)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, reference),
          );
        },
      ),
    );
  });

  it("equals the exact tail -log10(e) where Akka's e is subnormal", () => {
    // For y > 0 with e this small, -log10(e / (1 + e)) = y · (1.5976 + 0.070566 · y²) / ln 10
    // to far below a double's precision (log10(1 + e) < 1e-300).
    for (const y of [21.3, 21.4, 21.454372245621183, 21.5]) {
      expect(akkaE(y, 0, 1)).toBeGreaterThan(0);
      expect(akkaE(y, 0, 1)).toBeLessThan(MIN_NORMAL);
      const exact = (y * (1.5976 + 0.070566 * y * y)) / Math.LN10;
      expect(Math.abs(phi(y, 0, 1) - exact)).toBeLessThanOrEqual(1e-12 * exact);
    }
  });

  it("stays finite and increasing where Akka's form overflows to Infinity", () => {
    expect(akkaPhi(30, 0, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(phi(30, 0, 1))).toBe(true);
    expect(phi(30, 0, 1)).toBeGreaterThan(phi(29, 0, 1));
  });
});

describe('elapsedForPhi (the inverse)', () => {
  it('inverts phi for levels from 0.01 to 1000', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        fc.double({ min: 1, max: 1e3, noNaN: true }),
        (level, mean, sd) => {
          const elapsed = elapsedForPhi(level, mean, sd);
          expect(phi(elapsed, mean, sd)).toBeCloseTo(level, 6);
        },
      ),
    );
  });

  it('is -Infinity for a level <= 0 (phi is always positive)', () => {
    expect(standardizedElapsedForPhi(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(standardizedElapsedForPhi(-1)).toBe(Number.NEGATIVE_INFINITY);
    expect(standardizedElapsedForPhi(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('puts phi = log10(2) exactly at the mean', () => {
    expect(Math.abs(standardizedElapsedForPhi(Math.log10(2)))).toBeLessThan(1e-12);
  });
});

describe('phi fast paths', () => {
  it('give the same values as the full formula on both sides of each cut', () => {
    const full = (g: number): number =>
      g > 0 ? (g + Math.log1p(Math.exp(-g))) / Math.LN10 : Math.log1p(Math.exp(g)) / Math.LN10;
    // Solve y(A + B y²) = g by bisection to hit g values around the cuts.
    const yFor = (g: number): number => {
      let lo = -100;
      let hi = 100;
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (mid * (1.5976 + 0.070566 * mid * mid) < g) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    for (const g of [
      -800, -746.5, -745.5, -745, -700, -41, -40.001, -39.999, -1, 0, 39.999, 40.001, 41, 500,
    ]) {
      const y = yFor(g);
      const exactG = y * (1.5976 + 0.070566 * y * y);
      const value = phi(y, 0, 1);
      const reference = full(exactG);
      expect(Math.abs(value - reference)).toBeLessThanOrEqual(Math.abs(reference) * 4e-16);
    }
  });
});
