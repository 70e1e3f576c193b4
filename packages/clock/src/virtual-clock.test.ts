import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { sleep } from './clock.js';
import { VirtualClock } from './virtual-clock.js';

/** One top-level timer of a generated schedule and what its callback does. */
interface TimerSpec {
  readonly delay: number;
  /** Delays of timers its callback creates (relative to the time it fires). */
  readonly spawn: readonly number[];
  /** Indices (mod count) of top-level timers its callback cancels. */
  readonly cancels: readonly number[];
  /** Cancelled right after creation, before time moves. */
  readonly cancelAtOnce: boolean;
}

const timerSpec: fc.Arbitrary<TimerSpec> = fc.record({
  delay: fc.integer({ min: 0, max: 30 }),
  spawn: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 3 }),
  cancels: fc.array(fc.nat(), { maxLength: 2 }),
  cancelAtOnce: fc.boolean(),
});

type Fired = readonly [label: string, time: number];

/**
 * Reference model: a naive list of pending timers, the earliest (due, creation) one fires next.
 * Returns what fired and when.
 */
function model(specs: readonly TimerSpec[]): Fired[] {
  interface Pending {
    due: number;
    seq: number;
    label: string;
    top?: number;
    cancelled: boolean;
  }
  let seq = 0;
  const pending: Pending[] = [];
  const tops: Pending[] = [];
  specs.forEach((spec, index) => {
    const timer: Pending = {
      due: spec.delay,
      seq: seq++,
      label: `t${index}`,
      top: index,
      cancelled: false,
    };
    pending.push(timer);
    tops.push(timer);
  });
  specs.forEach((spec, index) => {
    if (spec.cancelAtOnce) tops[index]!.cancelled = true;
  });
  const fired: Fired[] = [];
  for (;;) {
    const live = pending.filter((timer) => !timer.cancelled);
    if (live.length === 0) break;
    live.sort((a, b) => a.due - b.due || a.seq - b.seq);
    const next = live[0]!;
    next.cancelled = true; // fired: no longer pending
    fired.push([next.label, next.due]);
    if (next.top !== undefined) {
      const spec = specs[next.top]!;
      spec.spawn.forEach((delay, k) => {
        pending.push({
          due: next.due + delay,
          seq: seq++,
          label: `${next.label}.${k}`,
          cancelled: false,
        });
      });
      for (const target of spec.cancels) tops[target % specs.length]!.cancelled = true;
    }
  }
  return fired;
}

/** Runs the same schedule on a VirtualClock, moving time with `steps` then `runAll`. */
async function real(specs: readonly TimerSpec[], steps: readonly number[]): Promise<Fired[]> {
  const clock = new VirtualClock();
  const fired: Fired[] = [];
  const cancelTop: Array<() => void> = [];
  specs.forEach((spec, index) => {
    const label = `t${index}`;
    cancelTop.push(
      clock.setTimer(spec.delay, () => {
        fired.push([label, clock.now()]);
        spec.spawn.forEach((delay, k) => {
          clock.setTimer(delay, () => fired.push([`${label}.${k}`, clock.now()]));
        });
        for (const target of spec.cancels) cancelTop[target % specs.length]!();
      }),
    );
  });
  specs.forEach((spec, index) => {
    if (spec.cancelAtOnce) cancelTop[index]!();
  });
  for (const step of steps) await clock.advance(step);
  await clock.runAll();
  expect(clock.pendingTimers).toBe(0);
  return fired;
}

describe('VirtualClock ordering', () => {
  it('fires timers in (due time, creation) order whatever the schedule, callbacks and cancellations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(timerSpec, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 5 }),
        async (specs, steps) => {
          expect(await real(specs, steps)).toEqual(model(specs));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives the same event order for the same inputs, always', async () => {
    const specs = fc.sample(fc.array(timerSpec, { minLength: 8, maxLength: 8 }), {
      numRuns: 1,
      seed: 42,
    })[0]!;
    const first = await real(specs, [3, 7]);
    const second = await real(specs, [3, 7]);
    expect(second).toEqual(first);
  });

  it('fires ties in creation order and at their own due time', async () => {
    const clock = new VirtualClock(100);
    const log: string[] = [];
    clock.setTimer(10, () => log.push(`b@${clock.now()}`));
    clock.setTimer(5, () => log.push(`a@${clock.now()}`));
    clock.setTimer(10, () => log.push(`c@${clock.now()}`));
    await clock.advance(20);
    expect(log).toEqual(['a@105', 'b@110', 'c@110']);
    expect(clock.now()).toBe(120);
  });

  it('fires timers created by callbacks when they fall due within the window, not after', async () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(5, () => {
      clock.setTimer(5, () => log.push(clock.now()));
      clock.setTimer(50, () => log.push(clock.now()));
    });
    await clock.advance(10);
    expect(log).toEqual([10]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('never fires a cancelled timer; cancel is idempotent', async () => {
    const clock = new VirtualClock();
    const fired = vi.fn();
    const cancel = clock.setTimer(5, fired);
    expect(clock.pendingTimers).toBe(1);
    cancel();
    cancel();
    expect(clock.pendingTimers).toBe(0);
    await clock.runAll();
    expect(fired).not.toHaveBeenCalled();
  });

  it('cancelling after the timer fired changes nothing', async () => {
    const clock = new VirtualClock();
    const cancel = clock.setTimer(1, () => {});
    clock.setTimer(10, () => {});
    await clock.advance(1);
    cancel();
    expect(clock.pendingTimers).toBe(1);
  });

  it('compacts cancelled timers so they do not pin memory', async () => {
    const clock = new VirtualClock();
    const keep = vi.fn();
    clock.setTimer(1, keep);
    for (let i = 0; i < 10_000; i++) clock.setTimer(60_000 + i, () => {})();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(100_000);
    expect(keep).toHaveBeenCalledOnce();
  });

  it('treats NaN and negative delays as 0 and never fires Infinity', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimer(Number.POSITIVE_INFINITY, () => log.push('never'));
    clock.setTimer(-5, () => log.push('negative'));
    clock.setTimer(Number.NaN, () => log.push('nan'));
    await clock.runAll();
    expect(log).toEqual(['negative', 'nan']);
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1e15);
    expect(log).toEqual(['negative', 'nan']);
  });

  it('keeps working while the global timers are faked', async () => {
    vi.useFakeTimers();
    try {
      const clock = new VirtualClock();
      const done = clock.sleep(10);
      await clock.advance(10);
      await expect(done).resolves.toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('has bound methods, like systemClock', async () => {
    const clock = new VirtualClock(7);
    const { now, sleep: sleepOn, setTimer } = clock;
    const fired = vi.fn();
    setTimer(1, fired);
    const slept = sleepOn(2);
    await clock.advance(2);
    await slept;
    expect(now()).toBe(9);
    expect(fired).toHaveBeenCalledOnce();
  });
});

describe('VirtualClock and awaiting code', () => {
  it('lets code awaiting sleep resume and schedule its next timer before time moves on', async () => {
    const clock = new VirtualClock();
    const woke: number[] = [];
    // Each iteration goes through several await hops before it sleeps again.
    const deep = async (): Promise<void> => {
      await Promise.resolve();
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    };
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(10);
        woke.push(clock.now());
        await deep();
      }
    })();
    await clock.advance(50);
    await loop;
    expect(woke).toEqual([10, 20, 30, 40, 50]);
  });

  it('interleaves two sleepers by due time', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const run = async (name: string, period: number): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await sleep(period, undefined, clock);
        log.push(`${name}@${clock.now()}`);
      }
    };
    const a = run('a', 3);
    const b = run('b', 4);
    await clock.runAll();
    await Promise.all([a, b]);
    expect(log).toEqual(['a@3', 'b@4', 'a@6', 'b@8', 'a@9', 'b@12']);
  });

  it('resolves sleep(0) asynchronously, never synchronously', async () => {
    const clock = new VirtualClock();
    let resolved = false;
    const done = clock.sleep(0).then(() => {
      resolved = true;
    });
    await Promise.resolve();
    expect(resolved).toBe(false);
    await clock.advance(0);
    await done;
    expect(resolved).toBe(true);
  });
});

describe('VirtualClock.runAll', () => {
  it('advances until no timer remains', async () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(300, () => log.push(clock.now()));
    clock.setTimer(100, () => clock.setTimer(1000, () => log.push(clock.now())));
    await clock.runAll();
    expect(log).toEqual([300, 1100]);
    expect(clock.now()).toBe(1100);
    expect(clock.pendingTimers).toBe(0);
  });

  it('throws when more than limit timers fire (a loop that never ends)', async () => {
    const clock = new VirtualClock();
    let count = 0;
    const loop = (): void => {
      count++;
      clock.setTimer(1, loop);
    };
    clock.setTimer(1, loop);
    await expect(clock.runAll(100)).rejects.toThrow(/more than 100 timers fired/);
    expect(count).toBe(100);
    // Not wedged: time can still move.
    await clock.advance(5);
    expect(count).toBe(105);
  });

  it('allows exactly limit timers', async () => {
    const clock = new VirtualClock();
    for (let i = 0; i < 10; i++) clock.setTimer(i, () => {});
    await expect(clock.runAll(10)).resolves.toBeUndefined();
  });

  it('refuses to move time while it is already moving', async () => {
    const clock = new VirtualClock();
    let inner: Promise<unknown> | undefined;
    clock.setTimer(1, () => {
      inner = clock.advance(1).catch((error: unknown) => error);
    });
    await clock.advance(2);
    expect(await inner).toBeInstanceOf(Error);
    expect(String(await inner)).toMatch(/already moving/);
  });

  it('rejects the move with the error of a throwing callback', async () => {
    const clock = new VirtualClock();
    clock.setTimer(5, () => {
      throw new Error('boom');
    });
    await expect(clock.advance(10)).rejects.toThrow('boom');
    expect(clock.now()).toBe(5);
  });
});

describe('VirtualClock.jump', () => {
  it('moves time without firing on the way, then fires what is overdue at the new time', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimer(100, () => log.push(`a@${clock.now()}`));
    clock.setTimer(200, () => log.push(`b@${clock.now()}`));
    clock.setTimer(5000, () => log.push(`c@${clock.now()}`));
    await clock.jump(1000);
    expect(log).toEqual(['a@1000', 'b@1000']);
    expect(clock.now()).toBe(1000);
    expect(clock.pendingTimers).toBe(1);
  });
});

describe('sleep on VirtualClock leaves nothing behind', () => {
  it('normal completion: no listener, no timer', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const done = clock.sleep(10, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await clock.advance(10);
    await done;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('abort mid-sleep: rejects with the reason at once, no listener, no timer', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const done = clock.sleep(10_000, controller.signal);
    await clock.advance(5);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an abort at the very instant the sleep is due: the first timer to fire wins, nothing is left', async () => {
    // Abort first (created first, so it fires first at the shared due time): the sleep rejects.
    const clock = new VirtualClock();
    const first = new AbortController();
    clock.setTimer(10, () => first.abort('abort first'));
    const aborted = clock.sleep(10, first.signal).catch((error: unknown) => error);
    // Sleep first: it has resolved; the abort that follows in the same instant changes nothing.
    const second = new AbortController();
    const resolved = clock.sleep(10, second.signal);
    clock.setTimer(10, () => second.abort('abort second'));
    await clock.advance(10);
    expect(await aborted).toBe('abort first');
    await expect(resolved).resolves.toBeUndefined();
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('already-aborted signal: rejects with the reason, schedules nothing', async () => {
    const clock = new VirtualClock();
    const reason = new Error('before');
    const signal = AbortSignal.abort(reason);
    await expect(clock.sleep(10, signal)).rejects.toBe(reason);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('10 000 sleeps on one long-lived signal leave no listener and no timer', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    for (let i = 0; i < 10_000; i++) {
      const done = clock.sleep(i % 3, controller.signal);
      await clock.advance(3);
      await done;
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('VirtualClock argument validation', () => {
  it('start: wrong type and out of range', () => {
    expect(() => new VirtualClock('5' as unknown as number)).toThrow(TypeError);
    expect(() => new VirtualClock('5' as unknown as number)).toThrow(
      /VirtualClock: argument "start"/,
    );
    expect(() => new VirtualClock(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => new VirtualClock(Number.POSITIVE_INFINITY)).toThrow(/argument "start".*Infinity/);
  });

  it.each(['advance', 'jump'] as const)('%s(ms): wrong type and out of range', async (method) => {
    const clock = new VirtualClock();
    await expect(clock[method]('1' as unknown as number)).rejects.toThrow(TypeError);
    await expect(clock[method]('1' as unknown as number)).rejects.toThrow(
      `VirtualClock.${method}: argument "ms"`,
    );
    await expect(clock[method](-1)).rejects.toThrow(RangeError);
    await expect(clock[method](-1)).rejects.toThrow(
      /argument "ms" must be a number in \[0, Infinity\), received -1/,
    );
    await expect(clock[method](Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
  });

  it('runAll(limit): wrong type and out of range', async () => {
    const clock = new VirtualClock();
    await expect(clock.runAll('10' as unknown as number)).rejects.toThrow(TypeError);
    await expect(clock.runAll('10' as unknown as number)).rejects.toThrow(
      /VirtualClock.runAll: argument "limit"/,
    );
    await expect(clock.runAll(-1)).rejects.toThrow(RangeError);
    await expect(clock.runAll(-1)).rejects.toThrow(/argument "limit".*received -1/);
  });
});
