import {
  type ExecutionContext,
  executeInContext,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from '@faultline/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { timeout } from './timeout.js';

/** A stand-in for retry: runs the rest of the pipeline as attempt 2 via `ctx.withAttempt`. */
class SecondAttempt extends PolicyBase {
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return Promise.resolve(fn(ctx.withAttempt(2)));
  }
  describe(): PolicyDescription {
    return { name: 'secondAttempt', options: {} };
  }
}

// A fixed duration on systemClock starts its timer lazily: no clock reading for a call that ends
// within its event-loop turn, and never a timer that starts before its call.
describe('timeout: lazy start on the system clock', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads no clock when the function settles within the turn', async () => {
    const aggressive = timeout(10_000);
    const cooperative = timeout(10_000, { strategy: 'cooperative' });
    await aggressive.execute(async () => 0); // warm: nothing lazy is left from module loading
    const now = vi.spyOn(performance, 'now');
    for (let i = 0; i < 100; i++) {
      await aggressive.execute(async () => i);
      await cooperative.execute(async () => i);
    }
    expect(now).not.toHaveBeenCalled();
  });

  it('reads no clock for an attempt context built inside it (a retry nested in a later attempt)', async () => {
    // A retry inside the timeout builds its attempt contexts with ctx.withAttempt, which read
    // the timeout's deadline (starting it) when it was its parameter's default.
    const policy = pipeline(timeout(10_000), new SecondAttempt());
    await policy.execute(async (ctx) => ctx.attempt); // warm
    const now = vi.spyOn(performance, 'now');
    for (let i = 0; i < 100; i++) {
      expect(await policy.execute(async (ctx) => ctx.attempt)).toBe(2);
    }
    expect(now).not.toHaveBeenCalled();
    // Read, the attempt's deadline is the timeout's, started at the read.
    const before = performance.now();
    const expiresAt = await policy.execute(async (ctx) => ctx.deadline.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 10_000);
  });

  it('a function reading ctx.deadline gets the full duration from the moment it reads', async () => {
    const policy = timeout(5000);
    const before = performance.now();
    const expiresAt = await policy.execute(async (ctx) => ctx.deadline.expiresAt);
    const after = performance.now();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 5000);
    expect(expiresAt).toBeLessThanOrEqual(after + 5000);
  });

  it('a call still running at the end of its turn times out no earlier than its duration', async () => {
    const policy = timeout(30);
    const started = performance.now();
    let readAt = 0;
    const error = await policy
      .execute(async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        readAt = performance.now();
        // Read after the turn: the deadline is the one the timer runs to.
        const expiresAt = ctx.deadline.expiresAt;
        expect(expiresAt).toBeGreaterThanOrEqual(started + 30);
        expect(expiresAt).toBeLessThanOrEqual(readAt + 30);
        await new Promise(() => {});
      })
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
  });

  it('calls started in one turn and still running share one reading, and expire in order', async () => {
    const policy = timeout(20);
    const order: number[] = [];
    const started = performance.now();
    const calls = [0, 1, 2].map((i) =>
      policy
        .execute(() => new Promise(() => {}))
        .catch(() => {
          order.push(i);
        }),
    );
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
  });
});
