import { getEventListeners } from 'node:events';
import { trackTimers } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { type Clock, neverAbortedSignal, sleep, systemClock } from './clock.js';
import { Deadline, DeadlineExceededError } from './deadline.js';
import { Stopwatch } from './stopwatch.js';
import { VirtualClock } from './virtual-clock.js';

describe('Deadline', () => {
  it('after / at / remaining / expired on a VirtualClock', async () => {
    const clock = new VirtualClock(1000);
    const deadline = Deadline.after(100, clock);
    expect(deadline.expiresAt).toBe(1100);
    expect(deadline.remaining()).toBe(100);
    await clock.advance(60);
    expect(deadline.remaining()).toBe(40);
    expect(deadline.expired()).toBe(false);
    await clock.advance(40);
    expect(deadline.remaining()).toBe(0);
    expect(deadline.expired()).toBe(true);
    await clock.advance(40);
    expect(deadline.remaining()).toBe(0);
    expect(Deadline.at(1500, clock).remaining()).toBe(360);
    expect(Deadline.at(0, clock).expired()).toBe(true);
  });

  it('remainingAt: what is left at a reading already taken, as remaining() reads it', async () => {
    const clock = new VirtualClock(1000);
    const deadline = Deadline.after(100, clock);
    expect(deadline.remainingAt(1000)).toBe(100);
    expect(deadline.remainingAt(1060)).toBe(40);
    expect(deadline.remainingAt(1100)).toBe(0);
    expect(deadline.remainingAt(5000)).toBe(0);
    await clock.advance(25);
    expect(deadline.remainingAt(clock.now())).toBe(deadline.remaining());
    expect(Deadline.never.remainingAt(1e12)).toBe(Number.POSITIVE_INFINITY);
    expect(() => deadline.remainingAt(Number.NaN)).toThrow(TypeError);
    expect(() => deadline.remainingAt('1000' as unknown as number)).toThrow(TypeError);
    expect(() => deadline.remainingAt(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('never: remaining Infinity, never expires; after(Infinity) and at(Infinity) are never', () => {
    expect(Deadline.never.remaining()).toBe(Number.POSITIVE_INFINITY);
    expect(Deadline.never.expired()).toBe(false);
    expect(Deadline.after(Number.POSITIVE_INFINITY)).toBe(Deadline.never);
    expect(Deadline.at(Number.POSITIVE_INFINITY, new VirtualClock())).toBe(Deadline.never);
    expect(String(Deadline.never)).toBe('Deadline(never)');
  });

  it('earliest picks the earlier, this one on a tie, across clocks by remaining time', () => {
    const clock = new VirtualClock();
    const a = Deadline.after(100, clock);
    const b = Deadline.after(50, clock);
    const tie = Deadline.after(100, clock);
    expect(a.earliest(b)).toBe(b);
    expect(b.earliest(a)).toBe(b);
    expect(a.earliest(tie)).toBe(a);
    expect(a.earliest(Deadline.never)).toBe(a);
    expect(Deadline.never.earliest(a)).toBe(a);
    const other = new VirtualClock(1_000_000);
    const c = Deadline.after(70, other);
    expect(a.earliest(c)).toBe(c);
    expect(b.earliest(c)).toBe(b);
  });

  it('Stopwatch measures elapsed time and restarts', async () => {
    const clock = new VirtualClock();
    const watch = Stopwatch.start(clock);
    await clock.advance(25);
    expect(watch.elapsed()).toBe(25);
    expect(watch.restart()).toBe(25);
    await clock.advance(5);
    expect(watch.elapsed()).toBe(5);
    expect(Stopwatch.start().elapsed()).toBeGreaterThanOrEqual(0);
  });
});

describe('Deadline.signal()', () => {
  it('creates its timer on the first request only and returns the same signal', async () => {
    const clock = new VirtualClock();
    const deadline = Deadline.after(100, clock);
    expect(clock.pendingTimers).toBe(0);
    const signal = deadline.signal();
    expect(clock.pendingTimers).toBe(1);
    expect(deadline.signal()).toBe(signal);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(99);
    expect(signal.aborted).toBe(false);
    await clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect((signal.reason as DeadlineExceededError).code).toBe('DEADLINE_EXCEEDED');
    expect(clock.pendingTimers).toBe(0);
  });

  it('an expired deadline gives an aborted signal and no timer', () => {
    const clock = new VirtualClock();
    const signal = Deadline.after(0, clock).signal();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect(clock.pendingTimers).toBe(0);
  });

  it('never gives the shared never-aborted signal and no timer', () => {
    expect(Deadline.never.signal()).toBe(neverAbortedSignal);
    expect(neverAbortedSignal.aborted).toBe(false);
  });

  it('dispose() (and Symbol.dispose) clears the timer; the signal then never aborts', async () => {
    const clock = new VirtualClock();
    const deadline = Deadline.after(100, clock);
    const signal = deadline.signal();
    deadline.dispose();
    deadline.dispose();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1000);
    expect(signal.aborted).toBe(false);
    const other = Deadline.after(5, clock);
    other.signal();
    other[Symbol.dispose]();
    expect(clock.pendingTimers).toBe(0);
  });

  it('never aborts before expired() is true, even when the timer fires early', async () => {
    const virtual = new VirtualClock();
    // A clock whose timers of 1 ms or more fire 0.5 ms early, as Node's whole-ms timers can.
    const early: Clock = {
      now: () => virtual.now(),
      sleep: (ms, signal) => virtual.sleep(ms, signal),
      setTimer: (ms, callback) => virtual.setTimer(ms >= 1 ? ms - 0.5 : ms, callback),
    };
    const deadline = Deadline.after(10, early);
    const signal = deadline.signal();
    const seen: boolean[] = [];
    signal.addEventListener('abort', () => seen.push(deadline.expired()));
    await virtual.advance(9.6);
    expect(signal.aborted).toBe(false);
    await virtual.advance(0.4);
    expect(signal.aborted).toBe(true);
    expect(seen).toEqual([true]);
  });

  it('aborting a sleep leaves no abort listener on the deadline signal (VirtualClock)', async () => {
    const clock = new VirtualClock();
    const deadline = Deadline.after(50, clock);
    const signal = deadline.signal();
    const done = clock.sleep(10_000, signal).catch((error: unknown) => error);
    await clock.advance(50);
    expect(await done).toBeInstanceOf(DeadlineExceededError);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('on systemClock: aborts a sleep, then no listener and no timer is left', async () => {
    const deadline = Deadline.after(5);
    const signal = deadline.signal();
    await expect(sleep(60_000, signal)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(deadline.expired()).toBe(true);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    // The deadline's timer fired; dispose() has nothing left to clear.
    expect(String(deadline)).toBe('Deadline(0ms left)');
  });

  it('on systemClock: its timer is unref (never keeps the process alive)', () => {
    const timers = trackTimers();
    try {
      const deadline = Deadline.after(60_000, systemClock);
      deadline.signal();
      expect(timers.last?.hasRef()).toBe(false);
      deadline.dispose();
    } finally {
      timers.restore();
    }
  });
});

describe('Deadline and Stopwatch argument validation', () => {
  const notAClock = { now: () => 0 } as unknown as Clock;

  it('Deadline.after: ms wrong type / out of range; clock wrong type', () => {
    expect(() => Deadline.after('5' as unknown as number)).toThrow(TypeError);
    expect(() => Deadline.after('5' as unknown as number)).toThrow(/Deadline.after: argument "ms"/);
    expect(() => Deadline.after(Number.NaN)).toThrow(TypeError);
    expect(() => Deadline.after(-1)).toThrow(RangeError);
    expect(() => Deadline.after(-1)).toThrow(
      /argument "ms" must be a number in \[0, Infinity\], received -1/,
    );
    expect(() => Deadline.after(5, notAClock)).toThrow(TypeError);
    expect(() => Deadline.after(5, notAClock)).toThrow(
      /Deadline.after: argument "clock" must be a Clock/,
    );
  });

  it('Deadline.at: time wrong type / out of range; clock wrong type', () => {
    expect(() => Deadline.at('5' as unknown as number)).toThrow(TypeError);
    expect(() => Deadline.at('5' as unknown as number)).toThrow(/Deadline.at: argument "time"/);
    expect(() => Deadline.at(Number.NEGATIVE_INFINITY)).toThrow(RangeError);
    expect(() => Deadline.at(Number.NEGATIVE_INFINITY)).toThrow(/argument "time".*-Infinity/);
    expect(() => Deadline.at(5, null as unknown as Clock)).toThrow(/Deadline.at: argument "clock"/);
  });

  it('Stopwatch.start: clock wrong type (a Clock has no range)', () => {
    expect(() => Stopwatch.start(notAClock)).toThrow(TypeError);
    expect(() => Stopwatch.start(notAClock)).toThrow(
      /Stopwatch.start: argument "clock" must be a Clock/,
    );
    expect(() => Stopwatch.start(42 as unknown as Clock)).toThrow(/received 42/);
  });
});
