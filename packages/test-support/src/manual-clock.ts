import { vi } from 'vitest';

/** What {@link manualClock} returns: a `Clock` of @faultline/clock, with `t` to set. */
export interface ManualClock {
  /** The time `now()` returns, in milliseconds: the test sets it (`clock.t += 100`). */
  t: number;
  now(): number;
  sleep(): Promise<never>;
  setTimer(): never;
}

/**
 * A clock whose time the test sets directly, for code that only reads the time (a breaker's
 * windows, a detector's phi scanned millisecond by millisecond). Its `sleep` and `setTimer`
 * throw: code that starts waiting on it is not what the test was written for, and should say so
 * at once rather than wait on a time that only moves when the test moves it.
 */
export function manualClock(): ManualClock {
  const clock: ManualClock = {
    t: 0,
    now: () => clock.t,
    sleep: () => {
      throw new Error('manualClock: the code under test sleeps; use a VirtualClock');
    },
    setTimer: () => {
      throw new Error('manualClock: the code under test sets a timer; use a VirtualClock');
    },
  };
  return clock;
}

/** The part of a `Clock` of @faultline/clock that {@link fakeTimersClock} passes on. */
export interface TimerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  setTimer(ms: number, callback: () => void, options?: { unref?: boolean }): () => void;
}

/**
 * `clock` (systemClock, passed in: test-support depends on none of the packages it tests) on
 * Vitest's fake timers: setTimeout, clearTimeout and performance are faked (systemClock reads them
 * when called), so the timers that code sets on it run too; `t` reads and moves the fake time.
 * The caller ends it with `vi.useRealTimers()`, in a finally block.
 */
export function fakeTimersClock(clock: TimerClock): TimerClock & { t: number } {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  return {
    get t() {
      return performance.now();
    },
    set t(to: number) {
      vi.advanceTimersByTime(to - performance.now());
    },
    now: clock.now,
    sleep: clock.sleep,
    setTimer: clock.setTimer,
  };
}
