import { telemetryRecorder } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { bulkhead } from './bulkhead.js';
import type { ExecutionContext } from './context.js';
import { ExecutionRejectedError } from './errors.js';
import { fallback } from './fallback.js';
import {
  executeInContext,
  named,
  noop,
  Pipeline,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';
import {
  checkName,
  identify,
  publishAttempt,
  publishEvent,
  TelemetryStream,
  telemetry,
  telemetryEvents,
} from './telemetry.js';

const record = telemetryRecorder(telemetry);

/** A policy that publishes one event with the labels of the context it runs in. */
class Probe extends PolicyBase {
  readonly identity = identify('probe', 'probe', undefined);
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (telemetry.hasSubscribers) publishEvent(this.identity, ctx, 'retry', 0);
    return Promise.resolve(fn(ctx));
  }
  describe(): PolicyDescription {
    return { name: 'probe', options: {} };
  }
}

describe('telemetry stream', () => {
  it('has no subscribers until one subscribes, and none after it leaves', () => {
    const stream = new TelemetryStream();
    expect(stream.hasSubscribers).toBe(false);
    const unsubscribe = stream.subscribe(() => {});
    expect(stream.hasSubscribers).toBe(true);
    unsubscribe();
    unsubscribe();
    expect(stream.hasSubscribers).toBe(false);
  });

  it('is one stream per realm, even for a second copy of the module', async () => {
    const key = Symbol.for('faultline.telemetry');
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(telemetry);
  });

  it('rejects a listener that is not a function', () => {
    expect(() => telemetry.subscribe(42 as never)).toThrow(TypeError);
  });

  it('a throwing listener does not stop the others or the call', async () => {
    const records = record();
    const unsubscribeThrowing = telemetry.subscribe(() => {
      throw new Error('listener bug');
    });
    // Counted per channel: a runtime may deliver one report to both (Deno's process
    // 'uncaughtException' is itself an 'error' listener); a second report shows on each.
    const fromEvents: unknown[] = [];
    const fromProcess: unknown[] = [];
    const onError = (event: Event): void => {
      event.preventDefault();
      fromEvents.push((event as ErrorEvent).error);
    };
    const hasErrorEvents = typeof globalThis.addEventListener === 'function';
    if (hasErrorEvents) globalThis.addEventListener('error', onError);
    const onUncaught = (error: unknown): void => void fromProcess.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(noop.execute(() => 7)).resolves.toBe(7);
      await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      unsubscribeThrowing();
      process.off('uncaughtException', onUncaught);
      if (hasErrorEvents) globalThis.removeEventListener('error', onError);
    }
    expect(records.map((r) => r.type)).toEqual(['execution']);
    expect(Math.max(fromEvents.length, fromProcess.length)).toBe(1);
  });

  it('gives every event its severity from the one vocabulary', () => {
    const records = record();
    const policy = identify('x', 'circuit-breaker', 'payments');
    publishEvent(policy, undefined, 'circuit-opened', 12, new Error('down'), { state: 'open' });
    publishEvent(policy, undefined, 'circuit-closed', 13);
    expect(records).toEqual([
      {
        type: 'event',
        event: 'circuit-opened',
        severity: 'error',
        policy: { kind: 'circuit-breaker', name: 'payments' },
        pipeline: undefined,
        operation: undefined,
        time: 12,
        error: new Error('down'),
        attributes: { state: 'open' },
      },
      {
        type: 'event',
        event: 'circuit-closed',
        severity: 'information',
        policy: { kind: 'circuit-breaker', name: 'payments' },
        pipeline: undefined,
        operation: undefined,
        time: 13,
      },
    ]);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(telemetryEvents['give-up']).toBe('warning');
    expect(telemetryEvents['lease-lost']).toBe('error');
  });

  it('publishes attempt records', () => {
    const records = record();
    publishAttempt(identify('x', 'retry', undefined), undefined, 2, true, 31.5, new Error('e'));
    expect(records[0]).toMatchObject({
      type: 'attempt',
      attempt: 2,
      handled: true,
      duration: 31.5,
    });
    expect(records[0]).toMatchObject({ policy: { kind: 'retry', name: 'retry' } });
  });
});

describe('names and operations', () => {
  it('checks names', () => {
    expect(() => checkName('retry', 'name', 3)).toThrow(TypeError);
    expect(() => checkName('retry', 'name', '')).toThrow(RangeError);
    expect(() => named('', noop)).toThrow(/option "name" must be a non-empty string/);
    expect(() => named('x', {} as never)).toThrow(TypeError);
    expect(identify('retry', 'retry', undefined)).toEqual({ kind: 'retry', name: 'retry' });
    expect(identify('retry', 'retry', 'github')).toEqual({ kind: 'retry', name: 'github' });
  });

  it('labels the records of policies inside a named pipeline, innermost name first', async () => {
    const records = record();
    const inner = named('inner', pipeline(new Probe()));
    const outer = named('outer', pipeline(new Probe(), inner));
    await outer.execute(() => 1, { operation: 'GET /users/:id' });
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => [r.pipeline, r.operation])).toEqual([
      ['outer', 'GET /users/:id'],
      ['inner', 'GET /users/:id'],
    ]);
    const executions = records.filter((r) => r.type === 'execution');
    expect(executions).toMatchObject([
      { pipeline: 'outer', operation: 'GET /users/:id', outcome: 'success' },
    ]);
  });

  it('a named pipeline stays whole inside another pipeline; an unnamed one flattens', () => {
    const a = new Probe();
    const b = new Probe();
    const namedOne = named('n', pipeline(a, b));
    expect((pipeline(pipeline(a, b), a) as Pipeline).policies.length).toBe(3);
    const nested = pipeline(namedOne, a) as Pipeline;
    expect(nested.policies).toEqual([namedOne, a]);
    expect(namedOne.describe()).toMatchObject({ name: 'pipeline', options: { name: 'n' } });
    expect(named('renamed', namedOne).policies).toEqual([a, b]);
    expect(named('single', a)).toBeInstanceOf(Pipeline);
  });

  it('accepts execute(fn, { signal, operation }) and checks it', async () => {
    const controller = new AbortController();
    await expect(noop.execute(() => 2, { signal: controller.signal })).resolves.toBe(2);
    controller.abort(new Error('gone'));
    await expect(
      noop.execute(() => 2, { signal: controller.signal, operation: 'x' }),
    ).rejects.toThrow('gone');
    expect(() => noop.execute(() => 2, { operation: 5 } as never)).toThrow(/"operation"/);
    expect(() => noop.execute(() => 2, { signal: {} } as never)).toThrow(/"signal"/);
    expect(() => noop.execute(() => 2, 'x' as never)).toThrow(TypeError);
  });

  it('execution records say success, failure or rejected', async () => {
    const records = record();
    await noop.execute(() => 1);
    await expect(
      noop.execute(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow();
    const full = bulkhead({ limit: 1 });
    let release!: () => void;
    const holder = full.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(full.execute(() => 1)).rejects.toBeInstanceOf(ExecutionRejectedError);
    release();
    await holder;
    const outcomes = records.filter((r) => r.type === 'execution').map((r) => r.outcome);
    expect(outcomes).toEqual(['success', 'failure', 'rejected', 'success']);
    for (const r of records)
      if (r.type === 'execution') expect(r.duration).toBeGreaterThanOrEqual(0);
  });

  it('builds nothing while nobody subscribes', async () => {
    // No LabelledContext, no execution record: the context the function sees is the shared root.
    let seen: unknown;
    await named('quiet', pipeline(fallback({ fallback: () => 0 }))).execute((ctx) => {
      seen = ctx;
    });
    expect(seen).toBe(noopRoot());
  });
});

function noopRoot(): unknown {
  let root: unknown;
  void noop.execute((ctx) => {
    root = ctx;
  });
  return root;
}

describe('core policies publish', () => {
  it('bulkhead: a named bulkhead-rejected record with the reason and the error', async () => {
    const records = record();
    const db = bulkhead({ limit: 1, name: 'db' });
    expect(db.name).toBe('db');
    expect(bulkhead({ limit: 1 }).name).toBe('bulkhead');
    expect(() => bulkhead({ limit: 1, name: '' })).toThrow(/option "name"/);
    let release!: () => void;
    const holder = db.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const error = await named('orders', pipeline(db))
      .execute(() => 1, { operation: 'read' })
      .catch((e: unknown) => e);
    release();
    await holder;
    const events = records.filter((r) => r.type === 'event');
    expect(events).toEqual([
      {
        type: 'event',
        event: 'bulkhead-rejected',
        severity: 'warning',
        policy: { kind: 'bulkhead', name: 'db' },
        pipeline: 'orders',
        operation: 'read',
        time: expect.any(Number),
        error,
        attributes: { reason: 'full' },
      },
    ]);
  });

  it('fallback: a fallback record with the replaced error, none for an unhandled outcome', async () => {
    const records = record();
    const cached = fallback({ fallback: () => 'cached', name: 'prices' });
    expect(cached.name).toBe('prices');
    const boom = new Error('boom');
    await expect(
      cached.execute(() => {
        throw boom;
      }),
    ).resolves.toBe('cached');
    await cached.execute(() => 'fresh');
    const events = records.filter((r) => r.type === 'event');
    expect(events).toMatchObject([
      { event: 'fallback', severity: 'information', policy: { kind: 'fallback', name: 'prices' } },
    ]);
    expect(events[0]).toMatchObject({ error: boom });
  });

  it('trackState keeps every live policy through its sweeps, and reading never changes state', () => {
    const stream = new TelemetryStream();
    const owners = Array.from({ length: 200 }, (_, i) => ({ state: i % 2 ? 'open' : 'closed' }));
    for (const [i, owner] of owners.entries()) {
      stream.trackState(
        owner,
        identify('x', 'circuit-breaker', `b${i}`),
        ['closed', 'open'],
        (o) => o.state,
      );
    }
    const sources = stream.stateSources();
    expect(sources.length).toBe(200);
    expect(sources[3]).toEqual({
      policy: { kind: 'circuit-breaker', name: 'b3' },
      states: ['closed', 'open'],
      state: 'open',
    });
  });
});
