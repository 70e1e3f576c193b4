import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import { CountWindow } from './count-window.js';
import { failureRate } from './failure-rate.js';
import { RollingCounters } from './rolling-counters.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => 'ok';

describe('failureRate: the stale-window regression (js-peers.md §3.3)', () => {
  // cockatiel's SamplingBreaker rotates one slice per call, so after an idle hour the old counts
  // come back and a single failure trips it. Here windows expire by time, idle gaps included.
  async function justUnderThreshold(clock: VirtualClock) {
    const breaker = circuitBreaker({ trip: failureRate(), clock }); // 0.5, min 20, 30 s, 10 buckets
    // 21 calls over 5 s, 10 of them failures: 47.6 % < 50 % (and 9 / 20 at the 20th call).
    for (let i = 0; i < 21; i++) {
      if ((i % 2 === 1 && i < 19) || i === 20) await breaker.execute(boom).catch(() => {});
      else await breaker.execute(ok);
      await clock.advance(250);
    }
    expect(breaker.state).toBe('closed');
    return breaker;
  }

  it('5 s just under the threshold, 1 h idle, one failure: stays closed', async () => {
    const clock = new VirtualClock();
    const breaker = await justUnderThreshold(clock);
    await clock.advance(3_600_000);
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed');
  });

  it('control: the same failure without the idle hour trips it (11 / 22 = 50 %)', async () => {
    const clock = new VirtualClock();
    const breaker = await justUnderThreshold(clock);
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('also with a 5 s window of 1 s slices', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.5, minimumThroughput: 5, window: 5_000, buckets: 5 }),
      clock,
    });
    for (let s = 0; s < 5; s++) {
      await breaker.execute(ok);
      await breaker.execute(ok);
      await breaker.execute(ok);
      await breaker.execute(boom).catch(() => {});
      await clock.advance(1_000);
    }
    expect(breaker.state).toBe('closed');
    await clock.advance(3_600_000);
    for (let i = 0; i < 4; i++) await breaker.execute(ok);
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed'); // 1 / 5 in the window, not 6 / 25 + stale counts
  });
});

describe('failureRate: thresholds and windows', () => {
  it('opens at exactly failures / calls ≥ threshold once minimumThroughput is reached', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.3, minimumThroughput: 10, window: 60_000 }),
      clock,
    });
    for (let i = 0; i < 7; i++) await breaker.execute(ok);
    await breaker.execute(boom).catch(() => {});
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed'); // 2 / 9, below minimum throughput anyway
    await breaker.execute(boom).catch(() => {}); // 3 / 10 = 0.3
    expect(breaker.state).toBe('open');
  });

  it('below the minimum throughput nothing trips, even 100 % failures', async () => {
    const breaker = circuitBreaker({
      trip: failureRate({ minimumThroughput: 20 }),
      clock: new VirtualClock(),
    });
    for (let i = 0; i < 19; i++) await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed');
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('the time window forgets slices as they leave it', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.5, minimumThroughput: 2, window: 1_000, buckets: 4 }),
      clock,
    });
    await breaker.execute(boom).catch(() => {}); // slice 0 (t = 0)
    await clock.advance(1_000); // slice 4: slice 0 has left the window of slices 1..4
    await breaker.execute(ok);
    await breaker.execute(ok);
    await breaker.execute(boom).catch(() => {}); // 1 / 3
    expect(breaker.state).toBe('closed');
  });

  it('the count window holds the last N calls', async () => {
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.75, minimumThroughput: 4, window: { calls: 4 } }),
    });
    await breaker.execute(boom).catch(() => {});
    await breaker.execute(boom).catch(() => {});
    for (let i = 0; i < 4; i++) await breaker.execute(ok); // pushes both failures out
    await breaker.execute(boom).catch(() => {}); // 1 / 4
    await breaker.execute(boom).catch(() => {}); // 2 / 4
    expect(breaker.state).toBe('closed');
    await breaker.execute(boom).catch(() => {}); // 3 / 4
    expect(breaker.state).toBe('open');
  });
});

describe('windows: counts only, bounded memory', () => {
  it('RollingCounters equals a naive per-event recount for any event sequence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(100, 1_000, 777),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_500 }), fc.boolean()), { maxLength: 200 }),
        (buckets, window, steps) => {
          const counters = new RollingCounters(window, buckets, 2);
          const events: Array<{ t: number; flag: boolean }> = [];
          let t = 0;
          for (const [dt, flag] of steps) {
            t += dt;
            counters.advance(t);
            counters.add(0);
            if (flag) counters.add(1);
            events.push({ t, flag });
            const width = window / buckets;
            const live = events.filter(
              (e) => Math.floor(e.t / width) > Math.floor(t / width) - buckets,
            );
            expect(counters.total(0)).toBe(live.length);
            expect(counters.total(1)).toBe(live.filter((e) => e.flag).length);
          }
        },
      ),
    );
  });

  it('CountWindow keeps exact totals as the ring wraps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 100 }),
        (size, outcomes) => {
          const window = new CountWindow(size);
          for (const [i, [failed, slow]] of outcomes.entries()) {
            window.record(failed, slow);
            const last = outcomes.slice(Math.max(0, i + 1 - size), i + 1);
            expect(window.calls).toBe(last.length);
            expect(window.failures).toBe(last.filter(([f]) => f).length);
            expect(window.slowCalls).toBe(last.filter(([, s]) => s).length);
          }
        },
      ),
    );
  });
});
