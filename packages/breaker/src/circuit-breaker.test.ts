import { type Clock, VirtualClock } from '@faultline/clock';
import {
  type Backoff,
  type Context,
  ExecutionRejectedError,
  handleResults,
  pipeline,
  seededRandom,
} from '@faultline/core';
import { deferred, refusal } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError, IsolatedCircuitError } from './circuit-breaker-errors.js';
import type { StateChangeEvent } from './circuit-breaker-events.js';
import { consecutiveFailures } from './consecutive-failures.js';
import { failureRate } from './failure-rate.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');
/** Runs until its signal aborts, then rejects with the abort reason. */
const untilAborted = ({ signal }: Context) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

async function trip(
  breaker: { execute: (fn: () => Promise<unknown>) => Promise<unknown> },
  n: number,
) {
  for (let i = 0; i < n; i++) await breaker.execute(boom).catch(() => {});
}

/** A breaker on `clock` that opens on one failure, already opened for `breakDuration`. */
async function openedOn(clock: Clock, breakDuration: number) {
  const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration, clock });
  await trip(breaker, 1);
  return breaker;
}

describe('circuitBreaker: closed and open', () => {
  it('opens after n consecutive failures and fails fast without calling fn', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(3), clock });
    await trip(breaker, 2);
    await breaker.execute(ok);
    await trip(breaker, 2);
    expect(breaker.state).toBe('closed');
    await trip(breaker, 1);
    expect(breaker.state).toBe('open');
    const error = await refusal((task) => breaker.execute(task));
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect((error as BrokenCircuitError).code).toBe('BROKEN_CIRCUIT');
  });

  it('retryAfter on BrokenCircuitError is the remaining break time', async () => {
    const clock = new VirtualClock(10_000);
    const breaker = await openedOn(clock, 5_000);
    for (const [advance, remaining] of [
      [0, 5_000],
      [1_200, 3_800],
      [3_799, 1],
    ] as const) {
      await clock.advance(advance);
      const error = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
      expect(error.retryAfter).toBe(remaining);
    }
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('BrokenCircuitError: retryAfter in whole ms, rounded up, and said in the message', async () => {
    // Issue 14 item 24: errors showed retryAfter=4999.314952000001 (monotonic time is fractional).
    // Rounded up, a caller that waits retryAfter never comes back before the break has elapsed.
    const clock = new VirtualClock(1_000.25);
    const breaker = await openedOn(clock, 5_000);
    await clock.advance(0.685047999999);
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(error.retryAfter).toBe(5_000);
    expect(error.message).toBe('circuit is open (retry after 5000 ms)');
    await clock.advance(4_999.32);
    expect(breaker.state).toBe('half-open');
    const probe = breaker.execute(() => new Promise(() => {}));
    const busy = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(busy.message).toBe(
      'circuit is half-open and its probes are in flight (retry after 5000 ms)',
    );
    void probe;
  });

  it('the break elapses exactly when now - openedAt ≥ breakDuration, with fractional times', async () => {
    // openedAt + breakDuration rounds up here (3060.007413739685 + 7446 = 10506.007413739686),
    // while now - openedAt is one ulp short of 7446: the break has not elapsed.
    const clock = {
      t: 3060.007413739685,
      now: () => clock.t,
      sleep: async () => {},
      setTimer: () => () => {},
    };
    const breaker = await openedOn(clock, 7_446);
    clock.t = 10506.007413739684;
    expect(clock.t - 3060.007413739685).toBeLessThan(7_446);
    expect(breaker.state).toBe('open');
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(error.retryAfter).toBeGreaterThan(0);
    clock.t = 10506.007413739686;
    expect(breaker.state).toBe('half-open');
  });

  it('uses no timers at all: the state is computed lazily and exactly', async () => {
    const clock = new VirtualClock();
    const breaker = await openedOn(clock, 1_000);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes values and errors through unchanged', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(5) });
    await expect(breaker.execute(() => 42)).resolves.toBe(42);
    const error = new TypeError('mine');
    await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
    await expect(
      breaker.execute(() => {
        throw error;
      }),
    ).rejects.toBe(error);
  });

  it('never counts a rejection caused by the caller aborting', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1) });
    const controller = new AbortController();
    const run = breaker.execute(untilAborted, controller.signal);
    controller.abort(new Error('caller gave up'));
    await expect(run).rejects.toThrow('caller gave up');
    expect(breaker.state).toBe('closed');
  });

  it('ignores outcomes of calls admitted before the last transition', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 1_000, clock });
    const slow = deferred<string>();
    const started = breaker.execute(() => slow.promise);
    await trip(breaker, 1); // opens while the slow call is still running
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    slow.resolve('late');
    await started;
    // A success from the closed era must not close the half-open circuit (nor use its probe).
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('counts handled results as failures and unhandled errors as successes', async () => {
    const breaker = circuitBreaker({
      trip: consecutiveFailures(2),
      shouldHandle: handleResults<{ status: number }>((r) => r.status === 503),
    });
    await breaker.execute(() => ({ status: 503 }));
    await breaker.execute(() => Promise.reject(new Error('not handled'))).catch(() => {});
    await breaker.execute(() => ({ status: 503 }));
    expect(breaker.state).toBe('closed');
    await breaker.execute(() => ({ status: 503 }));
    expect(breaker.state).toBe('open');
  });

  it('works inside a pipeline', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1) });
    const policy = pipeline(breaker);
    await expect(policy.execute(ok)).resolves.toBe('ok');
  });
});

describe('circuitBreaker: half-open', () => {
  it('with probes: 3 admits exactly 3 concurrent probes and rejects the 4th at once', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 1_000,
      halfOpen: { probes: 3 },
      clock,
    });
    await trip(breaker, 1);
    await clock.advance(1_000);
    const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
    let calls = 0;
    const probes = gates.map((gate) =>
      breaker.execute(() => {
        calls++;
        return gate.promise;
      }),
    );
    expect(calls).toBe(3);
    // The 4th is rejected without waiting for anything (no queueing) and without calling fn.
    const fourth = breaker.execute(() => {
      calls++;
      return 'never';
    });
    const outcome = await Promise.race([
      fourth.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      new Promise((resolve) => setImmediate(() => resolve('still pending'))),
    ]);
    expect(outcome).toBeInstanceOf(BrokenCircuitError);
    expect((outcome as BrokenCircuitError).message).toMatch(/half-open/);
    expect(calls).toBe(3);
    // Two successes are not enough; the third closes the circuit.
    gates[0]!.resolve('a');
    gates[1]!.resolve('b');
    await Promise.all(probes.slice(0, 2));
    expect(breaker.state).toBe('half-open');
    gates[2]!.resolve('c');
    await probes[2];
    expect(breaker.state).toBe('closed');
  });

  it('a hung probe does not wedge the breaker: after another break duration a new probe runs', async () => {
    const clock = new VirtualClock();
    const breaker = await openedOn(clock, 5_000);
    await clock.advance(5_000);
    const hung = deferred<string>();
    const hungProbe = breaker.execute(() => hung.promise); // never settles (for now)
    await clock.advance(4_999);
    const early = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(early).toBeInstanceOf(BrokenCircuitError);
    expect(early.retryAfter).toBe(1);
    await clock.advance(1);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    // The abandoned probe failing much later says nothing about the new era.
    hung.reject(new Error('finally failed'));
    await hungProbe.catch(() => {});
    expect(breaker.state).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a failed probe re-opens with the next break duration; closing resets the sequence', async () => {
    const clock = new VirtualClock();
    const backoff: Backoff = {
      *delays() {
        yield 100;
        yield 200;
        yield 400;
      },
    };
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: backoff, clock });
    const opens: number[] = [];
    breaker.onOpen((e) => opens.push(e.breakDuration));
    await trip(breaker, 1);
    await clock.advance(100);
    await trip(breaker, 1); // the probe fails
    await clock.advance(200);
    await trip(breaker, 1);
    await clock.advance(400);
    await trip(breaker, 1); // the backoff is exhausted: keeps its last value
    await clock.advance(400);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await trip(breaker, 1);
    expect(opens).toEqual([100, 200, 400, 400, 100]);
  });

  it('passes attempt, failures and failure rate to a break-duration function', async () => {
    const clock = new VirtualClock();
    const seen: unknown[] = [];
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.5, minimumThroughput: 4, window: { calls: 4 } }),
      breakDuration: (ctx) => {
        seen.push(ctx);
        return 1_000 * ctx.attempt;
      },
      clock,
    });
    await breaker.execute(ok);
    await breaker.execute(ok);
    await breaker.execute(boom).catch(() => {});
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    await breaker.execute(boom).catch(() => {});
    expect(breaker.toJSON().remainingBreak).toBe(2_000);
    expect(seen).toEqual([
      { attempt: 1, failures: 2, failureRate: 0.5 },
      { attempt: 2, failures: 2, failureRate: 0.5 },
    ]);
  });

  it('a break-duration function returning garbage is reported, naming the option', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: () => -1 });
    await expect(breaker.execute(boom)).rejects.toThrow(/breakDuration.*-1/);
  });

  it('a throwing shouldHandle propagates its error and frees the probe slot', async () => {
    // Bug: the classifier's throw skipped the bookkeeping, so the probe slot stayed taken and
    // every caller was rejected for another whole break duration.
    const clock = new VirtualClock();
    const classifierBug = new Error('classifier bug');
    let throwing = false;
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 1_000,
      clock,
      shouldHandle: (outcome) => {
        if (throwing) throw classifierBug;
        return !outcome.ok;
      },
    });
    await trip(breaker, 1);
    await clock.advance(1_000);
    throwing = true;
    await expect(breaker.execute(boom)).rejects.toBe(classifierBug);
    await expect(breaker.execute(ok)).rejects.toBe(classifierBug); // results are classified too
    expect(breaker.state).toBe('half-open');
    throwing = false;
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  // Without a signal (the root context) a call runs without an async function of its own; with
  // one, through it. Both must treat every shape of fn the same way.
  for (const withSignal of [false, true]) {
    const how = withSignal ? 'with a signal' : 'without a signal';
    const signal = withSignal ? new AbortController().signal : undefined;

    it(`${how}: a synchronous throw counts as a failure and rejects, never throws`, async () => {
      const breaker = circuitBreaker({ trip: consecutiveFailures(2) });
      const error = new Error('sync');
      const thrower = () => {
        throw error;
      };
      const first = breaker.execute(thrower, signal);
      expect(first).toBeInstanceOf(Promise);
      await expect(first).rejects.toBe(error);
      expect(breaker.state).toBe('closed');
      await expect(breaker.execute(thrower, signal)).rejects.toBe(error);
      expect(breaker.state).toBe('open');
      await expect(breaker.execute(ok, signal)).rejects.toBeInstanceOf(BrokenCircuitError);
    });

    it(`${how}: plain values and thenables pass through and count as successes`, async () => {
      const breaker = circuitBreaker({ trip: consecutiveFailures(2) });
      await breaker.execute(boom, signal).catch(() => {});
      await expect(breaker.execute(() => 42, signal)).resolves.toBe(42);
      await breaker.execute(boom, signal).catch(() => {});
      const thenable = {
        // biome-ignore lint/suspicious/noThenProperty: a foreign thenable on purpose
        then: (resolve: (v: string) => void) => resolve('thenable'),
      } as PromiseLike<string>;
      await expect(breaker.execute(() => thenable, signal)).resolves.toBe('thenable');
      await breaker.execute(boom, signal).catch(() => {});
      expect(breaker.state).toBe('closed'); // every success broke the run of failures
      const rejecting = {
        // biome-ignore lint/suspicious/noThenProperty: a foreign thenable on purpose
        then: (_: unknown, reject: (e: unknown) => void) => reject('no'),
      };
      await expect(breaker.execute(() => rejecting, signal)).rejects.toBe('no');
      expect(breaker.state).toBe('open');
    });

    it(`${how}: a throwing shouldHandle on a synchronous throw rejects with its error`, async () => {
      const classifierBug = new Error('classifier bug');
      const breaker = circuitBreaker({
        trip: consecutiveFailures(1),
        shouldHandle: () => {
          throw classifierBug;
        },
      });
      const call = breaker.execute(() => {
        throw new Error('sync');
      }, signal);
      await expect(call).rejects.toBe(classifierBug);
      expect(breaker.state).toBe('closed');
    });

    it(`${how}: an outcome admitted before a transition counts for nothing`, async () => {
      const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 60_000 });
      const slow = deferred<string>();
      const stale = breaker.execute(() => slow.promise, signal);
      await breaker.execute(boom, signal).catch(() => {});
      expect(breaker.state).toBe('open');
      breaker.close();
      await breaker.execute(boom, signal).catch(() => {}); // opens again
      breaker.close();
      slow.reject(new Error('late'));
      await expect(stale).rejects.toThrow('late');
      expect(breaker.state).toBe('closed'); // admitted two closings ago: not counted
    });
  }

  it('a probe aborted by its caller frees its slot without deciding', async () => {
    const clock = new VirtualClock();
    const breaker = await openedOn(clock, 1_000);
    await clock.advance(1_000);
    const controller = new AbortController();
    const probe = breaker.execute(untilAborted, controller.signal);
    controller.abort(new Error('bye'));
    await probe.catch(() => {});
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: isolate and close', () => {
  it('isolate() holds the circuit open until every handle is released', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1) });
    const releaseA = breaker.isolate();
    const releaseB = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsolatedCircuitError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect((error as IsolatedCircuitError).retryAfter).toBeUndefined();
    releaseA();
    releaseA(); // idempotent
    expect(breaker.state).toBe('isolated');
    releaseB();
    expect(breaker.state).toBe('closed');
  });

  it('close() forces closed from any state and voids isolation handles', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(2), clock });
    await trip(breaker, 2);
    expect(breaker.state).toBe('open');
    breaker.close();
    expect(breaker.state).toBe('closed');
    const release = breaker.isolate();
    breaker.close();
    expect(breaker.state).toBe('closed');
    const again = breaker.isolate();
    release(); // from before close(): void
    expect(breaker.state).toBe('isolated');
    again();
    expect(breaker.state).toBe('closed');
    // close() also empties the window.
    await trip(breaker, 1);
    breaker.close();
    await trip(breaker, 1);
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: late outcomes', () => {
  it('a probe settling after isolate() or close() decides nothing', async () => {
    const clock = new VirtualClock();
    const breaker = await openedOn(clock, 1_000);
    await clock.advance(1_000);
    const first = deferred<string>();
    const probe1 = breaker.execute(() => first.promise);
    const release = breaker.isolate();
    first.reject(new Error('late failure'));
    await probe1.catch(() => {});
    expect(breaker.state).toBe('isolated');
    release();
    expect(breaker.state).toBe('closed');

    await trip(breaker, 1);
    await clock.advance(1_000);
    const second = deferred<string>();
    const probe2 = breaker.execute(() => second.promise);
    breaker.close();
    second.reject(new Error('late failure'));
    await probe2.catch(() => {});
    expect(breaker.state).toBe('closed'); // consecutiveFailures(1) would have opened on it
  });

  it('a slow failure counts once as a call, and as both a failure and a slow call', async () => {
    const clock = new VirtualClock();
    const opened: Array<{ failures: number; failureRate: number }> = [];
    const breaker = circuitBreaker({
      trip: failureRate({
        threshold: 0.75,
        minimumThroughput: 2,
        window: 10_000,
        slowCall: { duration: 100, threshold: 0.5 },
      }),
      clock,
    });
    breaker.onOpen((e) => opened.push({ failures: e.failures, failureRate: e.failureRate }));
    await breaker.execute(ok);
    const slowFailure = breaker
      .execute(async () => {
        await clock.sleep(101);
        throw new Error('slow and failed');
      })
      .catch((e: unknown) => e);
    await clock.advance(101);
    expect(await slowFailure).toBeInstanceOf(Error);
    // Failures 1 / 2 < 0.75, slow calls 1 / 2 ≥ 0.5: the slow-call rate opened it. Had the call
    // been counted twice, slow calls would be 1 / 3.
    expect(breaker.state).toBe('open');
    expect(opened).toEqual([{ failures: 1, failureRate: 0.5 }]);
  });
});

describe('circuitBreaker: events and low level', () => {
  it('emits state changes, open / half-open / close, rejections and failures', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 100, clock });
    const changes: StateChangeEvent[] = [];
    const log: string[] = [];
    breaker.onStateChange((e) => changes.push(e));
    breaker.onOpen((e) => log.push(`open:${e.attempt}:${e.breakDuration}:${e.reason}`));
    breaker.onHalfOpen((e) => log.push(`half-open:${e.reason}`));
    breaker.onClose((e) => log.push(`close:${e.reason}`));
    breaker.onReject((e) => log.push(`reject:${e.state}:${e.retryAfter}`));
    const unsubscribe = breaker.onFailure((e) => log.push(`failure:${e.state}`));
    await trip(breaker, 1);
    unsubscribe();
    await breaker.execute(ok).catch(() => {});
    await clock.advance(100);
    await breaker.execute(ok);
    breaker.isolate()();
    expect(log).toEqual([
      'failure:closed',
      'open:1:100:failure-threshold',
      'reject:open:100',
      'half-open:break-elapsed',
      'close:probes-succeeded',
      'close:released',
    ]);
    expect(changes.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual([
      'closed>open:failure-threshold',
      'open>half-open:break-elapsed',
      'half-open>closed:probes-succeeded',
      'closed>isolated:isolated',
      'isolated>closed:released',
    ]);
  });

  it('a throwing listener does not change the call outcome', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1) });
    breaker.onOpen(() => {
      throw new Error('listener bug');
    });
    const reported: unknown[] = [];
    const original = globalThis.reportError;
    globalThis.reportError = (e: unknown) => reported.push(e);
    try {
      await expect(breaker.execute(boom)).rejects.toThrow('boom');
    } finally {
      globalThis.reportError = original;
    }
    expect(reported).toHaveLength(1);
    expect(breaker.state).toBe('open');
  });

  it('tryAcquire() gives permits; each reports once; rejection gives undefined', () => {
    let t = 0;
    const clock = { now: () => t, sleep: () => Promise.resolve(), setTimer: () => () => {} };
    const breaker = circuitBreaker({
      trip: failureRate({
        minimumThroughput: 2,
        window: { calls: 2 },
        slowCall: { duration: 50, threshold: 1 },
      }),
      breakDuration: 10,
      clock,
    });
    const a = breaker.tryAcquire()!;
    a.success(51);
    a.failure(0); // ignored: already reported
    expect(breaker.state).toBe('closed');
    breaker.tryAcquire()!.success(60); // both slow: slow-call rate 1 ≥ 1
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();
    t = 10;
    const probe = breaker.tryAcquire()!;
    expect(breaker.tryAcquire()).toBeUndefined();
    probe.ignore();
    const probe2 = breaker.tryAcquire()!;
    expect(() => probe2.success(-1)).toThrow(RangeError);
    expect(() => probe2.success('1' as unknown as number)).toThrow(TypeError);
    probe2.success(1);
    expect(breaker.state).toBe('closed');
  });

  it('a slow call through execute counts against the slow-call rate', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: failureRate({
        minimumThroughput: 2,
        window: 10_000,
        slowCall: { duration: 100, threshold: 0.5 },
      }),
      clock,
    });
    await breaker.execute(ok);
    const slow = breaker.execute(() => clock.sleep(150));
    await clock.advance(150);
    await slow;
    expect(breaker.state).toBe('open');
  });

  it('a random source outside [0, 1] fails naming the breaker option, not a silent 0 ms break', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      // A jittered break duration: 1 s × the draw.
      breakDuration: {
        delays: (random) => ({ next: () => ({ value: 1_000 * random!(), done: false }) }),
      },
      random: () => Number.NaN,
      clock,
    });
    const fail = () => Promise.reject(new Error('down'));
    await expect(breaker.execute(fail)).rejects.toThrow(
      /^circuitBreaker: option "random" must return a number in \[0, 1\)/,
    );
  });

  it('describe() reports the configuration', () => {
    const breaker = circuitBreaker({
      trip: failureRate({ threshold: 0.25, window: { calls: 50 } }),
      halfOpen: { probes: 2 },
      random: seededRandom(1),
    });
    expect(breaker.describe()).toEqual({
      name: 'circuitBreaker',
      options: {
        trip: {
          name: 'failureRate',
          options: { threshold: 0.25, minimumThroughput: 20, window: { calls: 50 } },
        },
        breakDuration: 5_000,
        halfOpen: { probes: 2 },
        shouldHandle: 'handleAll',
      },
    });
    expect(circuitBreaker({ trip: consecutiveFailures() }).describe().options.trip).toEqual({
      name: 'consecutiveFailures',
      options: { n: 5 },
    });
  });
});

describe('circuitBreaker: execute and permits agree', () => {
  it('the same outcome sequence drives execute() and tryAcquire() permits to the same states', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('ok', 'fail', 'advance'), { minLength: 5, maxLength: 60 }),
        async (steps) => {
          const clock = new VirtualClock();
          const options = {
            trip: failureRate({ threshold: 0.5, minimumThroughput: 3, window: 2_000, buckets: 4 }),
            breakDuration: 700,
            clock,
          };
          const viaExecute = circuitBreaker(options);
          const viaPermits = circuitBreaker(options);
          for (const step of steps) {
            if (step === 'advance') {
              await clock.advance(400);
            } else {
              const rejectedA = await viaExecute
                .execute(() => (step === 'ok' ? 'ok' : Promise.reject(new Error('x'))))
                .then(
                  () => false,
                  (e: unknown) => e instanceof BrokenCircuitError,
                );
              const permit = viaPermits.tryAcquire();
              if (permit) {
                if (step === 'ok') permit.success();
                else permit.failure();
              }
              expect(rejectedA).toBe(permit === undefined);
            }
            expect(viaExecute.state).toBe(viaPermits.state);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
