import type { Clock } from '@faultline/clock';
import type { ExecutionContext } from '../context.js';
import { LinkedList, ListNode } from './linked-list.js';

/** A caller waiting in a {@link WaitQueue}, as {@link WaitQueue.shift} hands it over. */
export class Waiter<P, T> extends ListNode {
  unsubscribe: (() => void) | undefined = undefined;
  cancelTimer: (() => void) | undefined = undefined;

  constructor(
    /** The waiting caller's context. */
    readonly ctx: ExecutionContext,
    /** What the caller left with its place in the queue (a bulkhead keeps the function here). */
    readonly payload: P,
    readonly resolve: (value: T | PromiseLike<T>) => void,
    readonly reject: (reason: unknown) => void,
  ) {
    super();
  }
}

/**
 * Callers waiting, first come first served, for something another caller frees: a bulkhead slot,
 * a concurrency-limit permit, rate-limit tokens. A caller whose context aborts leaves at once
 * (rejected with the abort reason); one that waited `timeout` ms leaves with the error
 * `onTimeout()` builds. Both are watched without creating an AbortSignal (`ctx.onAbort`), so
 * callers sharing one caller signal share its single listener. Every listener and timer is
 * removed as the caller leaves, whichever way.
 */
export class WaitQueue<P, T> {
  readonly #waiters = new LinkedList<Waiter<P, T>>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Callers waiting now. */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Queues a caller (whose context has not aborted: check first) until {@link shift} hands it a
   * value, its context aborts, or `timeout` ms pass (`Infinity`: no timer).
   */
  wait(ctx: ExecutionContext, payload: P, timeout: number, onTimeout: () => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = new Waiter<P, T>(ctx, payload, resolve, reject);
      // Not aborted (checked by the caller), so the listener cannot run before we return.
      waiter.unsubscribe = ctx.onAbort(() => {
        if (this.#leave(waiter)) reject(ctx.abortReason);
      });
      if (timeout !== Number.POSITIVE_INFINITY) {
        waiter.cancelTimer = this.#clock.setTimer(timeout, () => {
          waiter.cancelTimer = undefined; // fired: nothing to cancel
          if (this.#leave(waiter)) reject(onTimeout());
        });
      }
      this.#waiters.push(waiter);
    });
  }

  /**
   * Removes the first caller still waiting and returns it, for the owner to `resolve` (or
   * `reject`); `undefined` when none waits. A caller whose context aborted without its abort
   * reaching the queue yet is rejected with its reason on the way.
   */
  shift(): Waiter<P, T> | undefined {
    for (let waiter = this.#waiters.head; waiter !== undefined; waiter = this.#waiters.head) {
      this.#leave(waiter);
      if (!waiter.ctx.aborted) return waiter;
      waiter.reject(waiter.ctx.abortReason);
    }
    return undefined;
  }

  /** Takes `waiter` out with its listener and timer; `false` if it already left. */
  #leave(waiter: Waiter<P, T>): boolean {
    if (!this.#waiters.remove(waiter)) return false;
    const unsubscribe = waiter.unsubscribe;
    if (unsubscribe !== undefined) {
      waiter.unsubscribe = undefined;
      unsubscribe();
    }
    const cancel = waiter.cancelTimer;
    if (cancel !== undefined) {
      waiter.cancelTimer = undefined;
      cancel();
    }
    return true;
  }
}
