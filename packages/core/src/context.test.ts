import { getEventListeners } from 'node:events';
import { Deadline, neverAbortedSignal, VirtualClock } from '@faultline/clock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  adoptContext,
  CancellableContext,
  contextFor,
  ExecutionContext,
  RootContext,
  rootContext,
} from './context.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

// Counts AbortController constructions: a policy that needs no per-call signal must not create
// one on the success path (CONTRIBUTING.md, the policy checklist: "the success path allocates
// nothing it does not need").
let constructed = 0;
const OriginalAbortController = globalThis.AbortController;

/**
 * Runs `body` and asserts that Node emitted no process warning meanwhile (a
 * MaxListenersExceededWarning, emitted on a later tick, is let arrive before the check).
 */
async function expectNoProcessWarning(body: () => void): Promise<void> {
  const warnings: unknown[] = [];
  const onWarning = (warning: unknown): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  expect(warnings).toEqual([]);
}
beforeEach(() => {
  constructed = 0;
  globalThis.AbortController = class CountingAbortController extends OriginalAbortController {
    constructor() {
      super();
      constructed++;
    }
  };
});
afterEach(() => {
  globalThis.AbortController = OriginalAbortController;
});

describe('contextFor / RootContext', () => {
  it('shares one immutable root context when there is no signal', () => {
    expect(contextFor(undefined)).toBe(rootContext);
    expect(contextFor(neverAbortedSignal)).toBe(rootContext);
    expect(rootContext.attempt).toBe(1);
    expect(rootContext.deadline).toBe(Deadline.never);
    expect(rootContext.aborted).toBe(false);
    expect(rootContext.abortReason).toBeUndefined();
    expect(rootContext.signal).toBe(neverAbortedSignal);
  });

  it("wraps the caller's signal and reports its abort without allocating", () => {
    const controller = new OriginalAbortController();
    const ctx = contextFor(controller.signal);
    expect(ctx).toBeInstanceOf(RootContext);
    expect(ctx.signal).toBe(controller.signal);
    expect(ctx.aborted).toBe(false);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(ctx.aborted).toBe(true);
    expect(ctx.abortReason).toBe(reason);
    expect(constructed).toBe(0);
  });

  it('withAttempt keeps the signal and deadline and sets the attempt', () => {
    const controller = new OriginalAbortController();
    const ctx = contextFor(controller.signal);
    const clock = new VirtualClock();
    const deadline = Deadline.after(100, clock);
    const second = ctx.withAttempt(2);
    expect(second.attempt).toBe(2);
    expect(second.signal).toBe(controller.signal);
    expect(second.deadline).toBe(Deadline.never);
    expect(ctx.withAttempt(3, deadline).deadline).toBe(deadline);
    controller.abort('stop');
    expect(second.aborted).toBe(true);
    expect(second.abortReason).toBe('stop');
  });

  it('withAttempt reads the parent deadline only when its own is read', async () => {
    // A lazily started timeout makes its deadline on first read (and starts then): building an
    // attempt context must not be that read.
    const clock = new VirtualClock();
    let reads = 0;
    class LazyDeadline extends ExecutionContext {
      readonly signal = neverAbortedSignal;
      readonly attempt = 1;
      readonly aborted = false;
      readonly abortReason = undefined;
      #deadline: Deadline | undefined;
      get deadline(): Deadline {
        reads++;
        this.#deadline ??= Deadline.after(100, clock);
        return this.#deadline;
      }
    }
    const parent = new LazyDeadline();
    const second = parent.withAttempt(2);
    expect(reads).toBe(0);
    await clock.advance(10);
    expect(second.deadline.expiresAt).toBe(110);
    expect(second.deadline).toBe(parent.deadline);
  });
});

describe('CancellableContext', () => {
  it('creates no AbortController unless signal is read, and can still be aborted', () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    expect(child).toBeInstanceOf(CancellableContext);
    expect(child.aborted).toBe(false);
    expect(child.attempt).toBe(1);
    child.abort('timeout');
    expect(child.aborted).toBe(true);
    expect(child.abortedHere).toBe(true);
    expect(child.abortReason).toBe('timeout');
    expect(child.signalRead).toBe(false);
    child.dispose();
    expect(constructed).toBe(0);
    expect(listeners(parent.signal)).toBe(0);
    expect(parent.signal.aborted).toBe(false);
  });

  it('a signal read after abort() is already aborted with the reason, and not linked', () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    child.abort('timeout');
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe('timeout');
    expect(constructed).toBe(1);
    expect(listeners(parent.signal)).toBe(0);
  });

  it("links to the parent's signal with exactly one listener, removed by dispose()", () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    const signal = child.signal;
    expect(child.signal).toBe(signal); // one controller per context
    expect(constructed).toBe(1);
    expect(child.signalRead).toBe(true);
    expect(listeners(parent.signal)).toBe(1);
    child.dispose();
    expect(listeners(parent.signal)).toBe(0);
    parent.abort('late');
    expect(signal.aborted).toBe(false); // unlinked
  });

  it('follows the parent when it aborts, and leaves no listener on it', () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    const signal = child.signal;
    const reason = new Error('caller aborted');
    parent.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(child.aborted).toBe(true);
    expect(child.abortedHere).toBe(false);
    expect(child.abortReason).toBe(reason);
    expect(listeners(parent.signal)).toBe(0);
    child.abort('too late'); // ignored: the parent's abort came first
    expect(child.abortReason).toBe(reason);
    child.dispose();
  });

  it('abort() aborts its signal (not the parent) and removes the listener', () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    const signal = child.signal;
    child.abort('timeout');
    child.abort('second'); // idempotent
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('timeout');
    expect(parent.signal.aborted).toBe(false);
    expect(listeners(parent.signal)).toBe(0);
  });

  it('reads of an already aborted parent give an aborted signal and add no listener', () => {
    const parent = new OriginalAbortController();
    parent.abort('gone');
    const child = new CancellableContext(contextFor(parent.signal), Deadline.never);
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe('gone');
    expect(listeners(parent.signal)).toBe(0);
  });

  it('adds no listener to the shared never-aborting signal', () => {
    const child = rootContext.child();
    expect(child.signal.aborted).toBe(false);
    expect(listeners(neverAbortedSignal)).toBe(0);
    child.abort('x');
    expect(child.signal.aborted).toBe(true);
  });

  it('a signal first read after dispose() adds no listener to the parent', () => {
    const parent = new OriginalAbortController();
    const child = contextFor(parent.signal).child();
    child.dispose();
    const signal = child.signal; // e.g. work an aggressive timeout abandoned reads it late
    expect(signal.aborted).toBe(false);
    expect(listeners(parent.signal)).toBe(0);
    child.abort('still works');
    expect(signal.reason).toBe('still works');
  });

  it('nested children link hop by hop and unlink when aborted', () => {
    const parent = new OriginalAbortController();
    const outer = contextFor(parent.signal).child();
    const middle = outer.child();
    const inner = middle.withAttempt(2);
    expect(inner.attempt).toBe(2);
    const innermost = inner.child();
    expect(innermost.attempt).toBe(2);
    const signal = innermost.signal;
    expect(constructed).toBe(3); // innermost, middle, outer: each links to the one above
    expect(listeners(parent.signal)).toBe(1);
    expect(listeners(outer.signal)).toBe(1);
    expect(listeners(middle.signal)).toBe(1);
    outer.abort('outer timeout');
    expect(signal.reason).toBe('outer timeout');
    expect(innermost.aborted).toBe(true);
    expect(listeners(parent.signal)).toBe(0);
    expect(listeners(outer.signal)).toBe(0);
    expect(listeners(middle.signal)).toBe(0);
    innermost.dispose();
    middle.dispose();
    outer.dispose();
  });

  it('nested children leave no listener after dispose in finally order', () => {
    const parent = new OriginalAbortController();
    const outer = contextFor(parent.signal).child();
    const inner = outer.child();
    void inner.signal;
    inner.dispose();
    outer.dispose();
    expect(listeners(parent.signal)).toBe(0);
    expect(listeners(outer.signal)).toBe(0);
  });

  it('concurrent children of one signal share one listener (no MaxListeners warning)', async () => {
    await expectNoProcessWarning(() => {
      const parent = new OriginalAbortController();
      const root = contextFor(parent.signal);
      const children = Array.from({ length: 50 }, () => root.child());
      const signals = children.map((child) => child.signal);
      expect(listeners(parent.signal)).toBe(1);
      // Leaving in any order keeps the others linked; the last one out removes the listener.
      for (const index of [3, 0, 49, 10]) children[index]!.dispose();
      children[5]!.abort('own');
      expect(listeners(parent.signal)).toBe(1);
      parent.abort('all');
      const reasons = signals.map((signal) => (signal.aborted ? signal.reason : 'not aborted'));
      expect(reasons.filter((r) => r === 'all')).toHaveLength(45);
      expect(reasons[5]).toBe('own');
      expect(reasons.filter((r) => r === 'not aborted')).toHaveLength(4); // the disposed ones
      expect(listeners(parent.signal)).toBe(0);
      for (const child of children) child.dispose();

      const second = new OriginalAbortController();
      const others = Array.from({ length: 20 }, () => contextFor(second.signal).child());
      for (const child of others) void child.signal;
      expect(listeners(second.signal)).toBe(1);
      for (const child of others) child.dispose();
      expect(listeners(second.signal)).toBe(0);
      // Relinking after the last one left adds the listener again.
      const again = contextFor(second.signal).child();
      void again.signal;
      expect(listeners(second.signal)).toBe(1);
      second.abort('late');
      expect(again.signal.reason).toBe('late');
      expect(listeners(second.signal)).toBe(0);
    });
  });

  it('keeps the deadline it was given', () => {
    const clock = new VirtualClock();
    const deadline = Deadline.after(50, clock);
    expect(rootContext.child(deadline).deadline).toBe(deadline);
    expect(rootContext.child().deadline).toBe(Deadline.never);
  });
});

describe('onAbort', () => {
  it('registers nothing and allocates nothing for a context that can never abort', () => {
    expect(rootContext.onAbort(() => {})).toBeUndefined();
    expect(new RootContext().onAbort(() => {})).toBeUndefined();
    expect(
      contextFor(neverAbortedSignal)
        .withAttempt(2)
        .onAbort(() => {}),
    ).toBeUndefined();
    expect(listeners(neverAbortedSignal)).toBe(0);
    expect(constructed).toBe(0);
  });

  it("listens to a root context's caller signal, and unsubscribes", () => {
    const caller = new OriginalAbortController();
    const ctx = new RootContext(caller.signal);
    let calls = 0;
    const unsubscribe = ctx.onAbort(() => calls++)!;
    expect(listeners(caller.signal)).toBe(1);
    unsubscribe();
    expect(listeners(caller.signal)).toBe(0);
    unsubscribe(); // idempotent
    ctx.onAbort(() => calls++);
    caller.abort('x');
    expect(calls).toBe(1);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('subscribers and child links of one caller signal share one listener (no MaxListeners warning)', async () => {
    await expectNoProcessWarning(() => {
      const caller = new OriginalAbortController();
      const seen: number[] = [];
      const unsubscribes = Array.from(
        { length: 30 },
        (_, i) => contextFor(caller.signal).onAbort(() => seen.push(i))!,
      );
      const child = contextFor(caller.signal).child();
      void child.signal;
      expect(listeners(caller.signal)).toBe(1);
      unsubscribes[7]!();
      caller.abort('all');
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 7));
      expect(child.signal.reason).toBe('all');
      expect(listeners(caller.signal)).toBe(0);
    });
  });

  it('calls back at once (synchronously) on a context that already aborted', () => {
    const caller = new OriginalAbortController();
    caller.abort('gone');
    const seen: string[] = [];
    expect(contextFor(caller.signal).onAbort(() => seen.push('root'))).toBeDefined();
    const child = rootContext.child();
    child.abort('timeout');
    child.onAbort(() => seen.push('child'));
    expect(seen).toEqual(['root', 'child']);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('a child notifies subscribers (also through attempt contexts) without creating a signal', () => {
    const caller = new OriginalAbortController();
    const child = contextFor(caller.signal).child();
    const attempt = child.withAttempt(2);
    const seen: unknown[] = [];
    attempt.onAbort(() => seen.push(attempt.abortReason));
    const unsubscribe = child.onAbort(() => seen.push('unsubscribed'))!;
    unsubscribe();
    expect(child.signalRead).toBe(false);
    expect(listeners(caller.signal)).toBe(1); // the child watches its parent, once
    child.onAbort(() => seen.push('second'));
    expect(listeners(caller.signal)).toBe(1);
    caller.abort('caller');
    expect(seen).toEqual(['caller', 'second']);
    expect(listeners(caller.signal)).toBe(0);
    expect(child.signalRead).toBe(false);
    expect(constructed).toBe(0);
    // Subscribing to an aborted context calls back at once.
    attempt.onAbort(() => seen.push('late'));
    expect(seen).toEqual(['caller', 'second', 'late']);
    child.dispose();
  });

  it("a child's own abort notifies and stops watching the parent; dispose cleans up", () => {
    const caller = new OriginalAbortController();
    const own = contextFor(caller.signal).child();
    const seen: unknown[] = [];
    own.onAbort(() => seen.push(own.abortReason));
    expect(listeners(caller.signal)).toBe(1);
    own.abort('timeout');
    own.abort('again'); // idempotent: no second notification
    expect(seen).toEqual(['timeout']);
    expect(listeners(caller.signal)).toBe(0);

    const disposed = contextFor(caller.signal).child();
    disposed.onAbort(() => seen.push('never'));
    disposed.dispose();
    expect(listeners(caller.signal)).toBe(0);
    // After dispose nothing is registered on the parent again; only an own abort notifies.
    disposed.onAbort(() => seen.push('own after dispose'));
    expect(listeners(caller.signal)).toBe(0);
    caller.abort('late');
    expect(seen).toEqual(['timeout']);
    expect(constructed).toBe(0);
  });

  /**
   * A child of a caller-signal context whose parent's first abort listener (registered before
   * anything the child does, as a timeout's caller-abort handler is) disposes it, after aborting
   * it with the parent's reason when `abort`.
   */
  const disposedOnParentAbort = ({ abort }: { abort: boolean }) => {
    const caller = new OriginalAbortController();
    const root = contextFor(caller.signal);
    const child = root.child();
    root.onAbort(() => {
      if (abort) child.abort(root.abortReason);
      child.dispose();
    });
    return { caller, child };
  };

  it('a parent abort reaches subscribers even when a listener registered before them disposes the child', () => {
    // A timeout registers its caller-abort handler right after starting the function; a retry
    // sleep or bulkhead queue inside subscribes later, so the parent's listener list runs the
    // timeout first, and that handler aborts and disposes the child before the child's own
    // watcher runs. The subscribers must still hear of the abort (else a backoff timer and a
    // queue place outlive the call).
    const { caller, child } = disposedOnParentAbort({ abort: true });
    const seen: unknown[] = [];
    child.onAbort(() => seen.push(child.abortReason));
    caller.abort('caller');
    expect(seen).toEqual(['caller']);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('a parent abort reaches a signal read late even when a listener registered before its link disposes the child', () => {
    // The same race for the signal: a function that reads ctx.signal after an await (a fetch
    // started late) links it after the timeout's caller-abort handler; that handler's abort() and
    // dispose() must not unlink it unaborted.
    const { caller, child } = disposedOnParentAbort({ abort: true });
    const signal = child.signal;
    caller.abort('caller');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('caller');
    expect(listeners(caller.signal)).toBe(0);
  });

  it('dispose() alone during the parent abort still aborts a signal already read', () => {
    const { caller, child } = disposedOnParentAbort({ abort: false });
    const signal = child.signal;
    caller.abort('caller');
    expect(signal.reason).toBe('caller');
    expect(listeners(caller.signal)).toBe(0);
  });

  it('nested children notify hop by hop with no signal, and unwatch when they leave', () => {
    const caller = new OriginalAbortController();
    const outer = contextFor(caller.signal).child();
    const middle = outer.child();
    const inner = middle.withAttempt(3).child();
    const seen: unknown[] = [];
    inner.onAbort(() => seen.push(`inner: ${String(inner.abortReason)}`));
    middle.onAbort(() => seen.push(`middle: ${String(middle.abortReason)}`));
    expect(listeners(caller.signal)).toBe(1); // only the outer child watches the caller
    outer.abort('outer timeout');
    // In subscription order: inner's subscription made middle watch outer first.
    expect(seen).toEqual(['inner: outer timeout', 'middle: outer timeout']);
    expect(listeners(caller.signal)).toBe(0);
    expect(outer.signalRead || middle.signalRead || inner.signalRead).toBe(false);
    expect(constructed).toBe(0);

    // Disposed inside-out (finally order), nothing stays subscribed anywhere.
    const a = contextFor(caller.signal).child();
    const b = a.child();
    const c = b.child();
    c.onAbort(() => seen.push('unexpected'));
    c.dispose();
    b.dispose();
    a.dispose();
    expect(listeners(caller.signal)).toBe(0);
  });

  it('a throwing listener is reported and does not stop the others', () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    try {
      const caller = new OriginalAbortController();
      const child = contextFor(caller.signal).child();
      const seen: string[] = [];
      contextFor(caller.signal).onAbort(() => {
        throw new Error('root listener');
      });
      contextFor(caller.signal).onAbort(() => seen.push('root'));
      child.onAbort(() => {
        throw new Error('child listener');
      });
      child.onAbort(() => seen.push('child'));
      caller.abort('x');
      expect(seen.sort()).toEqual(['child', 'root']);
      expect(reported.map((error) => (error as Error).message).sort()).toEqual([
        'child listener',
        'root listener',
      ]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("an adopted context follows both the foreign policy's signal and the outer context", () => {
    const caller = new OriginalAbortController();
    const foreign = new OriginalAbortController();
    const outer = contextFor(caller.signal).child();
    const adopted = adoptContext({ signal: foreign.signal }, outer);
    let calls = 0;
    const unsubscribe = adopted.onAbort(() => calls++)!;
    expect(listeners(foreign.signal)).toBe(1);
    unsubscribe();
    expect(listeners(foreign.signal)).toBe(0);
    expect(listeners(caller.signal)).toBe(1); // outer keeps watching until it is disposed
    adopted.onAbort(() => calls++);
    foreign.abort('foreign');
    outer.abort('outer'); // already called once: not again
    expect(calls).toBe(1);
    expect(listeners(foreign.signal)).toBe(0);
    const viaOuter = adoptContext({}, contextFor(caller.signal));
    viaOuter.onAbort(() => calls++);
    caller.abort('caller');
    expect(calls).toBe(2);
    outer.dispose();
    expect(listeners(caller.signal)).toBe(0);
  });

  it('falls back to the signal for a context subclass that does not implement it', () => {
    class SignalOnlyContext extends ExecutionContext {
      readonly controller = new OriginalAbortController();
      get signal(): AbortSignal {
        return this.controller.signal;
      }
      get attempt(): number {
        return 1;
      }
      get deadline(): Deadline {
        return Deadline.never;
      }
      get aborted(): boolean {
        return this.controller.signal.aborted;
      }
      get abortReason(): unknown {
        return this.controller.signal.reason;
      }
    }
    const ctx = new SignalOnlyContext();
    let calls = 0;
    const unsubscribe = ctx.onAbort(() => calls++);
    expect(unsubscribe).toBeDefined();
    expect(listeners(ctx.controller.signal)).toBe(1);
    ctx.controller.abort('x');
    expect(calls).toBe(1);
    expect(listeners(ctx.controller.signal)).toBe(0);
    // A child of it watches the same way.
    const other = new SignalOnlyContext();
    const child = other.child();
    child.onAbort(() => calls++);
    other.controller.abort('y');
    expect(calls).toBe(2);
  });
});
