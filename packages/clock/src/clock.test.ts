import { getEventListeners, setMaxListeners } from 'node:events';
import { trackTimers } from '@faultline/test-support/browser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY, neverAbortedSignal, sleep, sleepWith, systemClock } from './clock.js';
import { VirtualClock } from './virtual-clock.js';

describe('systemClock', () => {
  it('now() is monotonic, fractional milliseconds', () => {
    let previous = systemClock.now();
    for (let i = 0; i < 1000; i++) {
      const now = systemClock.now();
      expect(now).toBeGreaterThanOrEqual(previous);
      previous = now;
    }
    expect(Math.abs(systemClock.now() - performance.now())).toBeLessThan(50);
  });

  it('is frozen (shared by every package)', () => {
    expect(Object.isFrozen(systemClock)).toBe(true);
  });

  it('sleep resolves after at least ms', async () => {
    const start = performance.now();
    await systemClock.sleep(5);
    // Node rounds timers to whole ms and may fire up to 1 ms early.
    expect(performance.now() - start).toBeGreaterThanOrEqual(4);
  });

  it('sleep(ms <= 0) resolves asynchronously, never synchronously', async () => {
    for (const ms of [0, -5, Number.NaN]) {
      let resolved = false;
      const done = systemClock.sleep(ms).then(() => {
        resolved = true;
      });
      await Promise.resolve();
      expect(resolved).toBe(false);
      await done;
      expect(resolved).toBe(true);
    }
  });

  it('setTimer returns an idempotent cancel function', async () => {
    const fired = vi.fn();
    const cancel = systemClock.setTimer(1, fired);
    cancel();
    cancel();
    await systemClock.sleep(5);
    expect(fired).not.toHaveBeenCalled();
  });

  it('setTimer with unref: true unrefs the platform timer', () => {
    const timers = trackTimers();
    try {
      const cancel = systemClock.setTimer(60_000, () => {}, { unref: true });
      expect(timers.last?.hasRef()).toBe(false);
      cancel();
      const cancelRef = systemClock.setTimer(60_000, () => {});
      expect(timers.last?.hasRef()).toBe(true);
      cancelRef();
    } finally {
      timers.restore();
    }
  });

  it('sleep(ms, signal, clock) delegates to the clock', async () => {
    const clock = new VirtualClock();
    const done = sleep(10, undefined, clock);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10);
    await done;
  });
});

describe('sleep leaves no listener and no timer behind', () => {
  let tracker: ReturnType<typeof trackTimers> | undefined;
  afterEach(() => {
    tracker?.restore();
    tracker = undefined;
  });

  it('normal completion', async () => {
    tracker = trackTimers();
    const controller = new AbortController();
    await sleep(2, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(tracker.live.size).toBe(0);
  });

  it('sleepWith on a clock whose timer fires synchronously leaves no listener', async () => {
    // A custom (say, a simulator's) clock may call back inside setTimer for a 0 ms timer: the
    // listener must already be there to be removed.
    const controller = new AbortController();
    const immediate = (_ms: number, callback: () => void) => {
      callback();
      return () => {};
    };
    await sleepWith(immediate, 0, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('abort mid-sleep rejects at once with signal.reason', async () => {
    tracker = trackTimers();
    const controller = new AbortController();
    const start = performance.now();
    const done = sleep(60_000, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(tracker.live.size).toBe(1);
    const reason = new Error('stop');
    queueMicrotask(() => controller.abort(reason));
    await expect(done).rejects.toBe(reason);
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(tracker.live.size).toBe(0);
  });

  it('an already-aborted signal rejects with its reason and sets no timer', async () => {
    tracker = trackTimers();
    const reason = new Error('before');
    const signal = AbortSignal.abort(reason);
    await expect(sleep(60_000, signal)).rejects.toBe(reason);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(tracker.live.size).toBe(0);
  });

  it('a long (chained) sleep aborted mid-way clears its timer', async () => {
    tracker = trackTimers();
    const controller = new AbortController();
    const done = sleep(MAX_TIMER_DELAY * 3, controller.signal);
    controller.abort('gone');
    await expect(done).rejects.toBe('gone');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(tracker.live.size).toBe(0);
  });

  it('many concurrent sleeps on neverAbortedSignal add no listener to it', async () => {
    const sleeps = Array.from({ length: 50 }, () => sleep(1, neverAbortedSignal));
    expect(getEventListeners(neverAbortedSignal, 'abort')).toHaveLength(0);
    await Promise.all(sleeps);
  });

  it('1 000 sleeps with one long-lived signal leave no listener', async () => {
    tracker = trackTimers();
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // 1000 concurrent listeners are intended here
    await Promise.all(Array.from({ length: 1000 }, () => sleep(0, controller.signal)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(tracker.live.size).toBe(0);
  });
});

describe('durations beyond 2^31-1 ms are chained, never fired at once', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires exactly at the due time across several chained platform timers', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired = vi.fn();
    const delay = MAX_TIMER_DELAY * 2 + 1_000;
    systemClock.setTimer(delay, fired);
    vi.advanceTimersByTime(MAX_TIMER_DELAY);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_DELAY);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a chained timer can be cancelled in any slice; sleep honours it too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired = vi.fn();
    const cancel = systemClock.setTimer(MAX_TIMER_DELAY + 10, fired, { unref: true });
    vi.advanceTimersByTime(MAX_TIMER_DELAY + 1);
    expect(vi.getTimerCount()).toBe(1);
    cancel();
    cancel();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(fired).not.toHaveBeenCalled();

    let slept = false;
    const done = systemClock.sleep(MAX_TIMER_DELAY + 5).then(() => {
      slept = true;
    });
    // Synchronous advances and a microtask drain rather than advanceTimersByTimeAsync, which
    // Bun's `vi` lacks: the slices re-arm synchronously, the sleep settles in a microtask.
    vi.advanceTimersByTime(MAX_TIMER_DELAY);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(slept).toBe(false);
    vi.advanceTimersByTime(5);
    await done;
    expect(slept).toBe(true);
  });

  it('never fires Infinity', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fired = vi.fn();
    const cancel = systemClock.setTimer(Number.POSITIVE_INFINITY, fired);
    // Five advances of MAX_TIMER_DELAY rather than one: Bun's advanceTimersByTime takes at most
    // 2^32 - 1 ms per call.
    for (let i = 0; i < 5; i++) vi.advanceTimersByTime(MAX_TIMER_DELAY);
    expect(fired).not.toHaveBeenCalled();
    cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('on the real platform timers: a 2^31 ms timer has not fired 20 ms later (unchained, it would fire after 1 ms)', async () => {
    const fired = vi.fn();
    const cancel = systemClock.setTimer(2 ** 31, fired);
    await new Promise((resolve) => setTimeout(resolve, 20));
    cancel();
    expect(fired).not.toHaveBeenCalled();
  });
});
