import { type Clock, systemClock } from '@faultline/clock';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RollingCounters } from './rolling-counters.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A naive recount: the events whose slice is one of the `buckets` slices up to `now`'s. */
function live(events: readonly number[], now: number, window: number, buckets: number): number {
  const width = window / buckets;
  return events.filter((t) => Math.floor(t / width) > Math.floor(now / width) - buckets).length;
}

describe('RollingCounters.tick', () => {
  it('on any clock but systemClock reads it at every tick and sets no timer', () => {
    let t = 0;
    let reads = 0;
    const clock: Clock = {
      now: () => {
        reads++;
        return t;
      },
      sleep: () => Promise.resolve(),
      setTimer: () => {
        throw new Error('no timer on a clock of the caller');
      },
    };
    const counters = new RollingCounters(100, 4, 1, clock);
    const events: number[] = [];
    for (let i = 0; i < 200; i++) {
      t += (i * 7) % 13;
      counters.tick();
      counters.add(0);
      events.push(t);
      expect(counters.total(0)).toBe(live(events, t, 100, 4));
    }
    expect(reads).toBe(200);
  });

  it('on systemClock counts exactly as a recount when its slice timers fire on time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(100, 1_000, 777),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_500 }), fc.integer({ min: 1, max: 3 })), {
          maxLength: 100,
        }),
        (buckets, window, steps) => {
          // Fake performance.now() and setTimeout: systemClock reads both when called.
          vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
          try {
            const counters = new RollingCounters(window, buckets, 1, systemClock);
            const events: number[] = [];
            for (const [dt, calls] of steps) {
              vi.advanceTimersByTime(dt);
              const now = performance.now();
              for (let i = 0; i < calls; i++) {
                counters.tick();
                counters.add(0);
                events.push(now);
              }
              expect(counters.total(0)).toBe(live(events, now, window, buckets));
            }
          } finally {
            vi.useRealTimers();
          }
        },
      ),
    );
  });

  it('on systemClock reads the clock once per slice timer, and at least every 32 ticks', () => {
    // Real timers never run inside this synchronous test: as for a caller awaiting call after
    // call in promise jobs alone, only the tick budget makes the counters notice the new slice.
    let t = 5;
    let reads = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => {
      reads++;
      return t;
    });
    const counters = new RollingCounters(100, 10, 1, systemClock);
    for (let i = 0; i < 320; i++) {
      counters.tick();
      counters.add(0);
    }
    expect(reads).toBe(10);
    expect(counters.head).toBe(0);
    t = 25; // slice 2
    let ticks = 0;
    while (counters.head !== 2) {
      counters.tick();
      counters.add(0);
      ticks++;
    }
    expect(ticks).toBeLessThanOrEqual(32);
    expect(counters.total(0)).toBe(320 + ticks);
  });

  it('on systemClock a reset is seen at the next tick', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const counters = new RollingCounters(100, 10, 1, systemClock);
    vi.advanceTimersByTime(35);
    counters.tick();
    counters.add(0);
    counters.reset();
    expect(counters.head).toBe(Number.NEGATIVE_INFINITY);
    counters.tick();
    counters.add(0);
    expect(counters.head).toBe(3);
    expect(counters.total(0)).toBe(1);
  });
});
