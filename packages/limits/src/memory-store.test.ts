import { describe, expect, it } from 'vitest';
import { gcra } from './gcra.js';
import { memoryRateLimitStore } from './memory-store.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

describe('memoryRateLimitStore', () => {
  it('keeps one state per (algorithm, key)', () => {
    const store = memoryRateLimitStore();
    const a = gcra({ rate: 1, burst: 0 });
    const b = gcra({ rate: 1, burst: 0 });
    expect(store.consume('k', a, 1, 0).allowed).toBe(true);
    expect(store.consume('k', a, 1, 0).allowed).toBe(false);
    expect(store.consume('k', b, 1, 0).allowed).toBe(true);
    expect(store.consume('j', a, 1, 0).allowed).toBe(true);
    expect(store.size).toBe(3);
  });

  it('forgets keys whose limit is full again, so memory follows the active keys', () => {
    const store = memoryRateLimitStore();
    const algorithms = [
      gcra({ rate: 10, burst: 5 }),
      tokenBucket({ rate: 10, burst: 5 }),
      slidingWindow({ limit: 5, window: 100 }),
    ];
    let now = 0;
    for (let i = 0; i < 30_000; i++) {
      now += 1;
      store.consume(`key-${i}`, algorithms[i % 3]!, 1, now);
    }
    // Each key is at rest within 200 ms: only the last few hundred can still be held, whatever
    // the number of keys seen.
    expect(store.size).toBeLessThan(2_500);
    // A key brought back after its sweep starts from a full limit.
    expect(store.consume('key-0', algorithms[0]!, 1, now).remaining).toBe(5);
  });
});
