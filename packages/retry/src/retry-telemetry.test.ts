import { VirtualClock } from '@faultline/clock';
import { named, pipeline, telemetry } from '@faultline/core';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { constant } from './backoff.js';
import { tokenBucketBudget } from './budgets/token-bucket.js';
import { retry } from './retry.js';

const record = telemetryRecorder(telemetry);

/** A VirtualClock that counts its readings. */
class CountingClock extends VirtualClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

/** Fails `failures` times with a TypeError, then resolves 'ok'; each attempt takes 5 ms. */
function flaky(clock: VirtualClock, failures: number) {
  let calls = 0;
  return async () => {
    calls++;
    await clock.sleep(5);
    if (calls <= failures) throw new TypeError(`fetch failed ${calls}`);
    return 'ok';
  };
}

async function settle<T>(clock: VirtualClock, promise: Promise<T>): Promise<T | unknown> {
  const settled = promise.then(
    (value) => value,
    (error: unknown) => error,
  );
  await clock.runAll();
  return settled;
}

describe('retry telemetry', () => {
  it('takes a name (default the kind) and checks it', () => {
    expect(retry().name).toBe('retry');
    expect(retry({ name: 'github' }).name).toBe('github');
    expect(() => retry({ name: '' })).toThrow(RangeError);
  });

  it('reads no clock and publishes nothing on the success path while nobody subscribes', async () => {
    const clock = new CountingClock();
    const policy = retry({ clock });
    for (let i = 0; i < 100; i++) await policy.execute(() => i);
    expect(clock.reads).toBe(0);
  });

  it('an attempt record per attempt, a retry event per retry, and the success attempt', async () => {
    const clock = new VirtualClock();
    const records = record();
    const policy = retry({ clock, backoff: constant(10), maxAttempts: 4, name: 'github' });
    const result = await settle(
      clock,
      named('api', pipeline(policy)).execute(flaky(clock, 2), { operation: 'list' }),
    );
    expect(result).toBe('ok');
    const attempts = records.filter((r) => r.type === 'attempt');
    expect(
      attempts.map((r) => [r.attempt, r.handled, r.duration, (r.error as Error)?.name]),
    ).toEqual([
      [1, true, 5, 'TypeError'],
      [2, true, 5, 'TypeError'],
      [3, false, 5, undefined],
    ]);
    for (const r of attempts) {
      expect(r).toMatchObject({
        policy: { kind: 'retry', name: 'github' },
        pipeline: 'api',
        operation: 'list',
      });
    }
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => r.type === 'event' && [r.event, r.severity, r.attributes])).toEqual([
      ['retry', 'information', { attempt: 1, delay: 10 }],
      ['retry', 'information', { attempt: 2, delay: 10 }],
    ]);
  });

  it('give-up with its reason after the last attempt', async () => {
    const clock = new VirtualClock();
    const records = record();
    const policy = retry({ clock, backoff: constant(10), maxAttempts: 2 });
    const error = await settle(clock, policy.execute(flaky(clock, 5)));
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => r.type === 'event' && r.event)).toEqual(['retry', 'give-up']);
    expect(events[1]).toMatchObject({
      severity: 'warning',
      error,
      attributes: { reason: 'attempts', attempts: 2 },
    });
    expect(records.filter((r) => r.type === 'attempt').length).toBe(2);
  });

  it('budget-exhausted, then give-up with reason budget, when the budget denies a retry', async () => {
    const clock = new VirtualClock();
    const records = record();
    // gRFC A6: a failure costs one token; retries are allowed while tokens > maxTokens / 2.
    const budget = tokenBucketBudget({ maxTokens: 2, tokenRatio: 0.1 });
    const policy = retry({ clock, backoff: constant(10), maxAttempts: 5, budget });
    await settle(clock, policy.execute(flaky(clock, 10)));
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => r.type === 'event' && [r.event, r.severity])).toEqual([
      ['budget-exhausted', 'warning'],
      ['give-up', 'warning'],
    ]);
    expect(events[1]).toMatchObject({ attributes: { reason: 'budget', attempts: 1 } });
  });
});
