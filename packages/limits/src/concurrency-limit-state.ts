import { type Clock, systemClock } from '@faultline/clock';
import type { ExecutionContext } from '@faultline/core';
import { WaitQueue } from '@faultline/core/internal';
import type { LimitAlgorithm } from './limit-algorithm.js';

// How a permit's call ended, as told to the limiter.
/** @internal */
export const SUCCESS = 0;
/** @internal */
export const DROPPED = 1;
/** @internal */
export const IGNORED = 2;
/** @internal How a call ended, as told to the limiter. */
export type CallOutcome = typeof SUCCESS | typeof DROPPED | typeof IGNORED;

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

  #report(outcome: CallOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#state.release(this, outcome);
  }
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
  /**
   * The clock is the platform's: read `performance.now()` directly. Two reads per timed call are
   * most of the success path's cost (about 45 ns each on Node 20), and the direct call skips
   * `systemClock.now`'s wrapper.
   */
  readonly #system: boolean;
  readonly #queueTimeout: number;
  readonly #hooks: ConcurrencyLimitHooks;
  /** A fixed limit learns nothing from samples: its calls are not timed (a clock read each). */
  readonly #timed: boolean;
  /** Callers waiting for a slot, first come first served (no payload: a slot is all they need). */
  readonly #waiting: WaitQueue<undefined, ConcurrencyPermit>;
  readonly #queueTimedOut: () => unknown;
  #inflight = 0;

  constructor(
    algorithm: LimitAlgorithm,
    clock: Clock,
    queueTimeout: number,
    hooks: ConcurrencyLimitHooks,
  ) {
    this.algorithm = algorithm;
    this.#clock = clock;
    this.#system = clock === systemClock;
    this.#queueTimeout = queueTimeout;
    this.#hooks = hooks;
    this.#timed = algorithm.kind !== 'fixed';
    this.#waiting = new WaitQueue(clock);
    this.#queueTimedOut = () => hooks.queueTimedOut();
  }

  get inflight(): number {
    return this.#inflight;
  }

  get queued(): number {
    return this.#waiting.size;
  }

  /** Whether a caller arriving now may start at once (FIFO: not past waiting callers). */
  get hasRoom(): boolean {
    return this.#inflight < this.algorithm.limit && this.#waiting.size === 0;
  }

  #now(): number {
    return this.#system ? performance.now() : this.#clock.now();
  }

  /**
   * Takes a slot (the caller checked {@link hasRoom}) without a permit object, for a call the
   * policy wraps itself: returns its start time (0 when untimed); {@link inflight} is then the
   * calls in flight at its admission. Report its end with {@link end}.
   */
  begin(): number {
    this.#inflight++;
    return this.#timed ? this.#now() : 0;
  }

  /** Takes a slot (the caller checked {@link hasRoom}). */
  admit(): ConcurrencyPermit {
    const start = this.begin();
    return new ConcurrencyPermit(this, start, this.#inflight);
  }

  /** Waits in the FIFO for a slot; rejects on the caller's abort or the queue timeout. */
  enqueue(ctx: ExecutionContext): Promise<ConcurrencyPermit> {
    return this.#waiting.wait(ctx, undefined, this.#queueTimeout, this.#queueTimedOut);
  }

  /** @internal A permit reports its outcome (once). */
  release(permit: ConcurrencyPermit, outcome: CallOutcome): void {
    this.end(permit.start, permit.inflight, outcome);
  }

  /**
   * A call admitted by {@link begin} (at `start`, with `inflight` calls in flight) ended with
   * `outcome`: frees its slot, gives the algorithm its sample, and hands the slot on.
   */
  end(start: number, inflight: number, outcome: CallOutcome): void {
    this.#inflight--;
    if (outcome !== IGNORED && this.#timed) {
      const algorithm = this.algorithm;
      const previous = algorithm.limit;
      const rtt = this.#now() - start;
      const didDrop = outcome === DROPPED;
      algorithm.update(rtt, inflight, didDrop);
      if (algorithm.limit !== previous) {
        this.#hooks.limitChanged(previous, rtt, inflight, didDrop);
      }
    }
    if (this.#waiting.size > 0) this.#drain();
  }

  /** Hands free slots to waiting callers, first come first served. */
  #drain(): void {
    const waiting = this.#waiting;
    while (waiting.size > 0 && this.#inflight < this.algorithm.limit) {
      // An aborted caller still queued is rejected by `shift` and takes no slot.
      const waiter = waiting.shift();
      if (waiter === undefined) return;
      waiter.resolve(this.admit());
    }
  }
}
