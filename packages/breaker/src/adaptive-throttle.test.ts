import { VirtualClock } from '@faultline/clock';
import { ExecutionRejectedError, seededRandom } from '@faultline/core';
import { manualClock, refusal } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { adaptiveThrottle } from './adaptive-throttle.js';
import { ThrottledError } from './adaptive-throttle-errors.js';
import { handleOverload } from './overload.js';

const formula = (requests: number, accepts: number, k: number) =>
  Math.max(0, (requests - k * accepts) / (requests + 1));

describe('adaptiveThrottle (Google SRE book, "Handling Overload")', () => {
  it('rejection probability is max(0, (requests − k·accepts) / (requests + 1))', () => {
    const clock = manualClock();
    const throttle = adaptiveThrottle({ clock, random: () => 0.999_999_9 });
    for (let i = 0; i < 100; i++) {
      const permit = throttle.tryAcquire()!;
      if (i < 30) permit.accepted();
      else permit.rejected();
    }
    expect(throttle.requests).toBe(100);
    expect(throttle.accepts).toBe(30);
    expect(throttle.probability).toBeCloseTo(formula(100, 30, 2), 12);
    const k3 = adaptiveThrottle({ k: 3, clock, random: () => 0.999_999_9 });
    for (let i = 0; i < 100; i++) k3.tryAcquire()![i < 30 ? 'accepted' : 'rejected']();
    expect(k3.probability).toBe(formula(100, 30, 3)); // 0: 100 < 3 · 30
  });

  it('seeded workload with a known accept ratio: rejections match the formula within 2 %', () => {
    // The backend accepts 40 % of what is sent (seeded). Before each request the test computes
    // the formula from its own counts; the throttle's draws must reject at that rate.
    const clock = manualClock();
    const throttle = adaptiveThrottle({ clock, random: seededRandom(7) });
    const backend = seededRandom(99);
    let requests = 0;
    let accepts = 0;
    let expected = 0;
    let rejected = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const p = formula(requests, accepts, 2);
      expect(throttle.probability).toBeCloseTo(p, 12);
      expected += p;
      requests++;
      const permit = throttle.tryAcquire();
      if (permit === undefined) {
        rejected++;
        continue;
      }
      if (backend() < 0.4) {
        accepts++;
        permit.accepted();
      } else {
        permit.rejected();
      }
    }
    expect(expected / n).toBeGreaterThan(0.2); // the workload really throttles
    expect(Math.abs(rejected - expected) / n).toBeLessThan(0.02);
  });

  it('against a backend of fixed capacity the client sends about k times what it accepts', () => {
    // 1 000 requests/s offered, backend capacity 100 accepts/s, k = 2: the steady state sends
    // 200/s, i.e. rejects 1 − k·C/R = 80 % locally.
    const clock = manualClock();
    const throttle = adaptiveThrottle({
      clock,
      window: 10_000,
      buckets: 10,
      random: seededRandom(3),
    });
    // Token bucket: 0.1 accepts per ms, bursts up to 100 (so no capacity is lost to gaps).
    let tokens = 100;
    let offered = 0;
    let throttled = 0;
    for (let t = 0; t < 60_000; t++) {
      clock.t = t;
      tokens = Math.min(100, tokens + 0.1);
      const permit = throttle.tryAcquire();
      const measuring = t >= 20_000;
      if (measuring) offered++;
      if (permit === undefined) {
        if (measuring) throttled++;
      } else if (tokens >= 1) {
        tokens -= 1;
        permit.accepted();
      } else {
        permit.rejected();
      }
    }
    expect(throttled / offered).toBeCloseTo(0.8, 1);
    expect(Math.abs(throttled / offered - 0.8)).toBeLessThan(0.02);
  });

  it('a fresh throttle in front of a healthy backend rejects none of 20 concurrent first calls', async () => {
    // Issue 14 item 18: requests were counted when sent and accepts only when answered, so while
    // the first 20 calls were in flight the i-th saw p = i / (i + 1): 15 of 20 were throttled
    // and p stayed at 0.48. A request in flight has not been rejected; as in grpc-java's
    // AdaptiveThrottler (registerBackendResponse), it counts once its outcome is known.
    const clock = new VirtualClock();
    const throttle = adaptiveThrottle({ clock, random: seededRandom(1) });
    const calls = Array.from({ length: 20 }, (_, i) =>
      throttle.execute(async () => {
        await clock.sleep(10);
        return i;
      }),
    );
    expect(throttle.probability).toBe(0);
    await clock.runAll();
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(throttle.requests).toBe(20);
    expect(throttle.accepts).toBe(20);
    expect(throttle.probability).toBe(0);
    // The low-level API alike: permits in flight are neither requests nor rejections yet.
    const fresh = adaptiveThrottle({ clock, random: () => 0 });
    const permits = Array.from({ length: 20 }, () => fresh.tryAcquire());
    expect(permits.every((permit) => permit !== undefined)).toBe(true);
    expect(fresh.requests).toBe(0);
    for (const permit of permits) permit!.accepted();
    expect([fresh.requests, fresh.accepts, fresh.probability]).toEqual([20, 20, 0]);
  });

  it('during an overload, calls in flight do not raise the rejection probability', () => {
    const clock = manualClock();
    const throttle = adaptiveThrottle({ clock, random: () => 0.999_999_9 });
    for (let i = 0; i < 10; i++) throttle.tryAcquire()!.rejected();
    for (let i = 0; i < 10; i++) throttle.tryAcquire()!.accepted();
    const before = throttle.probability;
    expect(before).toBeCloseTo(formula(20, 10, 2), 12); // 0: (20 − 20) / 21
    const inFlight = Array.from({ length: 50 }, () => throttle.tryAcquire()!);
    expect(throttle.probability).toBe(before);
    for (const permit of inFlight) permit.rejected();
    expect(throttle.probability).toBeCloseTo(formula(70, 10, 2), 12);
  });

  it('does not throttle below minimumRequests, and forgets with the window', () => {
    const clock = manualClock();
    const throttle = adaptiveThrottle({
      clock,
      window: 1_000,
      buckets: 4,
      minimumRequests: 10,
      random: () => 0,
    });
    for (let i = 0; i < 10; i++) throttle.tryAcquire()!.rejected();
    expect(throttle.tryAcquire()).toBeUndefined(); // 10 requests, 0 accepts: p = 10/11
    clock.t = 1_000; // everything left the window
    expect(throttle.probability).toBe(0);
    expect(throttle.tryAcquire()).toBeDefined();
  });

  it('expires by time across idle gaps: after an idle hour the old rejections count for nothing', () => {
    // The stale-window bug class of js-peers.md §3.3, for the throttle: slices are expired by
    // the clock, not by the traffic, so old counts cannot come back after a silence.
    const clock = manualClock();
    const throttle = adaptiveThrottle({ clock, window: 120_000, buckets: 12, random: () => 0 });
    for (let i = 0; i < 100; i++) {
      clock.t = i * 1_000; // 100 s of an overloaded backend
      throttle.tryAcquire()?.rejected();
    }
    expect(throttle.probability).toBeGreaterThan(0.9);
    clock.t += 3_600_000;
    expect(throttle.requests).toBe(0);
    expect(throttle.probability).toBe(0);
    const first = throttle.tryAcquire();
    expect(first).toBeDefined();
    first!.accepted();
    // A gap shorter than the window keeps what is still inside it.
    clock.t += 60_000;
    for (let i = 0; i < 3; i++) throttle.tryAcquire()!.accepted();
    clock.t += 60_000; // the first request is now older than the window; the other three are not
    expect(throttle.requests).toBe(3);
    expect(throttle.accepts).toBe(3);
  });

  it('never draws a random number while nothing is being rejected', async () => {
    let draws = 0;
    const throttle = adaptiveThrottle({
      clock: manualClock(),
      random: () => {
        draws++;
        return 0.5;
      },
    });
    for (let i = 0; i < 100; i++) await throttle.execute(() => 'ok');
    expect(draws).toBe(0);
    expect(throttle.accepts).toBe(100);
  });

  it('rejects with ThrottledError without calling fn, and emits onReject', async () => {
    const throttle = adaptiveThrottle({ clock: manualClock(), random: () => 0 });
    await throttle
      .execute(() => Promise.reject(Object.assign(new Error('busy'), { status: 503 })))
      .catch(() => {});
    const events: number[] = [];
    throttle.onReject((e) => events.push(e.probability));
    const error = await refusal((task) => throttle.execute(task));
    expect(error).toBeInstanceOf(ThrottledError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect((error as ThrottledError).code).toBe('THROTTLED');
    expect((error as ThrottledError).probability).toBeCloseTo(0.5, 12); // (1 − 0) / 2
    expect(events).toEqual([(error as ThrottledError).probability]);
  });

  it('counts overload outcomes (429/503/ExecutionRejectedError) as not accepted by default', async () => {
    const throttle = adaptiveThrottle({ clock: manualClock(), random: () => 0.999_999_9 });
    await throttle.execute(() => ({ status: 503 }));
    await throttle.execute(() => Promise.reject({ statusCode: 429 })).catch(() => {});
    await throttle
      .execute(() => Promise.reject(new ExecutionRejectedError('t', { code: 'TIMEOUT' })))
      .catch(() => {});
    expect(throttle.accepts).toBe(0);
    await throttle.execute(() => ({ status: 200 }));
    await throttle.execute(() => Promise.reject(new Error('404 is not overload'))).catch(() => {});
    await throttle.execute(() => Promise.reject({ response: { status: 500 } })).catch(() => {});
    expect(throttle.accepts).toBe(3);
    expect(throttle.requests).toBe(6);
    expect(handleOverload({ ok: false, error: { response: { status: 429 } } }, {} as never)).toBe(
      true,
    );
  });

  it('a caller abort takes the request back instead of counting it', async () => {
    const throttle = adaptiveThrottle({ clock: manualClock() });
    const controller = new AbortController();
    const run = throttle.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort(new Error('bye'));
    await run.catch(() => {});
    expect(throttle.requests).toBe(0);
    const permit = throttle.tryAcquire()!;
    permit.ignore();
    permit.accepted(); // ignored: already reported
    expect(throttle.requests).toBe(0);
    expect(throttle.accepts).toBe(0);
  });

  it('a throwing shouldHandle propagates its error and takes the request back', async () => {
    // Bug: the request stayed counted with no accept, i.e. as an overload rejection, so a
    // classifier bug raised the local rejection probability.
    const classifierBug = new Error('classifier bug');
    const throttle = adaptiveThrottle({
      clock: manualClock(),
      shouldHandle: () => {
        throw classifierBug;
      },
    });
    await expect(throttle.execute(() => Promise.reject(new Error('x')))).rejects.toBe(
      classifierBug,
    );
    await expect(throttle.execute(() => 'value')).rejects.toBe(classifierBug);
    expect(throttle.requests).toBe(0);
    expect(throttle.accepts).toBe(0);
    expect(throttle.probability).toBe(0);
  });

  // Without a signal (the root context) a call runs without an async function of its own; with
  // one, through it. Both must treat every shape of fn the same way.
  for (const withSignal of [false, true]) {
    const how = withSignal ? 'with a signal' : 'without a signal';
    const signal = withSignal ? new AbortController().signal : undefined;

    it(`${how}: synchronous throws, plain values and thenables are answers`, async () => {
      // A draw just under 1 is never below the probability: nothing is throttled locally.
      const throttle = adaptiveThrottle({ clock: manualClock(), random: () => 0.999_999_9 });
      const overloaded = Object.assign(new Error('busy'), { status: 503 });
      const first = throttle.execute(() => {
        throw overloaded;
      }, signal);
      expect(first).toBeInstanceOf(Promise);
      await expect(first).rejects.toBe(overloaded);
      expect([throttle.requests, throttle.accepts]).toEqual([1, 0]);
      await expect(throttle.execute(() => 7, signal)).resolves.toBe(7);
      const thenable = {
        // biome-ignore lint/suspicious/noThenProperty: a foreign thenable on purpose
        then: (resolve: (v: string) => void) => resolve('thenable'),
      } as PromiseLike<string>;
      await expect(throttle.execute(() => thenable, signal)).resolves.toBe('thenable');
      await expect(throttle.execute(() => ({ status: 429 }), signal)).resolves.toEqual({
        status: 429,
      });
      expect([throttle.requests, throttle.accepts]).toEqual([4, 2]);
    });

    it(`${how}: a throwing shouldHandle on a synchronous throw rejects with its error`, async () => {
      const classifierBug = new Error('classifier bug');
      const throttle = adaptiveThrottle({
        clock: manualClock(),
        shouldHandle: () => {
          throw classifierBug;
        },
      });
      const call = throttle.execute(() => {
        throw new Error('sync');
      }, signal);
      await expect(call).rejects.toBe(classifierBug);
      expect(throttle.requests).toBe(0);
    });
  }

  it('a random source returning NaN fails the call instead of switching throttling off', async () => {
    // `random() < p` is false for NaN, so a broken source never throttled (issue 14 item 20).
    const throttle = adaptiveThrottle({ clock: manualClock(), random: () => Number.NaN });
    await throttle.execute(() => ({ status: 503 })); // p > 0 from here on
    await expect(throttle.execute(() => 'x')).rejects.toThrow(
      /^adaptiveThrottle: option "random" must return a number in \[0, 1\)/,
    );
    expect(() => throttle.tryAcquire()).toThrow(RangeError);
  });

  it('describe() reports the configuration', () => {
    expect(adaptiveThrottle({ k: 1.5 }).describe()).toEqual({
      name: 'adaptiveThrottle',
      options: { k: 1.5, window: 120_000, buckets: 12, minimumRequests: 0 },
    });
  });
});
