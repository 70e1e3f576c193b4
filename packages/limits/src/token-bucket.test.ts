import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gcra } from './gcra.js';
import { memoryRateLimitStore } from './memory-store.js';
import { replay } from './replay.cases.js';
import { tokenBucket } from './token-bucket.js';

/** A call: `dt` ms after the previous one, for `permits` permits. */
const calls = fc.array(
  fc.record({
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 })),
    permits: fc.integer({ min: 0, max: 6 }),
  }),
  { minLength: 1, maxLength: 150 },
);
const params = fc.record({
  rate: fc.integer({ min: 1, max: 20 }),
  per: fc.constantFrom(100, 1000, 60_000),
  burst: fc.integer({ min: 1, max: 10 }),
});

type Admission = { t: number; permits: number };

/**
 * Runs `sequence` through a fresh token bucket and memory store and returns the admissions (of
 * one permit or more); `check` sees each call's decision with the admissions before it.
 */
function admissions(
  options: { rate: number; per: number; burst: number },
  sequence: ReadonlyArray<{ dt: number; permits: number }>,
  check?: (now: number, permits: number, allowed: boolean, before: readonly Admission[]) => void,
): Admission[] {
  const bucket = tokenBucket(options);
  const store = memoryRateLimitStore();
  const admitted: Admission[] = [];
  replay(sequence, (now, permits) => {
    const { allowed } = store.consume('k', bucket, permits, now);
    check?.(now, permits, allowed, admitted);
    if (allowed && permits > 0) admitted.push({ t: now, permits });
  });
  return admitted;
}

describe('tokenBucket', () => {
  it('starts full, grants burst at once, then refills continuously', () => {
    const bucket = tokenBucket({ rate: 10, burst: 5 }); // 10/s: a token every 100 ms
    const store = memoryRateLimitStore();
    const take = (now: number, permits = 1) => store.consume('k', bucket, permits, now);
    for (let i = 0; i < 5; i++) expect(take(0)).toMatchObject({ allowed: true, remaining: 4 - i });
    expect(take(0)).toEqual({
      allowed: false,
      limit: 5,
      remaining: 0,
      retryAfter: 100,
      resetAfter: 500,
    });
    expect(take(50)).toMatchObject({ allowed: false, retryAfter: 50 });
    expect(take(100)).toMatchObject({ allowed: true, remaining: 0 });
    expect(take(350, 3)).toMatchObject({ allowed: false, remaining: 2, retryAfter: 50 });
    expect(take(400, 3)).toMatchObject({ allowed: true, remaining: 0 });
    // More than the bucket ever holds: never.
    expect(take(10_000, 6)).toMatchObject({
      allowed: false,
      remaining: 5,
      retryAfter: Infinity,
      resetAfter: 0,
    });
  });

  it('burst defaults to one period of rate', () => {
    expect(tokenBucket({ rate: 10 }).limit).toBe(10);
    expect(tokenBucket({ rate: 0.2 }).limit).toBe(1);
    expect(tokenBucket({ rate: 10, per: 60_000, burst: 3 }).window).toBe(18_000);
  });

  it('property: never more than burst at once, nor more than burst + rate·t/per in any interval t', () => {
    fc.assert(
      fc.property(params, calls, ({ rate, per, burst }, sequence) => {
        const admitted = admissions({ rate, per, burst }, sequence);
        for (let i = 0; i < admitted.length; i++) {
          let sum = 0;
          for (let j = i; j < admitted.length; j++) {
            sum += admitted[j]!.permits;
            const span = admitted[j]!.t - admitted[i]!.t;
            // span 0: everything admitted at one instant is at most burst.
            expect(sum).toBeLessThanOrEqual(burst + (rate * span) / per + 1e-6);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('model: admits exactly when a naive reference (the greatest (burst, rate) regulator) does', () => {
    // Network calculus: a token bucket admits q at `now` iff for every earlier admission time s
    // (and s = now) the permits admitted in [s, now] plus q fit in burst + rate·(now − s)/per.
    fc.assert(
      fc.property(params, calls, ({ rate, per, burst }, sequence) => {
        admissions({ rate, per, burst }, sequence, (now, permits, allowed, admitted) => {
          let fits = permits <= burst;
          for (let i = 0; fits && i < admitted.length; i++) {
            let inWindow = permits;
            for (let j = i; j < admitted.length; j++) inWindow += admitted[j]!.permits;
            if (inWindow > burst + (rate * (now - admitted[i]!.t)) / per + 1e-7) fits = false;
          }
          expect(allowed).toBe(fits);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('model: GCRA(rate, burst) decides like a token bucket of burst + 1 at the same rate', () => {
    fc.assert(
      fc.property(params, calls, ({ rate, per, burst }, sequence) => {
        const cell = gcra({ rate, per, burst: burst - 1 });
        const bucket = tokenBucket({ rate, per, burst });
        const store = memoryRateLimitStore();
        replay(sequence, (now, permits) => {
          const a = store.consume('k', cell, permits, now);
          const b = store.consume('k', bucket, permits, now);
          expect([a.allowed, a.remaining, a.limit]).toEqual([b.allowed, b.remaining, b.limit]);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('tryTake (the allocation-free success path)', () => {
  it('agrees with consume on every call, for all three algorithms', async () => {
    const { slidingWindow } = await import('./sliding-window.js');
    fc.assert(
      fc.property(params, calls, ({ rate, per, burst }, sequence) => {
        const algorithms = [
          tokenBucket({ rate, per, burst }),
          gcra({ rate, per, burst: burst - 1 }),
          slidingWindow({ limit: burst, window: per, segments: 3 }),
        ];
        for (const algorithm of algorithms) {
          const fast = memoryRateLimitStore();
          const slow = memoryRateLimitStore();
          replay(sequence, (now, permits) => {
            const taken = fast.take('k', algorithm, permits, now);
            const decision = slow.consume('k', algorithm, permits, now);
            expect(taken).toBe(decision.allowed);
            if (!taken) expect(fast.consume('k', algorithm, permits, now)).toEqual(decision);
            expect(fast.consume('k', algorithm, 0, now)).toEqual(
              slow.consume('k', algorithm, 0, now),
            );
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});
