import type { Clock } from '@faultline/clock';
import type { ExecutionContext } from '@faultline/core';
import type { LimitAlgorithm } from './limit-algorithm.js';

// How a permit's call ended, as told to the limiter.
const SUCCESS = 0;
const DROPPED = 1;
const IGNORED = 2;
type Outcome = typeof SUCCESS | typeof DROPPED | typeof IGNORED;

/**
 * Permission to run one call under a concurrency limit, from `tryAcquire()` or `acquire()`.
 * Report how the call went exactly once: `success()` (an RTT sample), `failure()` (a drop: the
 * loss signal), or `ignore()` (the caller gave up: neither). Later reports are ignored.
 */
export class ConcurrencyPermit {
  readonly #state: ConcurrencyLimitState;
  /** When the permit was granted (the clock's ms). */
  readonly start: number;
  /** Calls in flight when it was granted, itself included. */
  readonly inflight: number;
  #done = false;

  /** @internal Granted by the limiter. */
  constructor(state: ConcurrencyLimitState, start: number, inflight: number) {
    this.#state = state;
    this.start = start;
    this.inflight = inflight;
  }

  /** Whether the permit has been reported (and its slot freed). */
  get released(): boolean {
    return this.#done;
  }

  /** The call succeeded: its round-trip time is a sample. */
  success(): void {
    this.#report(SUCCESS);
  }

  /** The call failed or timed out: a drop. */
  failure(): void {
    this.#report(DROPPED);
  }

  /** The call says nothing about the downstream (the caller left): only the slot is freed. */
  ignore(): void {
    this.#report(IGNORED);
  }

  #report(outcome: Outcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#state.release(this, outcome);
  }
}

/** A caller waiting for a slot: a node of the FIFO (O(1) removal). */
class Waiter {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  unsubscribe: (() => void) | undefined = undefined;
  cancelTimer: (() => void) | undefined = undefined;

  constructor(
    readonly ctx: ExecutionContext,
    readonly resolve: (permit: ConcurrencyPermit) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** What the state tells its owner (the policy emits events and builds errors). */
export interface ConcurrencyLimitHooks {
  limitChanged(previous: number, rtt: number, inflight: number, didDrop: boolean): void;
  queueTimedOut(): unknown;
}

/**
 * The accounting behind a concurrency limit: calls in flight, the FIFO of waiting callers, and
 * the algorithm that sets the limit from the samples of finished calls. Shared by the policy and
 * the HTTP middleware.
 */
export class ConcurrencyLimitState {
  readonly algorithm: LimitAlgorithm;
  readonly #clock: Clock;
  readonly #queueTimeout: number;
  readonly #hooks: ConcurrencyLimitHooks;
  /** A fixed limit learns nothing from samples: its calls are not timed (a clock read each). */
  readonly #timed: boolean;
  #inflight = 0;
  #queued = 0;
  #head: Waiter | undefined = undefined;
  #tail: Waiter | undefined = undefined;

  constructor(
    algorithm: LimitAlgorithm,
    clock: Clock,
    queueTimeout: number,
    hooks: ConcurrencyLimitHooks,
  ) {
    this.algorithm = algorithm;
    this.#clock = clock;
    this.#queueTimeout = queueTimeout;
    this.#hooks = hooks;
    this.#timed = algorithm.kind !== 'fixed';
  }

  get inflight(): number {
    return this.#inflight;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Whether a caller arriving now may start at once (FIFO: not past waiting callers). */
  get hasRoom(): boolean {
    return this.#inflight < this.algorithm.limit && this.#head === undefined;
  }

  /** Takes a slot (the caller checked {@link hasRoom}). */
  admit(): ConcurrencyPermit {
    const inflight = ++this.#inflight;
    return new ConcurrencyPermit(this, this.#timed ? this.#clock.now() : 0, inflight);
  }

  /** Waits in the FIFO for a slot; rejects on the caller's abort or the queue timeout. */
  enqueue(ctx: ExecutionContext): Promise<ConcurrencyPermit> {
    return new Promise<ConcurrencyPermit>((resolve, reject) => {
      const waiter = new Waiter(ctx, resolve, reject);
      const tail = this.#tail;
      waiter.prev = tail;
      if (tail === undefined) this.#head = waiter;
      else tail.next = waiter;
      this.#tail = waiter;
      this.#queued++;
      // Not aborted (the caller checked), so this cannot call back before it returns.
      waiter.unsubscribe = ctx.onAbort(() => {
        if (this.#unlink(waiter)) waiter.reject(ctx.abortReason);
      });
      if (this.#queueTimeout !== Number.POSITIVE_INFINITY) {
        waiter.cancelTimer = this.#clock.setTimer(this.#queueTimeout, () => {
          waiter.cancelTimer = undefined;
          if (this.#unlink(waiter)) waiter.reject(this.#hooks.queueTimedOut());
        });
      }
    });
  }

  /** @internal A permit reports its outcome (once). */
  release(permit: ConcurrencyPermit, outcome: Outcome): void {
    this.#inflight--;
    if (outcome !== IGNORED && this.#timed) {
      const algorithm = this.algorithm;
      const previous = algorithm.limit;
      const rtt = this.#clock.now() - permit.start;
      const didDrop = outcome === DROPPED;
      algorithm.update(rtt, permit.inflight, didDrop);
      if (algorithm.limit !== previous) {
        this.#hooks.limitChanged(previous, rtt, permit.inflight, didDrop);
      }
    }
    this.#drain();
  }

  /** Hands free slots to waiting callers, first come first served. */
  #drain(): void {
    let waiter = this.#head;
    while (waiter !== undefined && this.#inflight < this.algorithm.limit) {
      this.#unlink(waiter);
      if (waiter.ctx.aborted) waiter.reject(waiter.ctx.abortReason);
      else waiter.resolve(this.admit());
      waiter = this.#head;
    }
  }

  /** Removes `waiter` with its listener and timer; false if it already left. */
  #unlink(waiter: Waiter): boolean {
    const { prev, next } = waiter;
    if (prev === undefined && this.#head !== waiter) return false;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#queued--;
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
