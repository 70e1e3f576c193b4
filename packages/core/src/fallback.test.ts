import { VirtualClock } from '@faultline/clock';
import { describe, expect, it, vi } from 'vitest';
import type { Context, ExecutionContext } from './context.js';
import { fallback } from './fallback.js';
import type { FallbackEvent } from './fallback-events.js';
import { handleErrors, handleResults, type Outcome, or } from './outcome.js';
import {
  executeInContext,
  invoke,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from './policy.js';

class Unavailable extends Error {}

/** An enclosing policy that aborts the context it hands inward after `ms` (a stand-in timeout). */
class AbortAfter extends PolicyBase {
  constructor(
    readonly ms: number,
    readonly clock: VirtualClock,
  ) {
    super();
  }
  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const child = ctx.child();
    const cancel = this.clock.setTimer(this.ms, () => child.abort(new Error('outer timeout')));
    try {
      return await invoke(fn, child);
    } finally {
      cancel();
      child.dispose();
    }
  }
  describe(): PolicyDescription {
    return { name: 'abort-after', options: {} };
  }
}

describe('fallback', () => {
  it('passes a success through without calling the fallback', async () => {
    const substitute = vi.fn(() => 'substitute');
    const policy = fallback({ fallback: substitute });
    await expect(policy.execute(() => 'real')).resolves.toBe('real');
    expect(substitute).not.toHaveBeenCalled();
  });

  it('replaces any error by default, handing it the outcome and the context', async () => {
    const error = new Unavailable('down');
    const calls: Array<[Outcome<unknown>, Context]> = [];
    const policy = fallback({
      fallback: (outcome, ctx) => {
        calls.push([outcome, ctx]);
        return 'cached';
      },
    });
    const controller = new AbortController();
    await expect(policy.execute(() => Promise.reject(error), controller.signal)).resolves.toBe(
      'cached',
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toEqual({ ok: false, error });
    expect(calls[0]![1].signal).toBe(controller.signal);
    expect(calls[0]![1].attempt).toBe(1);
  });

  it('replaces a synchronous throw', async () => {
    const policy = fallback({ fallback: () => 0 });
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).resolves.toBe(0);
  });

  it('lets errors it does not handle pass through unchanged', async () => {
    const policy = fallback({ shouldHandle: handleErrors(Unavailable), fallback: () => 'x' });
    const other = new TypeError('bug');
    await expect(policy.execute(() => Promise.reject(other))).rejects.toBe(other);
    await expect(policy.execute(() => Promise.reject(new Unavailable()))).resolves.toBe('x');
  });

  it('replaces handled results, and never asks a result-blind rule about successes', async () => {
    const policy = fallback<{ status: number }>({
      shouldHandle: or(
        handleErrors(Unavailable),
        handleResults<{ status: number }>((r) => r.status === 503),
      ),
      fallback: (outcome) => (outcome.ok ? { status: 200 } : { status: 299 }),
    });
    await expect(policy.execute(() => ({ status: 503 }))).resolves.toEqual({ status: 200 });
    await expect(policy.execute(() => ({ status: 404 }))).resolves.toEqual({ status: 404 });
    const errorsOnly = vi.fn(handleErrors(Unavailable));
    // A spy is not known to be result-blind, so it is asked (and says no).
    await expect(
      fallback({ shouldHandle: errorsOnly, fallback: () => 1 }).execute(() => 2),
    ).resolves.toBe(2);
    expect(errorsOnly).toHaveBeenCalledTimes(1);
  });

  it('supports an async fallback, and rejects with the error of a failing fallback', async () => {
    const clock = new VirtualClock();
    const slow = fallback({ fallback: () => clock.sleep(10).then(() => 'later') });
    const result = slow.execute(() => Promise.reject(new Error('x')));
    await clock.advance(10);
    await expect(result).resolves.toBe('later');

    const broken = new Error('fallback broke');
    const throwing = fallback({
      fallback: () => {
        throw broken;
      },
    });
    await expect(throwing.execute(() => Promise.reject(new Error('x')))).rejects.toBe(broken);
    const rejecting = fallback({ fallback: () => Promise.reject(broken) });
    await expect(rejecting.execute(() => Promise.reject(new Error('x')))).rejects.toBe(broken);
    // A synchronous throw of the function, with and without a caller's signal: still a rejection.
    const syncThrow = (): never => {
      throw new Error('x');
    };
    await expect(throwing.execute(syncThrow)).rejects.toBe(broken);
    const signal = new AbortController().signal;
    await expect(throwing.execute(syncThrow, signal)).rejects.toBe(broken);
    await expect(throwing.execute(() => Promise.reject(new Error('x')), signal)).rejects.toBe(
      broken,
    );
  });

  it("never handles the caller's abort", async () => {
    const substitute = vi.fn(() => 'substitute');
    const rule = vi.fn(() => true);
    const policy = fallback({ shouldHandle: rule, fallback: substitute });
    const controller = new AbortController();
    const reason = new Error('caller aborted');
    const result = policy.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(rule).not.toHaveBeenCalled();
    expect(substitute).not.toHaveBeenCalled();
  });

  it('does not handle the abort of an enclosing timeout either, but does handle an inner one', async () => {
    const clock = new VirtualClock();
    const substitute = vi.fn(() => 'substitute');
    const hang = ({ signal }: Context) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );

    const outer = pipeline(new AbortAfter(10, clock), fallback({ fallback: substitute }));
    const outerResult = outer.execute(hang).catch((e: unknown) => e);
    await clock.advance(10);
    expect(await outerResult).toMatchObject({ message: 'outer timeout' });
    expect(substitute).not.toHaveBeenCalled();

    const inner = pipeline(fallback({ fallback: substitute }), new AbortAfter(10, clock));
    const innerResult = inner.execute(hang);
    await clock.advance(10);
    await expect(innerResult).resolves.toBe('substitute');
  });

  it('emits onFallback with the outcome before the fallback runs', async () => {
    const order: string[] = [];
    const events: FallbackEvent[] = [];
    const error = new Error('down');
    const policy = fallback({
      fallback: () => {
        order.push('fallback');
        return 1;
      },
    });
    const off = policy.onFallback((event) => {
      order.push('event');
      events.push(event);
    });
    await policy.execute(() => Promise.reject(error));
    expect(order).toEqual(['event', 'fallback']);
    expect(events).toEqual([{ outcome: { ok: false, error }, attempt: 1 }]);
    off();
    await policy.execute(() => Promise.reject(error));
    expect(events).toHaveLength(1);
  });

  it('describe() gives its name and its options as plain data', () => {
    const substitute = () => 1;
    expect(
      fallback({ shouldHandle: handleErrors(Unavailable), fallback: substitute }).describe(),
    ).toEqual({
      name: 'fallback',
      options: { shouldHandle: 'custom', fallback: 'custom' },
    });
    expect(fallback({ fallback: substitute }).describe().options).toEqual({
      shouldHandle: 'handleAll',
      fallback: 'custom',
    });
  });
});
