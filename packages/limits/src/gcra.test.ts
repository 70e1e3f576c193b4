import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { clThrottleReply, readmeExample, redisCellTable, tableDecision } from './gcra.cases.js';
import { gcra } from './gcra.js';
import { memoryRateLimitStore } from './memory-store.js';
import { rateLimiter } from './rate-limiter.js';

describe('gcra: redis-cell CL.THROTTLE semantics (memory)', () => {
  it("reproduces redis-cell's it_rate_limits table call by call", () => {
    const algorithm = gcra(redisCellTable.options);
    expect(algorithm.limit).toBe(redisCellTable.limit);
    const store = memoryRateLimitStore();
    const start = 1_000_000; // any monotonic origin: only differences matter
    for (const c of redisCellTable.cases) {
      const decision = store.consume('foo', algorithm, c.quantity, start + c.at);
      expect({ num: c.num, ...decision }).toEqual(tableDecision(c));
    }
  });

  it('README example: burst 15, 30 per 60 s → allowed, limit 16, remaining 15, reset 2 s', async () => {
    const clock = new VirtualClock(5_000);
    const limiter = rateLimiter({ limit: gcra(readmeExample.options), clock });
    const decision = await limiter.tryAcquire('user123');
    expect(decision).toEqual(readmeExample.decision);
    expect(clThrottleReply(decision)).toEqual([...readmeExample.reply]);
  });

  it('the README limit admits 16 at once, then one every 2 s (T = 60 s / 30)', async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter({ limit: gcra(readmeExample.options), clock });
    const first = [];
    for (let i = 0; i < 17; i++) first.push(await limiter.tryAcquire('user123'));
    expect(first.filter((d) => d.allowed)).toHaveLength(16);
    // The 17th: TAT = 32 s, τ = 2 s · 16 = 32 s, allow at TAT + T − τ = 2 s.
    expect(first[16]).toMatchObject({ allowed: false, remaining: 0, retryAfter: 2000 });
    expect(clThrottleReply(first[16]!)).toEqual([1, 16, 0, 2, 32]);
    await clock.advance(1999);
    expect((await limiter.tryAcquire('user123')).allowed).toBe(false);
    await clock.advance(1);
    expect(await limiter.tryAcquire('user123')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('fractional emission intervals keep exact remaining counts (3 per second: T = 333.3 ms)', () => {
    const algorithm = gcra({ rate: 3, per: 1000, burst: 2 });
    const store = memoryRateLimitStore();
    const remaining = [0, 0, 0].map(() => store.consume('k', algorithm, 1, 0).remaining);
    expect(remaining).toEqual([2, 1, 0]);
    expect(store.consume('k', algorithm, 0, 1000).remaining).toBe(3);
  });

  it('burst defaults to one period at once (ceil(rate) − 1 beyond the first)', () => {
    expect(gcra({ rate: 10 }).limit).toBe(10);
    expect(gcra({ rate: 0.5 }).limit).toBe(1);
  });
});
