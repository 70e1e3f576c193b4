import { getEventListeners } from 'node:events';
import { VirtualClock } from '@faultline/clock';
import {
  type Context,
  ExecutionRejectedError,
  handleAll,
  handleResults,
  pipeline,
  telemetry,
} from '@faultline/core';
import { httpRetryAfter, tokenBucketBudget } from '@faultline/retry';
import { expectSyncOutcomes, telemetryRecorder } from '@faultline/test-support/browser';
import { timeout } from '@faultline/timeout';
import { describe, expect, it } from 'vitest';
import { hedge } from './hedge.js';
import { HedgeSupersededError } from './hedge-errors.js';
import type { HedgeEvent, HedgeSkipEvent, HedgeWinEvent } from './hedge-events.js';
import type { HedgeOptions } from './hedge-options.js';

const recordTelemetry = telemetryRecorder(telemetry);

/** One attempt the test controls: when it started, its signal, and how to settle it. */
interface Attempt {
  readonly number: number;
  readonly start: number;
  readonly signal: AbortSignal;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * A function whose attempts stay pending until the test settles them (or until their signal
 * aborts, when they reject with its reason, as fetch does). Records every attempt.
 */
function controlled(clock: VirtualClock) {
  const attempts: Attempt[] = [];
  const fn = (ctx: Context): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const signal = ctx.signal;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      attempts.push({ number: ctx.attempt, start: clock.now(), signal, resolve, reject });
    });
  return { attempts, fn };
}

/** A hedge of `options` on a fresh VirtualClock, and a {@link controlled} function for it. */
function hedged(options: Omit<HedgeOptions, 'clock'>) {
  const clock = new VirtualClock();
  const policy = hedge({ ...options, clock });
  return { clock, policy, ...controlled(clock) };
}

/** Lets promise reactions run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('hedge: start times per mode', () => {
  it('latency mode: attempt k+1 starts `delay` after attempt k while nothing answers', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 100, maxHedgedAttempts: 3 });
    const call = policy.execute(fn);
    await clock.advance(1000);
    expect(attempts.map((a) => a.start)).toEqual([0, 100, 200, 300]);
    expect(attempts.map((a) => a.number)).toEqual([1, 2, 3, 4]);
    attempts[3]!.resolve('fourth');
    await expect(call).resolves.toBe('fourth');
  });

  it("gRFC A6's example: maxAttempts 4, hedgingDelay 500 ms: 1, 2, 3, 4 outstanding at 0/500/1000/1500", async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 500, maxHedgedAttempts: 3 });
    const call = policy.execute(fn);
    const outstanding: number[] = [];
    for (const t of [1, 501, 1001, 1501]) {
      await clock.advance(t - clock.now());
      outstanding.push(attempts.length);
    }
    expect(outstanding).toEqual([1, 2, 3, 4]);
    expect(attempts.map((a) => a.start)).toEqual([0, 500, 1000, 1500]);
    attempts[0]!.resolve('first');
    await expect(call).resolves.toBe('first');
  });

  it('parallel mode (delay 0): every attempt starts at once', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 0, maxHedgedAttempts: 2 });
    const call = policy.execute(fn);
    expect(attempts.map((a) => [a.number, a.start])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    await clock.advance(50);
    attempts[2]!.resolve('third');
    await expect(call).resolves.toBe('third');
    expect(clock.pendingTimers).toBe(0);
  });

  it('fallback mode (delay < 0): the next attempt starts only when the previous one failed', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: -1, maxHedgedAttempts: 2 });
    const call = policy.execute(fn);
    await clock.advance(5000);
    expect(attempts).toHaveLength(1); // slow is not failed
    attempts[0]!.reject(new Error('boom'));
    await flush();
    await clock.advance(70);
    attempts[1]!.reject(new Error('boom 2'));
    await flush();
    expect(attempts.map((a) => a.start)).toEqual([0, 5000, 5070]);
    attempts[2]!.resolve('third');
    await expect(call).resolves.toBe('third');
  });

  it('latency mode: a handled failure starts the next attempt at once, and the delay restarts from it', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 100, maxHedgedAttempts: 2 });
    const call = policy.execute(fn);
    await clock.advance(30);
    attempts[0]!.reject(new Error('fast failure'));
    await flush();
    await clock.advance(500);
    expect(attempts.map((a) => a.start)).toEqual([0, 30, 130]);
    attempts[1]!.resolve('second');
    await expect(call).resolves.toBe('second');
  });

  it('a delay function is asked after each attempt starts, with that attempt as context', async () => {
    const clock = new VirtualClock();
    const asked: number[] = [];
    const policy = hedge({
      delay: (ctx) => {
        asked.push(ctx.attempt);
        return ctx.attempt * 100;
      },
      maxHedgedAttempts: 2,
      clock,
    });
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(1000);
    expect(asked).toEqual([1, 2]);
    expect(attempts.map((a) => a.start)).toEqual([0, 100, 300]);
    attempts[0]!.resolve('first');
    await expect(call).resolves.toBe('first');
  });

  it('the first attempt answering before the delay sends no hedge and leaves no timer', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delay: 100, clock });
    let calls = 0;
    const value = await policy.execute(async () => {
      calls++;
      return 'fast';
    });
    expect(value).toBe('fast');
    await clock.advance(1000);
    expect(calls).toBe(1);
  });
});

describe('hedge: winners and losers', () => {
  it('the first acceptable outcome wins and every other attempt is aborted (counted)', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 10, maxHedgedAttempts: 3 });
    let aborts = 0;
    const call = policy.execute((ctx) => {
      ctx.signal.addEventListener('abort', () => aborts++);
      return fn(ctx);
    });
    await clock.advance(30);
    expect(attempts).toHaveLength(4);
    attempts[1]!.resolve('second');
    await expect(call).resolves.toBe('second');
    expect(aborts).toBe(3);
    for (const n of [0, 2, 3]) {
      expect(attempts[n]!.signal.aborted).toBe(true);
      expect(attempts[n]!.signal.reason).toBeInstanceOf(HedgeSupersededError);
      expect((attempts[n]!.signal.reason as HedgeSupersededError).winner).toBe(2);
    }
    expect(attempts[1]!.signal.aborted).toBe(false);
    await clock.advance(1000);
    expect(attempts).toHaveLength(4);
  });

  it('settles when the winner does, without waiting for losers that ignore their signal', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delay: 10, clock });
    let settleFirst!: (value: string) => void;
    let rejectFirst!: (error: unknown) => void;
    const call = policy.execute((ctx) =>
      ctx.attempt === 1
        ? new Promise<string>((resolve, reject) => {
            settleFirst = resolve;
            rejectFirst = reject;
          })
        : Promise.resolve('hedge'),
    );
    await clock.advance(10);
    await expect(call).resolves.toBe('hedge');
    // The loser ends later, even with an error: never an unhandled rejection, never the result.
    rejectFirst(new Error('late'));
    settleFirst('late value');
    await flush();
  });

  it('an outcome shouldHandle does not handle wins too, also an error', async () => {
    const clock = new VirtualClock();
    const fatal = new TypeError('fatal');
    const policy = hedge({
      delay: 10,
      clock,
      shouldHandle: (outcome) => !outcome.ok && !(outcome.error instanceof TypeError),
    });
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(10);
    attempts[1]!.reject(fatal);
    await expect(call).rejects.toBe(fatal);
    expect(attempts[0]!.signal.aborted).toBe(true);
  });

  it('when every attempt fails, the last one to settle decides', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 10, maxHedgedAttempts: 2 });
    const call = policy.execute(fn);
    await clock.advance(20);
    attempts[2]!.reject(new Error('third'));
    await flush();
    attempts[0]!.reject(new Error('first'));
    await flush();
    const last = new Error('second, last to settle');
    attempts[1]!.reject(last);
    await expect(call).rejects.toBe(last);
  });

  it('a handled result that settles last is returned, and the earlier handled results are dropped', async () => {
    const { clock, policy, attempts, fn } = hedged({
      delay: 10,
      shouldHandle: handleResults((r: Response) => r.status >= 500),
    });
    const call = policy.execute(fn);
    await clock.advance(10);
    const first = new Response('busy', { status: 503 });
    attempts[0]!.resolve(first);
    await flush();
    const second = new Response('busy too', { status: 502 });
    attempts[1]!.resolve(second);
    const result = (await call) as Response;
    expect(result).toBe(second);
    expect(await result.text()).toBe('busy too');
    // The replaced one's body was cancelled (its connection freed).
    await expect(first.text()).rejects.toThrow();
  });

  it('ctx.attempt is 1, 2, … per hedge, even inside a retry attempt', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delay: 0, maxHedgedAttempts: 2, clock });
    const seen: number[] = [];
    await policy.execute((ctx) => {
      seen.push(ctx.attempt);
      return ctx.attempt === 3 ? 'third' : new Promise(() => {});
    });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('a synchronous value or throw is an outcome like any other', async () => {
    const policy = hedge({ delay: 0, maxHedgedAttempts: 1 });
    await expectSyncOutcomes(policy);
  });

  it('a throwing shouldHandle replaces the outcome and cancels the rest', async () => {
    const clock = new VirtualClock();
    const broken = new Error('broken rule');
    const policy = hedge({
      delay: 10,
      clock,
      shouldHandle: () => {
        throw broken;
      },
    });
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(10);
    attempts[0]!.reject(new Error('boom'));
    await expect(call).rejects.toBe(broken);
    expect(attempts[1]!.signal.aborted).toBe(true);
  });

  it('a throwing delay function rejects before anything runs', async () => {
    const broken = new Error('no delay');
    let calls = 0;
    const policy = hedge({
      delay: () => {
        throw broken;
      },
    });
    await expect(
      policy.execute(() => {
        calls++;
        return new Promise(() => {});
      }),
    ).rejects.toBe(broken);
    // The first attempt was started, then cancelled with the error.
    expect(calls).toBe(1);
  });

  it('a delay function returning a non-number rejects naming it', async () => {
    const policy = hedge({ delay: () => Number.NaN });
    await expect(policy.execute(() => new Promise(() => {}))).rejects.toThrow(
      /delay\(ctx\) result/,
    );
  });
});

describe('hedge: caller abort and deadline', () => {
  it("the caller's abort aborts every attempt and rejects with its reason; no hedge starts after it", async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 10, maxHedgedAttempts: 3 });
    const caller = new AbortController();
    const call = policy.execute(fn, caller.signal);
    await clock.advance(15);
    expect(attempts).toHaveLength(2);
    const reason = new Error('caller gone');
    caller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(attempts.every((a) => a.signal.aborted && a.signal.reason === reason)).toBe(true);
    await clock.advance(1000);
    expect(attempts).toHaveLength(2);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted caller signal rejects without calling fn', async () => {
    const policy = hedge();
    const caller = new AbortController();
    caller.abort(new Error('before'));
    let calls = 0;
    await expect(policy.execute(() => calls++, caller.signal)).rejects.toThrow('before');
    expect(calls).toBe(0);
  });

  it('no hedge starts at or after the deadline of an enclosing timeout', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 100, maxHedgedAttempts: 5 });
    const skips: HedgeSkipEvent[] = [];
    policy.onSkip((event) => skips.push(event));
    const call = pipeline(timeout(250, { clock }), policy).execute(fn);
    const settled = call.catch((error: unknown) => error);
    await clock.advance(1000);
    expect(attempts.map((a) => a.start)).toEqual([0, 100, 200]);
    expect((await settled) as Error).toMatchObject({ name: 'TimeoutError' });
    expect(skips).toEqual([{ attempt: 4, reason: 'deadline' }]);
    expect(attempts.every((a) => a.signal.aborted)).toBe(true);
  });

  it('a deadline shorter than the delay sends no hedge at all', async () => {
    const { clock, policy, attempts, fn } = hedged({ delay: 200 });
    const call = pipeline(timeout(150, { clock }), policy).execute(fn);
    const settled = call.catch((error: unknown) => error);
    await clock.advance(1000);
    expect(attempts).toHaveLength(1);
    expect((await settled) as Error).toMatchObject({ name: 'TimeoutError' });
  });
});

describe('hedge: pushback and budget', () => {
  it("pushback (an ExecutionRejectedError's retryAfter) cancels the hedges not yet sent", async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delay: 100, maxHedgedAttempts: 3, clock, shouldHandle: handleAll });
    const skips: HedgeSkipEvent[] = [];
    policy.onSkip((event) => skips.push(event));
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(100);
    expect(attempts).toHaveLength(2);
    attempts[1]!.reject(new ExecutionRejectedError('overloaded', { code: 'X', retryAfter: 1000 }));
    await flush();
    await clock.advance(1000);
    expect(attempts).toHaveLength(2); // no attempt 3 at once, none at 200 or 300
    expect(skips).toEqual([{ attempt: 3, reason: 'pushback' }]);
    expect(clock.pendingTimers).toBe(0);
    attempts[0]!.resolve('first, still racing');
    await expect(call).resolves.toBe('first, still racing');
  });

  it('pushback read from a response by the retryAfter option (Retry-After on a 503)', async () => {
    const { clock, policy, attempts, fn } = hedged({
      delay: 100,
      maxHedgedAttempts: 3,
      shouldHandle: handleResults((r: Response) => r.status === 503),
      retryAfter: httpRetryAfter,
    });
    const call = policy.execute(fn);
    await clock.advance(10);
    const busy = new Response('busy', { status: 503, headers: { 'retry-after': '5' } });
    attempts[0]!.resolve(busy);
    await flush();
    await clock.advance(1000);
    expect(attempts).toHaveLength(1);
    // Nothing else in flight: the handled result is the answer.
    expect(await call).toBe(busy);
  });

  it('a budget that denies a hedge stops hedging for the call (reason budget)', async () => {
    const clock = new VirtualClock();
    // gRPC throttling: retries (and hedges) only while tokens > maxTokens / 2.
    const budget = tokenBucketBudget({ maxTokens: 4, tokenRatio: 0.1 });
    const policy = hedge({ delay: 10, maxHedgedAttempts: 3, clock, budget });
    const skips: HedgeSkipEvent[] = [];
    policy.onSkip((event) => skips.push(event));
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(100);
    // 4 tokens: the first hedge leaves 3 (> 2), the second would leave 2 (not > 2).
    expect(attempts).toHaveLength(2);
    expect(skips).toEqual([{ attempt: 3, reason: 'budget' }]);
    attempts[0]!.resolve('first');
    await expect(call).resolves.toBe('first');
  });
});

describe('hedge: events and telemetry', () => {
  it('onHedge, onWin and the telemetry records (hedge events, an attempt record per attempt)', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delay: 10, maxHedgedAttempts: 2, clock, name: 'reads' });
    const hedges: HedgeEvent[] = [];
    const wins: HedgeWinEvent[] = [];
    policy.onHedge((event) => hedges.push(event));
    policy.onWin((event) => wins.push(event));
    const records = recordTelemetry();
    const { attempts, fn } = controlled(clock);
    const call = policy.execute(fn);
    await clock.advance(15);
    attempts[0]!.reject(new Error('handled'));
    await flush();
    await clock.advance(3);
    attempts[2]!.resolve('third');
    await expect(call).resolves.toBe('third');
    expect(hedges).toEqual([
      { attempt: 2, delay: 10, trigger: 'delay' },
      { attempt: 3, delay: 5, trigger: 'failure' },
    ]);
    expect(wins).toEqual([{ attempt: 3, attempts: 3 }]);
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => [r.event, r.attributes])).toEqual([
      ['hedge', { attempt: 2, trigger: 'delay' }],
      ['hedge', { attempt: 3, trigger: 'failure' }],
    ]);
    expect(events[0]).toMatchObject({ policy: { kind: 'hedge', name: 'reads' }, time: 10 });
    const tried = records.filter((r) => r.type === 'attempt');
    expect(tried.map((r) => [r.attempt, r.handled, r.duration])).toEqual([
      [1, true, 15],
      [3, false, 3],
      [2, false, 8],
    ]);
    expect((tried[2] as { error?: unknown }).error).toBeInstanceOf(HedgeSupersededError);
  });

  it('describe() reports the mode and options as plain data', () => {
    expect(hedge().describe()).toEqual({
      name: 'hedge',
      options: {
        name: 'hedge',
        maxHedgedAttempts: 1,
        mode: 'latency',
        delay: 2000,
        shouldHandle: 'transient',
        budget: 'none',
        retryAfter: 'none',
      },
    });
    expect(hedge({ delay: 0 }).mode).toBe('parallel');
    expect(hedge({ delay: -1 }).mode).toBe('fallback');
    expect(hedge({ delay: () => 5 }).describe().options.delay).toBe('custom');
  });
});
