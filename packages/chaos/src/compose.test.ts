/**
 * Each kind of injection, innermost in a pipeline of timeout, retry, circuit breaker and
 * per-attempt timeout: the outer policies react as their docs say they react to the real failure.
 */

import { BrokenCircuitError, circuitBreaker, consecutiveFailures } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import { handleResults, type Policy, pipeline, type ShouldHandle } from '@faultline/core';
import { constant, retry } from '@faultline/retry';
import { TimeoutError, timeout } from '@faultline/timeout';
import { describe, expect, it } from 'vitest';
import { chaosBehavior } from './chaos-behavior.js';
import { chaosFault } from './chaos-fault.js';
import { chaosLatency } from './chaos-latency.js';
import { chaosOutcome } from './chaos-outcome.js';

/** The layers around the chaos policy, with counters of what each did. */
function layers(clock: VirtualClock, chaos: Policy, shouldHandle?: ShouldHandle) {
  const retries = retry({
    maxAttempts: 3,
    backoff: constant(10),
    clock,
    ...(shouldHandle === undefined ? {} : { shouldHandle }),
  });
  const breaker = circuitBreaker({
    trip: consecutiveFailures(3),
    breakDuration: 5_000,
    clock,
    ...(shouldHandle === undefined ? {} : { shouldHandle }),
  });
  const perAttempt = timeout(100, { clock });
  const seen = { retries: 0, opened: 0, timeouts: 0, calls: 0 };
  retries.onRetry(() => seen.retries++);
  breaker.onOpen(() => seen.opened++);
  perAttempt.onTimeout(() => seen.timeouts++);
  const policy = pipeline(timeout(10_000, { clock }), retries, breaker, perAttempt, chaos);
  const call = <T>(value: T): Promise<T> =>
    policy.execute(() => {
      seen.calls++;
      return value;
    });
  return { breaker, policy, seen, call };
}

describe('chaos under timeout, retry and breaker', () => {
  it('chaosFault: retry retries the fault, the breaker counts it and opens, the timeout passes it through', async () => {
    const clock = new VirtualClock();
    const fault = new Error('ECONNRESET (injected)');
    const chaos = chaosFault({ fault, injectionRate: 1, clock });
    let faults = 0;
    chaos.onFault(() => faults++);
    const { breaker, seen, call } = layers(clock, chaos);
    const first = call('ok').catch((error: unknown) => error);
    await clock.runAll();
    // Retried twice, then the fault itself (unchanged, not wrapped, not a timeout) comes out.
    expect(await first).toBe(fault);
    expect(seen).toMatchObject({ retries: 2, timeouts: 0, calls: 0, opened: 1 });
    expect(faults).toBe(3);
    expect(breaker.state).toBe('open');
    // Open: the next call is rejected at once (never retried), nothing reaches the chaos policy.
    const second = call('ok').catch((error: unknown) => error);
    await clock.runAll();
    expect(await second).toBeInstanceOf(BrokenCircuitError);
    expect(faults).toBe(3);
  });

  it('chaosLatency: the per-attempt timeout cuts the wait, retry retries the timeouts, the breaker opens on them', async () => {
    const clock = new VirtualClock();
    const chaos = chaosLatency({ latency: 5_000, injectionRate: 1, clock });
    const { breaker, seen, call } = layers(clock, chaos);
    const first = call('ok').catch((error: unknown) => error);
    await clock.runAll();
    expect(await first).toBeInstanceOf(TimeoutError);
    // Three attempts of 100 ms, 10 ms apart: all cut by the per-attempt timeout.
    expect(clock.now()).toBe(320);
    expect(seen).toMatchObject({ timeouts: 3, retries: 2, calls: 0, opened: 1 });
    expect(breaker.state).toBe('open');
    expect(clock.pendingTimers).toBe(0); // no injected wait outlived its attempt
  });

  it('chaosOutcome: a 503 result is retried and counted by a result-aware shouldHandle; the last one is returned', async () => {
    const clock = new VirtualClock();
    const chaos = chaosOutcome({
      outcome: () => new Response('injected', { status: 503 }),
      injectionRate: 1,
      clock,
    });
    const { breaker, seen, call } = layers(
      clock,
      chaos,
      handleResults((r: Response) => r.status >= 500),
    );
    const first = call(new Response('real'));
    await clock.runAll();
    const response = await first;
    // Retry gives up and hands back the last handled result, as documented; no timeout.
    expect(response.status).toBe(503);
    expect(seen).toMatchObject({ retries: 2, timeouts: 0, calls: 0, opened: 1 });
    expect(breaker.state).toBe('open');
  });

  it('chaosBehavior: a side effect that takes the dependency down is retried through; a slow one is cut by the timeout', async () => {
    const clock = new VirtualClock();
    // The injected behaviour restarts the dependency: it refuses connections for 150 ms.
    let downUntil = Number.NEGATIVE_INFINITY;
    const restart = chaosBehavior({
      behavior: () => {
        downUntil = clock.now() + 150;
      },
      enabled: (ctx) => ctx.attempt === 1,
      injectionRate: 1,
      clock,
    });
    const { breaker, seen, policy } = layers(clock, restart);
    const dependency = () => {
      seen.calls++;
      if (clock.now() < downUntil) throw new Error('ECONNREFUSED');
      return 'ok';
    };
    const first = policy.execute(dependency).catch((error: unknown) => error);
    await clock.runAll();
    // Attempts at 0 and 10 are refused, 20 too: three consecutive failures open the breaker,
    // whose rejection retry does not retry: the restart's effect is what the caller sees.
    expect(await first).toMatchObject({ message: 'ECONNREFUSED' });
    expect(seen).toMatchObject({ calls: 3, retries: 2, opened: 1 });
    expect(breaker.state).toBe('open');

    // A slow behaviour (a restart that takes 500 ms) inside the per-attempt timeout: the attempt
    // times out and is not called; the retry's next attempt (no injection) succeeds.
    const clock2 = new VirtualClock();
    const slow = chaosBehavior({
      behavior: () => clock2.sleep(500),
      enabled: (ctx) => ctx.attempt === 1,
      injectionRate: 1,
      clock: clock2,
    });
    const second = layers(clock2, slow);
    const result = second.call('ok');
    await clock2.runAll();
    await expect(result).resolves.toBe('ok');
    expect(second.seen).toMatchObject({ timeouts: 1, retries: 1, calls: 1, opened: 0 });
  });
});
