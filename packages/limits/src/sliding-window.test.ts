import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryRateLimitStore } from './memory-store.js';
import { replay } from './replay.cases.js';
import { slidingWindow } from './sliding-window.js';

describe('slidingWindow', () => {
  it('counts the segments covering the last window; a permit returns when its segment leaves', () => {
    const window = slidingWindow({ limit: 3, window: 1000, segments: 4 }); // 250 ms segments
    const store = memoryRateLimitStore();
    const take = (now: number, permits = 1) => store.consume('k', window, permits, now);
    expect(take(100)).toMatchObject({ allowed: true, remaining: 2 });
    expect(take(300)).toMatchObject({ allowed: true, remaining: 1 });
    expect(take(600)).toMatchObject({ allowed: true, remaining: 0 });
    // Segment 0 (0–250) leaves when segment 5 begins, at 1250 ms.
    expect(take(900)).toEqual({
      allowed: false,
      limit: 3,
      remaining: 0,
      retryAfter: 350,
      resetAfter: 850,
    });
    expect(take(1249)).toMatchObject({ allowed: false, retryAfter: 1 });
    expect(take(1250)).toMatchObject({ allowed: true, remaining: 0 });
    // Two permits: segments 1 (300) and 2 (600) must leave: at 1750.
    expect(take(1300, 2)).toMatchObject({ allowed: false, retryAfter: 450 });
    expect(take(1300, 4)).toMatchObject({ allowed: false, retryAfter: Infinity });
    expect(take(5000)).toMatchObject({ allowed: true, remaining: 2, resetAfter: 1250 });
  });

  it('works on a clock that reads negative times', () => {
    const window = slidingWindow({ limit: 1, window: 100, segments: 2 });
    const store = memoryRateLimitStore();
    expect(store.consume('k', window, 1, -1000).allowed).toBe(true);
    expect(store.consume('k', window, 1, -990)).toMatchObject({ allowed: false, retryAfter: 140 });
    expect(store.consume('k', window, 1, -850).allowed).toBe(true);
  });

  it('property: never more than limit permits in any interval of window ms', () => {
    fc.assert(
      fc.property(
        fc.record({
          limit: fc.integer({ min: 1, max: 8 }),
          window: fc.constantFrom(100, 1000, 3000),
          segments: fc.integer({ min: 1, max: 10 }),
        }),
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 700 }),
            permits: fc.integer({ min: 0, max: 4 }),
          }),
          { minLength: 1, maxLength: 150 },
        ),
        ({ limit, window, segments }, sequence) => {
          const algorithm = slidingWindow({ limit, window, segments });
          const store = memoryRateLimitStore();
          const admitted: Array<{ t: number; permits: number }> = [];
          replay(sequence, (now, permits) => {
            const decision = store.consume('k', algorithm, permits, now);
            if (decision.allowed && permits > 0) admitted.push({ t: now, permits });
            // Liveness: a call is refused only when the last window + one segment holds others.
            if (!decision.allowed && permits <= limit) {
              const recent = admitted
                .filter((a) => a.t > now - window - window / segments)
                .reduce((sum, a) => sum + a.permits, 0);
              expect(recent + permits).toBeGreaterThan(limit);
            }
          });
          for (let i = 0; i < admitted.length; i++) {
            let sum = 0;
            for (let j = i; j < admitted.length && admitted[j]!.t < admitted[i]!.t + window; j++) {
              sum += admitted[j]!.permits;
            }
            expect(sum).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
