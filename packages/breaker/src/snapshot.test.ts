import { VirtualClock } from '@faultline/clock';
import type { Backoff } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError } from './circuit-breaker-errors.js';
import { consecutiveFailures } from './consecutive-failures.js';
import type { CircuitSnapshot } from './snapshot.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => 'ok';

describe('snapshots', () => {
  it('round trip across a simulated restart restores an open breaker with the right remaining time', async () => {
    // Process 1: monotonic clock starts at 50 000, wall clock at a fixed date.
    let wall = Date.UTC(2026, 10, 26, 12, 0, 0);
    const clock1 = new VirtualClock(50_000);
    const before = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 10_000,
      clock: clock1,
      wallClock: () => wall,
    });
    await before.execute(boom).catch(() => {});
    await clock1.advance(3_000);
    wall += 3_000;
    const persisted = JSON.stringify(before.toJSON());
    expect(JSON.parse(persisted)).toEqual({
      version: 1,
      state: 'open',
      attempt: 1,
      breakDuration: 10_000,
      remainingBreak: 7_000,
      takenAt: wall,
    });

    // The process dies; 2.5 s of wall time later a new one starts with an unrelated monotonic
    // clock (performance.now() restarts near 0).
    wall += 2_500;
    const clock2 = new VirtualClock(12);
    const after = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 10_000,
      clock: clock2,
      wallClock: () => wall,
      initialState: JSON.parse(persisted) as CircuitSnapshot,
    });
    expect(after.state).toBe('open');
    const error = (await after.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error.retryAfter).toBe(4_500);
    await clock2.advance(4_499);
    expect(after.state).toBe('open');
    await clock2.advance(1);
    expect(after.state).toBe('half-open');
    await after.execute(ok);
    expect(after.state).toBe('closed');
  });

  it('never goes negative: a long outage restores straight to half-open', () => {
    const snapshot: CircuitSnapshot = {
      version: 1,
      state: 'open',
      attempt: 2,
      breakDuration: 5_000,
      remainingBreak: 5_000,
      takenAt: 1_000,
    };
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      clock: new VirtualClock(),
      wallClock: () => 1_000_000,
      initialState: snapshot,
    });
    expect(breaker.state).toBe('half-open');
    expect(breaker.toJSON().attempt).toBe(2);
  });

  it('a wall clock that went backwards counts as no time elapsed', async () => {
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      clock: new VirtualClock(),
      wallClock: () => 500,
      initialState: {
        version: 1,
        state: 'open',
        attempt: 1,
        breakDuration: 5_000,
        remainingBreak: 3_000,
        takenAt: 10_000,
      },
    });
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(error.retryAfter).toBe(3_000);
  });

  it('a restored Backoff schedule continues where it was', async () => {
    const backoff: Backoff = {
      *delays() {
        for (let d = 100; ; d *= 2) yield d;
      },
    };
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: backoff,
      clock,
      wallClock: () => 0,
      initialState: {
        version: 1,
        state: 'open',
        attempt: 3,
        breakDuration: 400,
        remainingBreak: 400,
        takenAt: 0,
      },
    });
    await clock.advance(400);
    await breaker.execute(boom).catch(() => {}); // probe fails: the 4th opening
    expect(breaker.toJSON()).toMatchObject({ attempt: 4, breakDuration: 800, remainingBreak: 800 });
  });

  it('restores closed, half-open and isolated (isolated is released only by close())', async () => {
    const base = {
      version: 1 as const,
      attempt: 0,
      breakDuration: 0,
      remainingBreak: 0,
      takenAt: 0,
    };
    const make = (state: CircuitSnapshot['state']) =>
      circuitBreaker({
        trip: consecutiveFailures(1),
        clock: new VirtualClock(),
        initialState: { ...base, state, breakDuration: state === 'closed' ? 0 : 1_000 },
      });
    expect(make('closed').state).toBe('closed');
    const halfOpen = make('half-open');
    expect(halfOpen.state).toBe('half-open');
    await halfOpen.execute(ok);
    expect(halfOpen.state).toBe('closed');
    const isolated = make('isolated');
    expect(isolated.state).toBe('isolated');
    isolated.isolate()();
    expect(isolated.state).toBe('isolated');
    isolated.close();
    expect(isolated.state).toBe('closed');
  });

  it('isolated from closed reports breakDuration 0, even after an earlier opening', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 1_000, clock });
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    await clock.advance(1_000);
    await breaker.execute(ok); // probe succeeds: closed
    breaker.isolate();
    expect(breaker.toJSON()).toMatchObject({ state: 'isolated', attempt: 0, breakDuration: 0 });
  });

  it('a restored half-open breaker still abandons a hung probe after a break duration', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      clock,
      initialState: {
        version: 1,
        state: 'half-open',
        attempt: 2,
        breakDuration: 4_000,
        remainingBreak: 0,
        takenAt: 0,
      },
    });
    void breaker.execute(() => new Promise<never>(() => {})); // hangs forever
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError;
    expect(error.retryAfter).toBe(4_000);
    await clock.advance(4_000);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('onSnapshot receives a fresh snapshot after every state change', async () => {
    const clock = new VirtualClock();
    const snapshots: CircuitSnapshot[] = [];
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 100,
      clock,
      wallClock: () => 42,
      onSnapshot: (s) => snapshots.push(s),
    });
    await breaker.execute(boom).catch(() => {});
    await clock.advance(100);
    await breaker.execute(ok);
    expect(snapshots.map((s) => [s.state, s.remainingBreak, s.takenAt])).toEqual([
      ['open', 100, 42],
      ['half-open', 0, 42],
      ['closed', 0, 42],
    ]);
  });
});

describe('snapshots mid-transition', () => {
  it('with breakDuration 0, onSnapshot sees open then half-open, in order, on the next call', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 0,
      clock,
      onSnapshot: (s) => seen.push(s.state),
    });
    breaker.onStateChange((e) => seen.push(`${e.from}>${e.to}`));
    await breaker.execute(boom).catch(() => {});
    expect(seen).toEqual(['closed>open', 'open']);
    expect(breaker.state).toBe('half-open');
    // Reading the state (or a snapshot) moves nothing and fires nothing (issue 15); the next
    // call makes the lazy open → half-open transition.
    expect(breaker.toJSON().state).toBe('half-open');
    expect(seen).toEqual(['closed>open', 'open']);
    breaker.tryAcquire()?.ignore();
    expect(seen).toEqual(['closed>open', 'open', 'open>half-open', 'half-open']);
  });
});
