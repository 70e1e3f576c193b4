import { describe, expect, it, vi } from 'vitest';
import {
  countConstructions,
  deferred,
  fakeTimersClock,
  manualClock,
  type TimerClock,
  telemetryRecorder,
  trackTimers,
} from './browser.js';

describe('deferred', () => {
  it('settles its promise when the test says: resolve', async () => {
    const gate = deferred<string>();
    gate.resolve('open');
    await expect(gate.promise).resolves.toBe('open');
  });

  it('settles its promise when the test says: reject', async () => {
    const gate = deferred();
    const error = new Error('closed');
    gate.reject(error);
    await expect(gate.promise).rejects.toBe(error);
  });
});

describe('telemetryRecorder', () => {
  // A stream that counts its listeners, to see the recorder end its subscriptions.
  const listeners = new Set<(record: string) => void>();
  const stream = {
    subscribe(listener: (record: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const publish = (record: string) => {
    for (const listener of listeners) listener(record);
  };
  const record = telemetryRecorder(stream);

  it('records what is published after record(), each array on its own', () => {
    publish('before');
    const first = record();
    publish('a');
    const second = record();
    publish('b');
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['b']);
    expect(listeners.size).toBe(2);
  });

  it("ends every subscription after the test that took it (the previous test's two)", () => {
    expect(listeners.size).toBe(0);
  });
});

describe('manualClock', () => {
  it('reads the time the test sets; sleeping or setting a timer on it throws', () => {
    const clock = manualClock();
    expect(clock.now()).toBe(0);
    clock.t += 250;
    expect(clock.now()).toBe(250);
    expect(() => clock.sleep()).toThrow(/sleeps/);
    expect(() => clock.setTimer()).toThrow(/sets a timer/);
  });
});

describe('fakeTimersClock', () => {
  it("moves the clock's readings and fires its timers when the test moves t", () => {
    // A stand-in for systemClock: it reads performance.now() and setTimeout when called.
    const platform: TimerClock = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      setTimer: (ms, callback) => {
        const handle = setTimeout(callback, ms);
        return () => clearTimeout(handle);
      },
    };
    const clock = fakeTimersClock(platform);
    try {
      const fired: number[] = [];
      clock.setTimer(100, () => fired.push(clock.now()));
      const start = clock.t;
      clock.t = start + 99;
      expect(fired).toEqual([]);
      clock.t = start + 100;
      expect(fired).toEqual([start + 100]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('countConstructions', () => {
  let LoadedError: new (message: string) => Error = Error;
  const counts = countConstructions(async () => {
    // What a module under test does at load time: extend the global Error.
    LoadedError = class LoadedError extends Error {};
  });

  it('counts AbortControllers, and Errors of the classes bound while loading', () => {
    counts.controllers = 0;
    counts.errors = 0;
    new AbortController();
    new LoadedError('counted');
    new Error('restored after loading: not counted');
    expect(counts).toEqual({ controllers: 1, errors: 1 });
  });
});

describe('trackTimers', () => {
  it('sees each platform timer live until it fires or is cleared; last is the latest set', async () => {
    const timers = trackTimers();
    try {
      const fired = new Promise((resolve) => setTimeout(resolve, 1));
      const cleared = setTimeout(() => {}, 60_000);
      expect(timers.live.size).toBe(2);
      expect(timers.last).toBe(cleared);
      clearTimeout(cleared);
      expect(timers.live.size).toBe(1);
      await fired;
      expect(timers.live.size).toBe(0);
    } finally {
      timers.restore();
    }
    setTimeout(() => {}, 0);
    expect(timers.live.size).toBe(0); // restored: no longer tracked
  });
});
