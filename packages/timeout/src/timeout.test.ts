import { getEventListeners } from 'node:events';
import { Deadline, VirtualClock } from '@faultline/clock';
import {
  bulkhead,
  type Context,
  type ExecutionContext,
  ExecutionRejectedError,
  executeInContext,
  isExecutionRejected,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  RootContext,
  type Task,
} from '@faultline/core';
import { expectSyncOutcomes } from '@faultline/test-support/browser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timeout } from './timeout.js';
import { TimeoutError } from './timeout-errors.js';
import type { TimeoutEvent } from './timeout-events.js';

/** Tracks a promise's outcome without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

const never = () => new Promise<never>(() => {});

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Lets pending promise reactions (and unhandled-rejection detection) run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('timeout: success path', () => {
  it('returns the value, sets one timer and clears it', async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock });
    const result = track(policy.execute(async () => 42));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(0);
    expect(result).toEqual({ settled: true, value: 42 });
    expect(clock.pendingTimers).toBe(0);
  });

  it("clears the timer behind the deadline's signal it handed out once the call settles", async () => {
    // The policy made that Deadline, so it disposes of it: else every call that read
    // ctx.deadline.signal() left a timer until the deadline passed.
    const clock = new VirtualClock();
    for (const strategy of ['aggressive', 'cooperative'] as const) {
      const policy = timeout(1000, { clock, strategy });
      let signal!: AbortSignal;
      const result = track(
        policy.execute(async (ctx) => {
          signal = ctx.deadline.signal();
          return 42;
        }),
      );
      await clock.advance(0);
      expect(result.value).toBe(42);
      expect(clock.pendingTimers).toBe(0);
      expect(signal.aborted).toBe(false);
    }
  });

  it('returns a synchronous value without a timer, and rejects with a synchronous throw', async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock });
    await expectSyncOutcomes(policy);
    expect(clock.pendingTimers).toBe(0);
  });

  it("passes the function's own errors through unchanged", async () => {
    const clock = new VirtualClock();
    for (const strategy of ['aggressive', 'cooperative'] as const) {
      const boom = new TypeError('own');
      await expect(
        timeout(1000, { clock, strategy }).execute(async () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('Infinity adds no timer', async () => {
    const clock = new VirtualClock();
    const policy = timeout(Number.POSITIVE_INFINITY, { clock });
    await expect(policy.execute(async (ctx) => ctx.deadline)).resolves.toBe(Deadline.never);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('timeout: aggressive', () => {
  it('abandons a function that ignores its signal at the timeout; its later rejection is handled', async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock });
    const events: TimeoutEvent[] = [];
    policy.onTimeout((event) => events.push(event));
    let rejectLater!: (error: Error) => void;
    let seen!: Context;
    const result = track(
      policy.execute((ctx) => {
        seen = ctx;
        return new Promise((_, reject) => {
          rejectLater = reject;
        });
      }),
    );
    await clock.advance(999);
    expect(result.settled).toBe(false);
    await clock.advance(1);
    expect(result.settled).toBe(true);
    expect(result.error).toBeInstanceOf(TimeoutError);
    const error = result.error as TimeoutError;
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect(isExecutionRejected(error)).toBe(true);
    expect(error.name).toBe('TimeoutError');
    expect(error.code).toBe('TIMEOUT');
    expect(error.timeout).toBe(1000);
    expect(events).toEqual([{ timeout: 1000, elapsed: 1000 }]);
    // The signal the function got (read late, as a slow client would) is aborted with the error.
    expect(seen.signal.aborted).toBe(true);
    expect(seen.signal.reason).toBe(error);
    // The abandoned execution fails later: that rejection must not surface as unhandled.
    rejectLater(new Error('late failure'));
    await flush();
    await flush();
    expect(unhandled).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never-settling work is abandoned: the call rejects although the work never ends', async () => {
    const clock = new VirtualClock();
    const result = track(timeout(50, { clock }).execute(never));
    await clock.advance(50);
    expect(result.error).toBeInstanceOf(TimeoutError);
  });

  it("a caller's abort rejects at once with its reason, is no timeout, and leaves no listener", async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock });
    const events: TimeoutEvent[] = [];
    policy.onTimeout((event) => events.push(event));
    const caller = new AbortController();
    const result = track(policy.execute(never, caller.signal));
    await clock.advance(300);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('user cancelled');
    caller.abort(reason);
    await flush();
    expect(result).toEqual({ settled: true, error: reason });
    await clock.advance(2000);
    expect(events).toEqual([]);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a caller abort and the timeout in the same instant: whichever runs first decides, once', async () => {
    for (const abortFirst of [true, false]) {
      const clock = new VirtualClock();
      const policy = timeout(100, { clock });
      const events: TimeoutEvent[] = [];
      policy.onTimeout((event) => events.push(event));
      const caller = new AbortController();
      // Timers due at the same time fire in creation order.
      if (abortFirst) clock.setTimer(100, () => caller.abort('stop'));
      const result = track(policy.execute(never, caller.signal));
      if (!abortFirst) clock.setTimer(100, () => caller.abort('stop'));
      await clock.advance(100);
      if (abortFirst) {
        expect(result.error).toBe('stop');
        expect(events).toEqual([]);
      } else {
        expect(result.error).toBeInstanceOf(TimeoutError);
        expect(events).toHaveLength(1);
      }
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      expect(clock.pendingTimers).toBe(0);
    }
  });

  it('a caller abort also aborts the signal the function reads, with the same reason', async () => {
    const clock = new VirtualClock();
    const caller = new AbortController();
    let signal!: AbortSignal;
    const result = track(
      timeout(1000, { clock }).execute((ctx) => {
        signal = ctx.signal;
        return never();
      }, caller.signal),
    );
    caller.abort('stop');
    await flush();
    expect(result.error).toBe('stop');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('stop');
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted caller signal rejects without calling the function', async () => {
    let calls = 0;
    const caller = new AbortController();
    caller.abort('gone');
    await expect(
      timeout(1000).execute(async () => {
        calls++;
      }, caller.signal),
    ).rejects.toBe('gone');
    expect(calls).toBe(0);
  });
});

describe('timeout: cooperative', () => {
  it('aborts the signal and rejects with the TimeoutError once a signal-honouring function rejects', async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock, strategy: 'cooperative' });
    const events: TimeoutEvent[] = [];
    policy.onTimeout((event) => events.push(event));
    const result = track(
      policy.execute(
        ({ signal }) =>
          new Promise((_, reject) => {
            // Winds down 20 ms after the abort, like a client closing its connection.
            signal.addEventListener('abort', () =>
              clock.setTimer(20, () => reject(new Error('aborted by signal'))),
            );
          }),
      ),
    );
    await clock.advance(1000);
    expect(result.settled).toBe(false); // cooperative: waits for the function
    expect(events).toEqual([{ timeout: 1000, elapsed: 1000 }]);
    await clock.advance(20);
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect((result.error as TimeoutError).timeout).toBe(1000);
  });

  it('returns the value of a function that still resolves after the abort', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock, strategy: 'cooperative' });
    let aborted = false;
    const result = track(
      policy.execute(({ signal }) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return clock.sleep(150).then(() => 'late but fine');
      }),
    );
    await clock.advance(150);
    expect(aborted).toBe(true);
    expect(result).toEqual({ settled: true, value: 'late but fine' });
  });

  it("a caller's abort rejects with the caller's reason, not a TimeoutError, and fires no onTimeout", async () => {
    const clock = new VirtualClock();
    const policy = timeout(1000, { clock, strategy: 'cooperative' });
    const events: TimeoutEvent[] = [];
    policy.onTimeout((event) => events.push(event));
    const caller = new AbortController();
    const result = track(
      policy.execute(
        ({ signal }) =>
          new Promise((_, reject) => {
            // Honours the signal, but finishes only after the timer would have fired.
            signal.addEventListener('abort', () =>
              clock.setTimer(2000, () => reject(signal.reason)),
            );
          }),
        caller.signal,
      ),
    );
    await clock.advance(500);
    caller.abort(new Error('user left'));
    await clock.advance(2000);
    expect(result.settled).toBe(true);
    expect(result.error).toEqual(new Error('user left'));
    expect(result.error).not.toBeInstanceOf(TimeoutError);
    expect(events).toEqual([]);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});

describe('timeout: deadlines', () => {
  it('nested timeout(1000) outside timeout(5000) gives the inner function a deadline of 1000', async () => {
    const clock = new VirtualClock();
    const outer = timeout(1000, { clock });
    const inner = timeout(5000, { clock });
    let remaining = Number.NaN;
    const events: TimeoutEvent[] = [];
    inner.onTimeout((event) => events.push(event));
    const result = track(
      pipeline(outer, inner).execute((ctx) => {
        remaining = ctx.deadline.remaining();
        return never();
      }),
    );
    expect(remaining).toBe(1000);
    await clock.advance(1000);
    expect(result.error).toBeInstanceOf(TimeoutError);
    // The inner timer was bounded by the enclosing deadline: it fired at 1000, not 5000.
    expect(events).toEqual([{ timeout: 1000, elapsed: 1000 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('nested timeout(5000) outside timeout(1000): the inner deadline is its own 1000', async () => {
    const clock = new VirtualClock();
    let remaining = Number.NaN;
    await pipeline(timeout(5000, { clock }), timeout(1000, { clock })).execute(async (ctx) => {
      remaining = ctx.deadline.remaining();
    });
    expect(remaining).toBe(1000);
  });

  it("an enclosing deadline on another clock is timed on that clock, not on the policy's", async () => {
    // Say a deadline received on systemClock around a policy on a simulator's VirtualClock: the
    // deadline passes when its own clock says so.
    const outerClock = new VirtualClock();
    const innerClock = new VirtualClock();
    const inner = timeout(5000, { clock: innerClock });
    const events: TimeoutEvent[] = [];
    inner.onTimeout((event) => events.push(event));
    const ctx = new RootContext(undefined, Deadline.after(1000, outerClock));
    const result = track(inner[executeInContext](never, ctx));
    await innerClock.advance(1000);
    expect(result.settled).toBe(false);
    await outerClock.advance(1000);
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect(events).toEqual([{ timeout: 1000, elapsed: 1000 }]);
    expect(outerClock.pendingTimers + innerClock.pendingTimers).toBe(0);
  });

  it('rejects at once without calling the function when the enclosing deadline is spent', async () => {
    const clock = new VirtualClock();
    const inner = timeout(1000, { clock });
    let calls = 0;
    const events: TimeoutEvent[] = [];
    inner.onTimeout((event) => events.push(event));
    const spent = new RootContext(undefined, Deadline.after(50, clock));
    await clock.advance(50);
    const error = await inner[executeInContext](async () => {
      calls++;
    }, spent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeout).toBe(0);
    expect(calls).toBe(0);
    expect(events).toEqual([{ timeout: 0, elapsed: 0 }]);
  });

  it('a per-call duration function sees the context', async () => {
    const clock = new VirtualClock();
    const policy = timeout((ctx) => 100 * ctx.attempt, { clock });
    const result = track(policy.execute(never));
    await clock.advance(100);
    expect((result.error as TimeoutError).timeout).toBe(100);
  });

  it('a duration function returning an invalid value rejects the call', async () => {
    await expect(timeout(() => -1).execute(async () => 1)).rejects.toBeInstanceOf(RangeError);
    await expect(
      timeout(() => 'soon' as unknown as number).execute(async () => 1),
    ).rejects.toBeInstanceOf(TypeError);
  });
});

/** A stand-in for retry: runs the rest of the pipeline as attempt 2 via `ctx.withAttempt`. */
class SecondAttempt extends PolicyBase {
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return Promise.resolve(fn(ctx.withAttempt(2)));
  }
  describe(): PolicyDescription {
    return { name: 'secondAttempt', options: {} };
  }
}

describe('timeout: error messages', () => {
  // Issue 14 item 24: "timed out after 610.853 ms" when it was the total deadline that cut the
  // attempt: a raw float, and a duration the user never configured.
  /** What a `duration` timeout rejects with, `elapsed` ms into a task that never settles. */
  async function ownTimeoutError(duration: number, elapsed: number): Promise<TimeoutError> {
    const clock = new VirtualClock();
    const run = timeout(duration, { clock })
      .execute(never)
      .catch((e: unknown) => e);
    await clock.advance(elapsed);
    return (await run) as TimeoutError;
  }

  it('own timeout: the duration rounded to whole ms, source "timeout"', async () => {
    const error = await ownTimeoutError(610.853, 611);
    expect(error.message).toBe('timed out after 611 ms');
    expect(error.timeout).toBe(610.853);
    expect(error.source).toBe('timeout');
  });

  it("cut by an enclosing deadline: says so, with this timeout's own duration", async () => {
    const clock = new VirtualClock();
    const ctx = new RootContext(undefined, Deadline.after(610.853, clock));
    const run = timeout(2_000, { clock })
      [executeInContext](never, ctx)
      .catch((e: unknown) => e);
    await clock.advance(611);
    const error = (await run) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe(
      'timed out after 611 ms: the enclosing deadline expired before this timeout (2000 ms)',
    );
    expect(error.source).toBe('deadline');
    // Already spent when the call arrives.
    await clock.advance(1);
    const spent = (await timeout(2_000, { clock })
      [executeInContext](never, ctx)
      .catch((e: unknown) => e)) as TimeoutError;
    expect(spent.message).toBe(
      'timed out after 0 ms: the enclosing deadline expired before this timeout (2000 ms)',
    );
  });

  it('sub-millisecond timeouts keep two significant digits', async () => {
    expect((await ownTimeoutError(0.25, 1)).message).toBe('timed out after 0.25 ms');
    expect(new TimeoutError(1.2345).message).toBe('timed out after 1.2 ms');
    expect(new TimeoutError(12.5).message).toBe('timed out after 13 ms');
  });
});

describe('timeout: nested policies', () => {
  it("a caller's abort reaches an aggressive timeout inside a cooperative one at once", async () => {
    const clock = new VirtualClock();
    const outer = timeout(5000, { clock, strategy: 'cooperative' });
    const inner = timeout(3000, { clock });
    let timeouts = 0;
    outer.onTimeout(() => timeouts++);
    inner.onTimeout(() => timeouts++);
    const caller = new AbortController();
    let attempt = 0;
    const result = track(
      pipeline(outer, new SecondAttempt(), inner).execute((ctx) => {
        attempt = ctx.attempt;
        return never();
      }, caller.signal),
    );
    await clock.advance(100);
    caller.abort('stop');
    await flush();
    expect(result).toEqual({ settled: true, error: 'stop' });
    expect(attempt).toBe(2);
    await clock.runAll();
    expect(timeouts).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('nested timeouts expiring together report one timeout, and leave no timer', async () => {
    const clock = new VirtualClock();
    const outer = timeout(1000, { clock, strategy: 'cooperative' });
    const inner = timeout(5000, { clock });
    const events: TimeoutEvent[] = [];
    outer.onTimeout((event) => events.push(event));
    inner.onTimeout((event) => events.push(event));
    const result = track(pipeline(outer, new SecondAttempt(), inner).execute(never));
    await clock.advance(999);
    expect(result.settled).toBe(false);
    await clock.advance(1);
    expect(result.error).toBeInstanceOf(TimeoutError);
    // The inner timer, bounded by the enclosing deadline, fires first; the outer one then only
    // sees the inner's rejection and is cleared.
    expect(events).toEqual([{ timeout: 1000, elapsed: 1000 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('without a caller signal, its context tells onAbort subscribers of the timeout after the signal', async () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    try {
      const clock = new VirtualClock();
      const seen: unknown[] = [];
      let context: ExecutionContext | undefined;
      const result = track(
        timeout(1000, { clock }).execute((ctx: Context) => {
          context = ctx as ExecutionContext;
          ctx.signal.addEventListener('abort', () => seen.push('signal'));
          context.onAbort(() => seen.push(['first', context!.abortReason]));
          const unsubscribe = context.onAbort(() => seen.push('unsubscribed'));
          context.onAbort(() => {
            throw new Error('listener');
          });
          context.onAbort(() => seen.push('last'));
          unsubscribe!();
          return never();
        }),
      );
      await clock.advance(1000);
      expect(result.error).toBeInstanceOf(TimeoutError);
      expect(seen).toEqual(['signal', ['first', result.error], 'last']);
      expect(reported.map((error) => (error as Error).message)).toEqual(['listener']);
      // Already aborted: a new subscriber is called at once.
      context!.onAbort(() => seen.push('late'));
      expect(seen.at(-1)).toBe('late');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('without a caller signal, its onAbort subscribers are dropped when the call ends in time', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    let context: ExecutionContext | undefined;
    await timeout(1000, { clock }).execute(async (ctx: Context) => {
      context = ctx as ExecutionContext;
      context.onAbort(() => seen.push('one'));
      context.onAbort(() => seen.push('two'));
      return 'ok';
    });
    await clock.runAll();
    expect(seen).toEqual([]);
    expect(context!.aborted).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('timeout: many calls under one caller signal', () => {
  it('share one abort listener on it (no MaxListeners warning), and all reject on its abort', async () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const clock = new VirtualClock();
      const policy = timeout(1000, { clock });
      const caller = new AbortController();
      const calls = Array.from({ length: 20 }, () => track(policy.execute(never, caller.signal)));
      // Before, each aggressive call added its own listener: past 10 Node warned of a leak.
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
      caller.abort('stop');
      await flush();
      expect(calls.every((call) => call.settled && call.error === 'stop')).toBe(true);
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      expect(clock.pendingTimers).toBe(0);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('timeout: describe and options', () => {
  it('describes itself', () => {
    expect(timeout(250).describe()).toEqual({
      name: 'timeout',
      options: { duration: 250, strategy: 'aggressive' },
    });
    expect(timeout(() => 1, { strategy: 'cooperative' }).describe()).toEqual({
      name: 'timeout',
      options: { duration: 'custom', strategy: 'cooperative' },
    });
  });
});

describe('timeout + bulkhead', () => {
  it('keeps the bulkhead slot held while an abandoned call still runs', async () => {
    const clock = new VirtualClock();
    const gate = bulkhead({ limit: 1, clock });
    // The timeout outside the bulkhead: the caller gets its answer at 100 ms, while the bulkhead
    // follows the work itself.
    const guarded = pipeline(timeout(100, { clock }), gate);
    let running = 0;
    let maxRunning = 0;
    const work = async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await clock.sleep(1000); // ignores its signal
      running--;
    };
    const first = track(guarded.execute(work));
    await clock.advance(100);
    expect(first.error).toBeInstanceOf(TimeoutError);
    // The caller got its answer, but the work still runs: the slot must stay taken (unlike
    // opossum, whose capacity let 6 run at once with a limit of 2).
    expect(running).toBe(1);
    const second = track(guarded.execute(work));
    await flush();
    expect(second.error).toMatchObject({ code: 'BULKHEAD_FULL' });
    await clock.advance(900);
    expect(running).toBe(0);
    const third = track(guarded.execute(async () => 'free again'));
    await clock.advance(0);
    expect(third.value).toBe('free again');
    expect(maxRunning).toBe(1);
  });

  it("a caller's abort frees a bulkhead queue place taken after the call started", async () => {
    const clock = new VirtualClock();
    const gate = bulkhead({ limit: 1, queue: 1, clock });
    // Queues one tick late, as a bulkhead behind a retry's second attempt does: its watch on the
    // timeout's context then comes after the timeout's own caller-abort handler.
    class Late extends PolicyBase {
      async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
        await Promise.resolve();
        return gate[executeInContext](fn, ctx);
      }
      describe(): PolicyDescription {
        return { name: 'late', options: {} };
      }
    }
    const busy = track(gate.execute(() => clock.sleep(1000)));
    const caller = new AbortController();
    const queued = track(
      pipeline(timeout(60_000, { clock }), new Late()).execute(async () => 'ran', caller.signal),
    );
    await flush();
    expect(gate.queued).toBe(1);
    caller.abort('stop');
    await flush();
    expect(queued.error).toBe('stop');
    expect(gate.queued).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    await clock.advance(1000);
    expect(busy.settled).toBe(true);
  });
});
