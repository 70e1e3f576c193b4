import { type Backoff, seededRandom } from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  constant,
  decorrelatedJitterV2,
  exponential,
  fromDelays,
  type Jitter,
  linear,
} from './backoff.js';

const N = 400_000;

function take(backoff: Backoff, count: number, random?: () => number): number[] {
  const it = backoff.delays(random);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().value as number);
  return out;
}

/** The delay before retry `retry` over `n` fresh sequences, sorted. */
function sample(backoff: Backoff, retry: number, n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const it = backoff.delays(random);
    let value = 0;
    for (let k = 0; k < retry; k++) value = it.next().value as number;
    values[i] = value;
  }
  return values.sort();
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const QS = [0.05, 0.5, 0.95] as const;

function expectQuantiles(sorted: Float64Array, expected: (q: number) => number): void {
  for (const q of QS) {
    const want = expected(q);
    const got = quantile(sorted, q);
    // within 2 % of the expected quantile
    expect(Math.abs(got - want), `p${q * 100}: got ${got}, want ${want}`).toBeLessThanOrEqual(
      0.02 * want,
    );
  }
}

describe('simple backoffs', () => {
  it('constant repeats its delay', () => {
    expect(take(constant(250), 4)).toEqual([250, 250, 250, 250]);
  });
  it('linear grows by step and stops at max', () => {
    expect(take(linear({ initial: 100, step: 50, max: 260 }), 6)).toEqual([
      100, 150, 200, 250, 260, 260,
    ]);
    expect(take(linear({ initial: 100 }), 3)).toEqual([100, 200, 300]);
  });
  it('fromDelays repeats the last value', () => {
    expect(take(fromDelays([10, 20, 30]), 5)).toEqual([10, 20, 30, 30, 30]);
  });
  it('each execution gets a fresh sequence', () => {
    const backoff = fromDelays([1, 2]);
    expect(take(backoff, 2)).toEqual([1, 2]);
    expect(take(backoff, 2)).toEqual([1, 2]);
  });
  it("exponential 'none' is min(max, initial·factor^(n-1))", () => {
    expect(take(exponential({ initial: 100, factor: 3, max: 5000, jitter: 'none' }), 6)).toEqual([
      100, 300, 900, 2700, 5000, 5000,
    ]);
  });
});

describe('jitter distributions (p5/p50/p95 of 400 000 seeded draws within 2 %)', () => {
  const initial = 100;
  const max = 10_000;
  const e = (n: number): number => Math.min(max, initial * 2 ** (n - 1));
  const modes: Record<Exclude<Jitter, 'decorrelated'>, (n: number, q: number) => number> = {
    none: (n) => e(n),
    full: (n, q) => q * e(n), // U(0, e(n))
    equal: (n, q) => e(n) / 2 + (q * e(n)) / 2, // e(n)/2 + U(0, e(n)/2)
  };
  for (const [mode, expected] of Object.entries(modes)) {
    for (const n of [1, 3, 8]) {
      it(`${mode}, retry ${n}${e(n) === max ? ' (capped: jitter applies to the capped value)' : ''}`, () => {
        const backoff = exponential({ initial, max, jitter: mode as Jitter });
        expectQuantiles(sample(backoff, n, N, 1000 + n), (q) => expected(n, q));
      });
    }
  }

  it('AWS standard: exponential({ initial: 1000, max: 20 000 }), 200 000 draws', () => {
    const aws = exponential({ initial: 1000, max: 20_000 });
    const n = 200_000;
    // retry 1: U(0, 1000); retry 3: U(0, 4000); retry 5: U(0, 16 000), p95 = 15 200.
    expect(Math.abs(quantile(sample(aws, 1, n, 11), 0.5) - 500)).toBeLessThanOrEqual(10);
    expect(Math.abs(quantile(sample(aws, 3, n, 13), 0.5) - 2000)).toBeLessThanOrEqual(40);
    expect(Math.abs(quantile(sample(aws, 5, n, 15), 0.95) - 15_200)).toBeLessThanOrEqual(304);
  });

  it('decorrelated, retry 1: min(max, U(initial, 3·initial)) analytically', () => {
    const backoff = exponential({ initial, max, jitter: 'decorrelated' });
    expectQuantiles(sample(backoff, 1, N, 21), (q) => initial + q * (3 * initial - initial));
  });

  // A plain, separate implementation of the formula, run on a different seed.
  function referenceDecorrelated(retry: number, n: number, seed: number): Float64Array {
    const random = seededRandom(seed);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let d = initial;
      for (let k = 0; k < retry; k++) {
        d = Math.min(max, initial + random() * (3 * d - initial));
      }
      out[i] = d;
    }
    return out.sort();
  }
  for (const n of [2, 4, 9]) {
    it(`decorrelated, retry ${n}: matches a reference computation`, () => {
      const backoff = exponential({ initial, max, jitter: 'decorrelated' });
      const ref = referenceDecorrelated(n, N, 500 + n);
      expectQuantiles(sample(backoff, n, N, 600 + n), (q) => quantile(ref, q));
    });
  }

  it('decorrelated at the cap: the share exactly on max matches the reference (Brooker caps after the draw)', () => {
    // From d = max the next draw is U(100, 3000), ≥ max with probability 2000/2900; from d < max/3
    // it cannot reach max. The chain's long-run share on max is what both computations estimate.
    const backoff = exponential({ initial, max: 1000, jitter: 'decorrelated' });
    const values = sample(backoff, 30, 200_000, 31);
    const share = values.filter((v) => v === 1000).length / values.length;
    const random = seededRandom(32);
    let ref = 0;
    for (let i = 0; i < 200_000; i++) {
      let d = initial;
      for (let k = 0; k < 30; k++) d = Math.min(1000, initial + random() * (3 * d - initial));
      if (d === 1000) ref++;
    }
    expect(Math.abs(share - ref / 200_000)).toBeLessThan(0.01);
    expect(share).toBeGreaterThan(0.3); // the known pile-up, documented in the README
    expect(share).toBeLessThan(2000 / 2900);
  });

  const median = 1000;
  const f = (t: number): number => 2 ** t * Math.tanh(Math.sqrt(4 * t));
  it('decorrelatedJitterV2, retry 1: f(U)/1.4·median analytically (f is increasing)', () => {
    const backoff = decorrelatedJitterV2({ median, max: 60_000 });
    expectQuantiles(sample(backoff, 1, N, 41), (q) => (f(q) / 1.4) * median);
    // Polly's scaling puts the first median near `median`.
    expect(Math.abs((f(0.5) / 1.4) * median - median) / median).toBeLessThan(0.15);
  });

  function referenceV2(retry: number, n: number, seed: number, cap: number): Float64Array {
    const random = seededRandom(seed);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let prev = 0;
      let delay = 0;
      for (let k = 0; k < retry; k++) {
        const t = k + random();
        const next = f(t);
        delay = Math.min(cap, ((next - prev) / 1.4) * median);
        prev = next;
      }
      out[i] = delay;
    }
    return out.sort();
  }
  for (const n of [2, 4, 6]) {
    it(`decorrelatedJitterV2, retry ${n}: matches a reference computation`, () => {
      const backoff = decorrelatedJitterV2({ median, max: 60_000 });
      const ref = referenceV2(n, N, 700 + n, 60_000);
      expectQuantiles(sample(backoff, n, N, 800 + n), (q) => quantile(ref, q));
    });
  }
});

describe('bounds (fast-check)', () => {
  const randomSource = fc
    .array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
      minLength: 1,
      maxLength: 50,
    })
    .map((values) => {
      let i = 0;
      return () => values[i++ % values.length]!;
    });
  const anyBackoff = fc.oneof(
    fc
      .record({
        initial: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        factor: fc.double({ min: 1, max: 1e6, noNaN: true }),
        extra: fc.double({ min: 0, max: 1e6, noNaN: true }),
        jitter: fc.constantFrom<Jitter>('none', 'full', 'equal', 'decorrelated'),
      })
      .map(({ initial, factor, extra, jitter }) => ({
        cap: initial + extra,
        backoff: exponential({ initial, factor, max: initial + extra, jitter }),
      })),
    fc
      .record({
        median: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        extra: fc.double({ min: 0, max: 1e6, noNaN: true }),
      })
      .map(({ median, extra }) => ({
        cap: median + extra,
        backoff: decorrelatedJitterV2({ median, max: median + extra }),
      })),
    fc
      .record({
        initial: fc.double({ min: 0, max: 1e6, noNaN: true }),
        step: fc.double({ min: 0, max: 1e9, noNaN: true }),
        extra: fc.double({ min: 0, max: 1e9, noNaN: true }),
      })
      .map(({ initial, step, extra }) => ({
        cap: initial + extra,
        backoff: linear({ initial, step, max: initial + extra }),
      })),
  );

  it('no NaN, negative or infinite delay, and never above the cap (first 2000 retries)', () => {
    fc.assert(
      fc.property(anyBackoff, randomSource, ({ backoff, cap }, random) => {
        const it = backoff.delays(random);
        for (let n = 1; n <= 2000; n++) {
          const d = it.next().value as number;
          if (!(Number.isFinite(d) && d >= 0 && d <= cap)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('no NaN, negative or infinite delay at any attempt up to 10^6', () => {
    fc.assert(
      fc.property(anyBackoff, fc.integer(), ({ backoff, cap }, seed) => {
        const it = backoff.delays(seededRandom(seed));
        for (let n = 1; n <= 1_000_000; n++) {
          const d = it.next().value as number;
          if (!(d >= 0 && d <= cap && d !== Number.POSITIVE_INFINITY)) return false;
        }
        return true;
      }),
      { numRuns: 8 },
    );
  });

  it('a random source returning 1 gives the top of the range; outside [0, 1] throws naming "random"', () => {
    // 1 breaks the [0, 1) contract harmlessly (every formula stays within its cap), so it is
    // taken as the top of the range. NaN, a negative number or more than 1 used to become 0: a
    // zero backoff, i.e. a retry storm (issue 14 item 20). Now the draw throws.
    expect(take(exponential({ initial: 100, max: 1_000 }), 5, () => 1)).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(take(exponential({ initial: 100, jitter: 'equal' }), 2, () => 1)).toEqual([100, 200]);
    expect(take(exponential({ initial: 100, jitter: 'decorrelated' }), 2, () => 1)).toEqual([
      300, 900,
    ]);
    const v2 = take(decorrelatedJitterV2(), 2000, () => 1);
    expect(v2.every((v) => v > 0 && v <= 10_000)).toBe(true);
    for (const bad of [Number.NaN, -0.5, 7, Number.POSITIVE_INFINITY]) {
      for (const jitter of ['full', 'equal', 'decorrelated'] as const) {
        expect(() => take(exponential({ jitter }), 1, () => bad)).toThrow(RangeError);
        expect(() => take(exponential({ jitter }), 1, () => bad)).toThrow(
          /exponential: option "random" must return a number in \[0, 1\)/,
        );
      }
      expect(() => take(decorrelatedJitterV2(), 1, () => bad)).toThrow(
        /decorrelatedJitterV2: option "random" must return a number in \[0, 1\)/,
      );
    }
    expect(() => take(exponential(), 1, () => '0.5' as never)).toThrow(TypeError);
    // 'none' draws nothing, so it never calls random at all.
    expect(take(exponential({ jitter: 'none' }), 2, () => Number.NaN)).toEqual([100, 200]);
  });
});

describe('option validation', () => {
  const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
    ['constant ms type', () => constant('1' as never), TypeError, /constant: argument "ms"/],
    ['constant ms range', () => constant(-1), RangeError, /constant: argument "ms"/],
    ['linear options type', () => linear(5 as never), TypeError, /linear: options/],
    ['linear initial type', () => linear({ initial: 'x' as never }), TypeError, /"initial"/],
    ['linear initial range', () => linear({ initial: -1 }), RangeError, /"initial"/],
    ['linear step type', () => linear({ initial: 1, step: null as never }), TypeError, /"step"/],
    ['linear step range', () => linear({ initial: 1, step: -1 }), RangeError, /"step"/],
    ['linear max type', () => linear({ initial: 1, max: '9' as never }), TypeError, /"max"/],
    ['linear max range', () => linear({ initial: 10, max: 5 }), RangeError, /"max"/],
    ['linear max Infinity', () => linear({ initial: 10, max: Infinity }), RangeError, /"max"/],
    [
      'fromDelays type',
      () => fromDelays('1,2' as never),
      TypeError,
      /fromDelays: argument "delays"/,
    ],
    ['fromDelays empty', () => fromDelays([]), RangeError, /fromDelays: argument "delays"/],
    ['fromDelays item type', () => fromDelays([1, '2' as never]), TypeError, /"delays\[1\]"/],
    ['fromDelays item range', () => fromDelays([1, -2]), RangeError, /"delays\[1\]"/],
    ['exponential options type', () => exponential([] as never), TypeError, /exponential: options/],
    [
      'exponential initial type',
      () => exponential({ initial: '1' as never }),
      TypeError,
      /"initial"/,
    ],
    ['exponential initial range', () => exponential({ initial: 0 }), RangeError, /"initial"/],
    [
      'exponential factor type',
      () => exponential({ factor: true as never }),
      TypeError,
      /"factor"/,
    ],
    ['exponential factor range', () => exponential({ factor: 0.5 }), RangeError, /"factor"/],
    ['exponential max type', () => exponential({ max: {} as never }), TypeError, /"max"/],
    ['exponential max range', () => exponential({ initial: 100, max: 50 }), RangeError, /"max"/],
    ['exponential max Infinity', () => exponential({ max: Infinity }), RangeError, /"max"/],
    ['exponential jitter type', () => exponential({ jitter: 1 as never }), TypeError, /"jitter"/],
    [
      'exponential jitter range',
      () => exponential({ jitter: 'half' as never }),
      RangeError,
      /"jitter"/,
    ],
    [
      'v2 options type',
      () => decorrelatedJitterV2('x' as never),
      TypeError,
      /decorrelatedJitterV2: options/,
    ],
    ['v2 median type', () => decorrelatedJitterV2({ median: '1' as never }), TypeError, /"median"/],
    ['v2 median range', () => decorrelatedJitterV2({ median: 0 }), RangeError, /"median"/],
    ['v2 max type', () => decorrelatedJitterV2({ max: null as never }), TypeError, /"max"/],
    ['v2 max range', () => decorrelatedJitterV2({ median: 100, max: 10 }), RangeError, /"max"/],
  ];
  for (const [name, make, Kind, message] of cases) {
    it(name, () => {
      expect(make).toThrow(Kind);
      expect(make).toThrow(message);
    });
  }
});
