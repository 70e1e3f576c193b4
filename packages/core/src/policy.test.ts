import { getEventListeners } from 'node:events';
import { Deadline } from '@faultline/clock';
import { describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead.js';
import {
  adoptContext,
  type Context,
  contextFor,
  type ExecutionContext,
  rootContext,
} from './context.js';
import { fallback } from './fallback.js';
import {
  describePolicy,
  executeInContext,
  executeWithin,
  invoke,
  isContextual,
  noop,
  Pipeline,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';

/** A policy that records when calls enter and leave it. */
class Recorder extends PolicyBase {
  constructor(
    readonly label: string,
    readonly log: string[],
  ) {
    super();
  }

  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    this.log.push(`${this.label}>`);
    try {
      return await invoke(fn, ctx);
    } finally {
      this.log.push(`<${this.label}`);
    }
  }

  describe(): PolicyDescription {
    return { name: 'recorder', options: { label: this.label } };
  }
}

/** A policy from another library: only `execute(fn, signal)`, no context protocol. */
function foreignPolicy(log: string[]): Policy {
  return {
    async execute<T>(fn: (ctx: Context) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
      log.push('foreign>');
      try {
        const ctx: Context = {
          signal: signal ?? new AbortController().signal,
          attempt: 1,
          deadline: Deadline.never,
        };
        return await fn(ctx);
      } finally {
        log.push('<foreign');
      }
    },
  };
}

const policies = (): Array<[string, Policy]> => [
  ['noop', noop],
  ['pipeline', pipeline(new Recorder('a', []), new Recorder('b', []))],
  ['bulkhead', bulkhead({ limit: 1 })],
  ['fallback', fallback({ fallback: () => 'fallback' })],
];

describe('Policy.execute', () => {
  it.each(policies())(
    '%s: an aborted signal rejects with its reason without calling fn',
    async (_, policy) => {
      const controller = new AbortController();
      const reason = new Error('already gone');
      controller.abort(reason);
      const fn = vi.fn(() => 'value');
      await expect(policy.execute(fn, controller.signal)).rejects.toBe(reason);
      expect(fn).not.toHaveBeenCalled();
    },
  );

  it.each(policies())('%s: a synchronous throw becomes a rejection', async (name, policy) => {
    const error = new Error('sync');
    const result = policy.execute(() => {
      throw error;
    });
    expect(result).toBeInstanceOf(Promise);
    if (name === 'fallback') await expect(result).resolves.toBe('fallback');
    else await expect(result).rejects.toBe(error);
  });

  it.each(policies())(
    '%s: a plain value, a promise and a thenable all resolve',
    async (_, policy) => {
      await expect(policy.execute(() => 1)).resolves.toBe(1);
      await expect(policy.execute(async () => 2)).resolves.toBe(2);
      const thenable: PromiseLike<number> = {
        // biome-ignore lint/suspicious/noThenProperty: a foreign thenable on purpose
        then: (resolve) => Promise.resolve(resolve?.(3)) as never,
      };
      await expect(policy.execute(() => thenable)).resolves.toBe(3);
    },
  );

  it("hands fn a context with the caller's signal, attempt 1 and no deadline", async () => {
    const controller = new AbortController();
    let seen: Context | undefined;
    await pipeline(noop, new Recorder('a', [])).execute((ctx) => {
      seen = ctx;
    }, controller.signal);
    expect(seen?.signal).toBe(controller.signal);
    expect(seen?.attempt).toBe(1);
    expect(seen?.deadline).toBe(Deadline.never);
  });

  it('never throws synchronously, even from a policy whose executeInContext is not async', async () => {
    class Eager extends PolicyBase {
      [executeInContext]<T>(): Promise<T> {
        throw new Error('eager');
      }
      describe(): PolicyDescription {
        return { name: 'eager', options: {} };
      }
    }
    const result = new Eager().execute(() => 1);
    await expect(result).rejects.toThrow('eager');
  });
});

describe('invoke / executeWithin', () => {
  it('invoke turns a synchronous throw into a rejection', async () => {
    const error = new Error('x');
    const result = invoke(() => {
      throw error;
    }, rootContext);
    await expect(result).rejects.toBe(error);
  });

  it("gives a foreign policy the context's signal", async () => {
    const controller = new AbortController();
    const ctx = contextFor(controller.signal);
    const seen: AbortSignal[] = [];
    const foreign: Policy = {
      execute: (fn, signal) => {
        seen.push(signal!);
        return Promise.resolve(fn(ctx));
      },
    };
    await executeWithin(foreign, () => 1, ctx);
    expect(seen).toEqual([controller.signal]);
    expect(isContextual(foreign)).toBe(false);
    expect(isContextual(noop)).toBe(true);
  });
});

describe('pipeline', () => {
  it('runs the first policy outermost', async () => {
    const log: string[] = [];
    const p = pipeline(new Recorder('a', log), new Recorder('b', log), new Recorder('c', log));
    await p.execute(() => {
      log.push('fn');
    });
    expect(log).toEqual(['a>', 'b>', 'c>', 'fn', '<c', '<b', '<a']);
  });

  it('flattens nested pipelines and drops noop', () => {
    const log: string[] = [];
    const a = new Recorder('a', log);
    const b = new Recorder('b', log);
    const c = new Recorder('c', log);
    const p = pipeline(pipeline(a, b), noop, pipeline(c)) as Pipeline;
    expect(p).toBeInstanceOf(Pipeline);
    expect(p.policies).toEqual([a, b, c]);
  });

  it('with zero policies is noop; with one faultline policy is that policy', async () => {
    expect(pipeline()).toBe(noop);
    expect(pipeline(noop, pipeline())).toBe(noop);
    const a = new Recorder('a', []);
    expect(pipeline(a)).toBe(a);
    await expect(pipeline().execute(() => 'ok')).resolves.toBe('ok');
    expect(noop.describe()).toEqual({ name: 'noop', options: {} });
  });

  it('describe() lists the policies outermost first', () => {
    const p = pipeline(
      fallback({ fallback: () => 0 }),
      pipeline(bulkhead({ limit: 2, queue: 3 }), new Recorder('r', [])),
      foreignPolicy([]),
    );
    const description = p.describe();
    expect(description.name).toBe('pipeline');
    expect(description.options).toEqual({});
    expect(description.policies?.map((d) => d.name)).toEqual([
      'fallback',
      'bulkhead',
      'recorder',
      'policy',
    ]);
    expect(description.policies?.[1]).toEqual({
      name: 'bulkhead',
      options: { limit: 2, queue: 3, queueTimeout: Number.POSITIVE_INFINITY },
    });
    expect(describePolicy(p)).toEqual(description);
  });

  it('describePolicy names a foreign class instance by its class', () => {
    class Legacy implements Policy {
      execute<T>(fn: (ctx: Context) => T | PromiseLike<T>): Promise<T> {
        return Promise.resolve(fn(rootContext));
      }
    }
    expect(describePolicy(new Legacy())).toEqual({ name: 'Legacy', options: {} });
  });

  it('composes a foreign policy (a plain object with execute) in any position', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const p = pipeline(new Recorder('a', log), foreignPolicy(log), new Recorder('b', log));
    const seen: AbortSignal[] = [];
    await expect(
      p.execute(({ signal }) => {
        seen.push(signal);
        log.push('fn');
        return 'done';
      }, controller.signal),
    ).resolves.toBe('done');
    expect(log).toEqual(['a>', 'foreign>', 'b>', 'fn', '<b', '<foreign', '<a']);
    expect(seen).toEqual([controller.signal]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Alone in a pipeline it stays wrapped, so the pipeline still speaks the context protocol.
    const alone = pipeline(foreignPolicy(log));
    expect(alone).toBeInstanceOf(Pipeline);
    await expect(alone.execute(() => 5)).resolves.toBe(5);
  });

  it('makes the context a foreign policy passes whole for the faultline policies inside it', async () => {
    // cockatiel hands its function `{ signal }` only; some wrappers call fn() with nothing.
    const signalOnly: Policy = {
      execute: (fn, signal) => Promise.resolve(fn({ signal } as Context)),
    };
    const nothing: Policy = { execute: (fn) => Promise.resolve((fn as () => unknown)()) as never };
    const seen: Array<{
      attempt: number;
      aborted: boolean;
      deadline: Deadline;
      signal: AbortSignal;
    }> = [];
    class Inspect extends PolicyBase {
      async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
        const child = ctx.child(); // a timeout inside a foreign policy needs child()
        try {
          seen.push({
            attempt: ctx.attempt,
            aborted: ctx.aborted,
            deadline: ctx.deadline,
            signal: child.signal,
          });
          return await invoke(fn, child);
        } finally {
          child.dispose();
        }
      }
      describe(): PolicyDescription {
        return { name: 'inspect', options: {} };
      }
    }
    const controller = new AbortController();
    for (const foreign of [signalOnly, nothing]) {
      const p = pipeline(foreign, new Inspect(), bulkhead({ limit: 1 }));
      await expect(p.execute(() => 'ok', controller.signal)).resolves.toBe('ok');
    }
    expect(seen.map(({ attempt, aborted, deadline }) => ({ attempt, aborted, deadline }))).toEqual([
      { attempt: 1, aborted: false, deadline: Deadline.never },
      { attempt: 1, aborted: false, deadline: Deadline.never },
    ]);
    expect(seen.every(({ signal }) => signal.aborted === false)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it("an adopted context reports the foreign policy's own abort", () => {
    const own = new AbortController();
    const outer = contextFor(new AbortController().signal).withAttempt(3);
    const adopted = adoptContext({ signal: own.signal }, outer);
    expect(adopted.attempt).toBe(3);
    expect(adopted.signal).toBe(own.signal);
    expect(adopted.aborted).toBe(false);
    own.abort('foreign timeout');
    expect(adopted.aborted).toBe(true);
    expect(adopted.abortReason).toBe('foreign timeout');
    expect(adoptContext(outer, rootContext)).toBe(outer);
    expect(adoptContext({ attempt: 2, signal: 'nope' }, outer)).toMatchObject({ attempt: 2 });
    expect(adoptContext({ attempt: 2, signal: 'nope' }, outer).signal).toBe(outer.signal);
  });

  it('turns a synchronous throw of a foreign policy into a rejection', async () => {
    const broken: Policy = {
      execute: () => {
        throw new Error('foreign bug');
      },
    };
    const p = pipeline(new Recorder('a', []), broken);
    await expect(p.execute(() => 1)).rejects.toThrow('foreign bug');
    await expect(executeWithin(broken, () => 1, rootContext)).rejects.toThrow('foreign bug');
  });

  it('passes errors through unchanged', async () => {
    const error = new TypeError('boom');
    const p = pipeline(new Recorder('a', []), foreignPolicy([]), bulkhead({ limit: 1 }));
    await expect(p.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  it('rejects a non-policy argument with a TypeError naming its position', () => {
    expect(() => pipeline(noop, {} as Policy)).toThrow(TypeError);
    expect(() => pipeline(noop, {} as Policy)).toThrow(/argument 1/);
    expect(() => pipeline(null as unknown as Policy)).toThrow(/argument 0/);
    expect(() => pipeline('retry' as unknown as Policy)).toThrow(/received "retry"/);
  });
});
