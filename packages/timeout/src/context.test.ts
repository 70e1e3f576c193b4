import { getEventListeners } from 'node:events';
import { Deadline } from '@faultline/clock';
import { CancellableContext, RootContext, rootContext } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { onContextAbort, TimeoutContext } from './context.js';

describe('onContextAbort', () => {
  it('registers nothing for a context that can never abort', () => {
    expect(onContextAbort(rootContext, () => {})).toBeUndefined();
    expect(onContextAbort(new RootContext(), () => {})).toBeUndefined();
  });

  it("listens to a root context's caller signal, and unsubscribes", () => {
    const caller = new AbortController();
    const ctx = new RootContext(caller.signal);
    let calls = 0;
    const unsubscribe = onContextAbort(ctx, () => calls++)!;
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    unsubscribe();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    onContextAbort(ctx, () => calls++);
    caller.abort('x');
    expect(calls).toBe(1);
  });

  it('a TimeoutContext notifies subscribers (also through attempt contexts) without creating a signal', () => {
    const caller = new AbortController();
    const child = new TimeoutContext(new RootContext(caller.signal), Deadline.never);
    const attempt = child.withAttempt(2);
    const seen: unknown[] = [];
    onContextAbort(attempt, () => seen.push(attempt.abortReason));
    const unsubscribed = onContextAbort(child, () => seen.push('unsubscribed'))!;
    unsubscribed();
    expect(child.signalRead).toBe(false);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1); // the child watches its parent
    caller.abort('caller');
    expect(seen).toEqual(['caller']);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(child.signalRead).toBe(false);
    // Subscribing to an aborted context calls back at once.
    onContextAbort(attempt, () => seen.push('late'));
    expect(seen).toEqual(['caller', 'late']);
  });

  it("a TimeoutContext's own abort notifies; dispose stops watching the parent", () => {
    const caller = new AbortController();
    const own = new TimeoutContext(new RootContext(caller.signal), Deadline.never);
    const seen: unknown[] = [];
    onContextAbort(own, () => seen.push(own.abortReason));
    own.abort('timeout');
    expect(seen).toEqual(['timeout']);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    const disposed = new TimeoutContext(new RootContext(caller.signal), Deadline.never);
    onContextAbort(disposed, () => seen.push('never'));
    disposed.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    caller.abort('late');
    expect(seen).toEqual(['timeout']);
  });

  it("falls back to the signal of another kind of context (core's CancellableContext)", () => {
    const ctx = new CancellableContext(rootContext, Deadline.never);
    let calls = 0;
    const unsubscribe = onContextAbort(ctx, () => calls++);
    expect(unsubscribe).toBeDefined();
    expect(ctx.signalRead).toBe(true);
    ctx.abort('x');
    expect(calls).toBe(1);
  });
});
