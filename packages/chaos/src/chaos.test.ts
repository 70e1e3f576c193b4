import { getEventListeners } from 'node:events';
import { VirtualClock } from '@faultline/clock';
import { type Context, pipeline, seededRandom, telemetry } from '@faultline/core';
import { constant, retry } from '@faultline/retry';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { timeout } from '@faultline/timeout';
import { describe, expect, it } from 'vitest';
import { chaosBehavior } from './chaos-behavior.js';
import { chaosFault } from './chaos-fault.js';
import { chaosLatency } from './chaos-latency.js';
import { chaosOutcome } from './chaos-outcome.js';

const recordTelemetry = telemetryRecorder(telemetry);

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('chaosFault', () => {
  it('with injectionRate 1, throws the fault instead of calling fn', async () => {
    const fault = new Error('injected');
    const policy = chaosFault({ fault, injectionRate: 1 });
    const faults: unknown[] = [];
    policy.onFault((event) => faults.push(event));
    let calls = 0;
    await expect(policy.execute(() => calls++)).rejects.toBe(fault);
    expect(calls).toBe(0);
    expect(faults).toEqual([{ fault, attempt: 1 }]);
  });

  it('a fault function is called per injected call; undefined injects nothing', async () => {
    let n = 0;
    const policy = chaosFault({
      fault: (ctx: Context) => (++n % 2 === 0 ? new Error(`fault ${ctx.attempt}`) : undefined),
      injectionRate: 1,
    });
    await expect(policy.execute(() => 'ran')).resolves.toBe('ran');
    await expect(policy.execute(() => 'ran')).rejects.toThrow('fault 1');
  });

  it('with injectionRate 0 or enabled false, always calls fn', async () => {
    for (const options of [{ injectionRate: 0 }, { injectionRate: 1, enabled: false }]) {
      const policy = chaosFault({ fault: new Error('x'), ...options });
      for (let i = 0; i < 100; i++) await expect(policy.execute(() => i)).resolves.toBe(i);
    }
  });

  it('enabled false draws nothing from random (the seeded stream is not consumed)', async () => {
    let draws = 0;
    const random = () => {
      draws++;
      return 0.5;
    };
    const policy = chaosFault({ fault: new Error('x'), enabled: false, random });
    await policy.execute(() => 1);
    expect(draws).toBe(0);
  });

  it('enabled and injectionRate may be decided per call from the context', async () => {
    const policy = chaosFault({
      fault: new Error('injected on attempt 1'),
      enabled: (ctx) => ctx.attempt === 1,
      injectionRate: (ctx) => (ctx.attempt === 1 ? 1 : 0),
    });
    const faults: unknown[] = [];
    policy.onFault((event) => faults.push(event));
    const outer = pipeline(retry({ maxAttempts: 2, backoff: constant(0) }), policy);
    let calls = 0;
    await expect(outer.execute(() => ++calls)).resolves.toBe(1);
    expect(faults).toHaveLength(1);
  });

  it('a generator returning an invalid value rejects naming the option (nothing clamped)', async () => {
    const rate = chaosFault({ fault: new Error('x'), injectionRate: () => 1.5 });
    await expect(rate.execute(() => 1)).rejects.toThrow(
      /chaosFault: option "injectionRate\(ctx\) result" must be a number in \[0, 1\], received 1.5/,
    );
    const enabled = chaosFault({ fault: new Error('x'), enabled: (() => 'yes') as never });
    await expect(enabled.execute(() => 1)).rejects.toThrow(
      /chaosFault: option "enabled" must return a boolean, received "yes"/,
    );
    const random = chaosFault({ fault: new Error('x'), random: () => 1 });
    await expect(random.execute(() => 1)).rejects.toThrow(/option "random" must return/);
  });
});

describe('chaosLatency', () => {
  it('waits `latency` on the clock, then calls fn', async () => {
    const clock = new VirtualClock();
    const policy = chaosLatency({ latency: 500, injectionRate: 1, clock });
    const events: unknown[] = [];
    policy.onLatency((event) => events.push(event));
    let calledAt = -1;
    const call = policy.execute(() => {
      calledAt = clock.now();
      return 'late';
    });
    await clock.advance(499);
    expect(calledAt).toBe(-1);
    await clock.advance(1);
    await expect(call).resolves.toBe('late');
    expect(calledAt).toBe(500);
    expect(events).toEqual([{ latency: 500, attempt: 1 }]);
  });

  it("the caller's abort ends the wait at once, without calling fn, leaving no timer or listener", async () => {
    const clock = new VirtualClock();
    const policy = chaosLatency({ latency: 10_000, injectionRate: 1, clock });
    const caller = new AbortController();
    let calls = 0;
    const call = policy.execute(() => calls++, caller.signal);
    await clock.advance(100);
    caller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    expect(calls).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('an enclosing timeout ends the wait (a hang: latency Infinity) and leaves no timer', async () => {
    const clock = new VirtualClock();
    const policy = pipeline(
      timeout(200, { clock }),
      chaosLatency({ latency: Number.POSITIVE_INFINITY, injectionRate: 1, clock }),
    );
    let calls = 0;
    const call = policy.execute(() => calls++);
    const settled = call.catch((error: unknown) => error);
    await clock.advance(200);
    expect(await settled).toMatchObject({ name: 'TimeoutError' });
    expect(calls).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a latency function is asked per injected call; 0 waits not at all', async () => {
    const clock = new VirtualClock();
    const policy = chaosLatency({
      latency: (ctx) => (ctx.attempt - 1) * 100,
      injectionRate: 1,
      clock,
    });
    await expect(policy.execute(() => 'now')).resolves.toBe('now');
    const bad = chaosLatency({ latency: () => -1, injectionRate: 1, clock });
    await expect(bad.execute(() => 1)).rejects.toThrow(/option "latency\(ctx\) result"/);
  });
});

describe('chaosOutcome', () => {
  it('returns the substitute instead of calling fn', async () => {
    const policy = chaosOutcome({
      outcome: () => new Response('injected', { status: 503 }),
      injectionRate: 1,
    });
    const events: Array<{ outcome: unknown }> = [];
    policy.onOutcome((event) => events.push(event));
    let calls = 0;
    const response = (await policy.execute(() => {
      calls++;
      return new Response('real');
    })) as Response;
    expect(response.status).toBe(503);
    expect(calls).toBe(0);
    expect(events[0]!.outcome).toBe(response);
  });

  it('an outcome function that throws rejects the call with its error', async () => {
    const error = new Error('cannot build');
    const policy = chaosOutcome({
      outcome: () => {
        throw error;
      },
      injectionRate: 1,
    });
    await expect(policy.execute(() => 1)).rejects.toBe(error);
  });
});

describe('chaosBehavior', () => {
  it('runs the side effect, then fn', async () => {
    const order: string[] = [];
    const policy = chaosBehavior({
      behavior: async () => {
        order.push('behavior');
      },
      injectionRate: 1,
    });
    const events: unknown[] = [];
    policy.onBehavior((event) => events.push(event));
    await expect(
      policy.execute(() => {
        order.push('fn');
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(order).toEqual(['behavior', 'fn']);
    expect(events).toEqual([{ attempt: 1 }]);
  });

  it('a caller who left while the behaviour ran is not called', async () => {
    const caller = new AbortController();
    const policy = chaosBehavior({
      behavior: async () => {
        caller.abort(new Error('left'));
      },
      injectionRate: 1,
    });
    let calls = 0;
    await expect(policy.execute(() => calls++, caller.signal)).rejects.toThrow('left');
    expect(calls).toBe(0);
  });
});

describe('seeded injection', () => {
  it.each([
    [0.001, 1],
    [0.1, 2],
    [0.5, 3],
  ])(
    'over 100 000 seeded calls at rate %d the injected fraction is within 4σ (seed %d)',
    async (rate, seed) => {
      const policy = chaosFault({
        fault: new Error('x'),
        injectionRate: rate,
        random: seededRandom(seed),
      });
      const n = 100_000;
      let injected = 0;
      const ok = () => 1;
      for (let i = 0; i < n; i++) {
        try {
          await policy.execute(ok);
        } catch {
          injected++;
        }
      }
      const sigma = Math.sqrt(n * rate * (1 - rate));
      const deviation = Math.abs(injected - n * rate) / sigma;
      console.log(
        `rate ${rate}: ${injected} of ${n} injected (expected ${n * rate}, ${deviation.toFixed(2)}σ)`,
      );
      expect(deviation).toBeLessThanOrEqual(4);
    },
  );

  it('the same seed injects at the same calls (a run under injection reproduces exactly)', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const policy = chaosLatency({ latency: 1, injectionRate: 0.2, random: seededRandom(seed) });
      const delayed: number[] = [];
      policy.onLatency(() => delayed.push(calls));
      let calls = 0;
      for (; calls < 200; calls++) await policy.execute(() => calls);
      return delayed;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });
});

describe('telemetry and describe', () => {
  it('publishes chaos-fault, chaos-latency, chaos-outcome and chaos-behavior events', async () => {
    const clock = new VirtualClock();
    const records = recordTelemetry();
    const fault = new Error('f');
    await chaosFault({ fault, injectionRate: 1, clock, name: 'db-fault' })
      .execute(() => 1)
      .catch(() => {});
    const latency = chaosLatency({ latency: 5, injectionRate: 1, clock }).execute(() => 1);
    await clock.advance(5);
    await latency;
    await chaosOutcome({ outcome: () => 2, injectionRate: 1, clock }).execute(() => 1);
    await chaosBehavior({ behavior: () => {}, injectionRate: 1, clock }).execute(() => 1);
    await flush();
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => [r.event, r.policy.kind, r.policy.name])).toEqual([
      ['chaos-fault', 'chaos-fault', 'db-fault'],
      ['chaos-latency', 'chaos-latency', 'chaos-latency'],
      ['chaos-outcome', 'chaos-outcome', 'chaos-outcome'],
      ['chaos-behavior', 'chaos-behavior', 'chaos-behavior'],
    ]);
    expect(events[0]).toMatchObject({ error: fault, severity: 'information' });
    expect(events[1]).toMatchObject({ attributes: { latency: 5 } });
  });

  it('describe() gives the kind and options as plain data', () => {
    expect(chaosFault({ fault: new TypeError('x') }).describe()).toEqual({
      name: 'chaos-fault',
      options: { name: 'chaos-fault', injectionRate: 0.001, enabled: true, fault: 'TypeError' },
    });
    expect(
      chaosLatency({ latency: 100, injectionRate: () => 0.5, enabled: () => true }).describe(),
    ).toEqual({
      name: 'chaos-latency',
      options: { name: 'chaos-latency', injectionRate: 'custom', enabled: 'custom', latency: 100 },
    });
    expect(chaosOutcome({ outcome: () => 1 }).describe().name).toBe('chaos-outcome');
    expect(chaosBehavior({ behavior: () => {} }).describe().name).toBe('chaos-behavior');
  });
});
