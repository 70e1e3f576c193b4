import type { Clock } from '@faultline/clock';
import {
  type Context,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  type Listener,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  type Task,
} from '@faultline/core';
import { describeBudget, handleTransient } from '@faultline/retry';
import { HedgeSupersededError } from './hedge-errors.js';
import type { HedgeEvent, HedgeSkipEvent, HedgeWinEvent } from './hedge-events.js';
import { type HedgeDelay, type HedgeOptions, resolveHedgeOptions } from './hedge-options.js';
import { HedgeTimers } from './hedge-timers.js';
import { type HedgeEngine, runHedged } from './hedged-call.js';
import { LearnedDelay } from './learned-delay.js';

/** How the delay option schedules attempts, for `describe()`. */
export type HedgeMode = 'latency' | 'parallel' | 'fallback' | 'learned' | 'dynamic';

function modeOf(delay: HedgeDelay): HedgeMode {
  if (delay instanceof LearnedDelay) return 'learned';
  if (typeof delay === 'function') return 'dynamic';
  if (delay === 0) return 'parallel';
  return delay > 0 && delay < Number.POSITIVE_INFINITY ? 'latency' : 'fallback';
}

// One frozen abort reason per winning attempt number, shared by every call: building an Error
// (its stack trace) per hedged call cost more than the rest of the call in the simulator.
const supersededBy: HedgeSupersededError[] = [];
function superseded(winner: number): HedgeSupersededError {
  let reason = supersededBy[winner];
  if (reason === undefined) {
    reason = Object.freeze(new HedgeSupersededError(winner));
    supersededBy[winner] = reason;
  }
  return reason;
}

/**
 * The hedge policy; build it with {@link hedge}. A hedge sends a backup attempt when the first is
 * slow (or failed), takes the first acceptable answer and cancels the rest: the tail-latency tool
 * of "The Tail at Scale" (Dean and Barroso, CACM 2013), Finagle's backup requests, gRPC's
 * `hedgingPolicy` (gRFC A6) and Polly v8's hedging strategy.
 *
 * **Only for idempotent calls**: two attempts may both reach the server and both act.
 */
export class HedgePolicy extends PolicyBase {
  /** The policy's name in telemetry. */
  readonly name: string;
  /** Attempts beyond the first. */
  readonly maxHedgedAttempts: number;
  /** How attempts are scheduled (from the `delay` option). */
  readonly mode: HedgeMode;
  readonly clock: Clock;
  readonly #identity: PolicyIdentity;
  readonly #delay: HedgeDelay;
  readonly #engine: HedgeEngine;
  readonly #onHedge = new EventChannel<HedgeEvent>();
  readonly #onWin = new EventChannel<HedgeWinEvent>();
  readonly #onSkip = new EventChannel<HedgeSkipEvent>();

  constructor(options?: HedgeOptions) {
    super();
    const resolved = resolveHedgeOptions(options);
    this.#identity = resolved.identity;
    this.name = resolved.identity.name;
    this.maxHedgedAttempts = resolved.maxHedgedAttempts;
    this.clock = resolved.clock;
    const delay = resolved.delay;
    this.#delay = delay;
    this.mode = modeOf(delay);
    this.#engine = {
      maxAttempts: resolved.maxHedgedAttempts + 1,
      fixedDelay: typeof delay === 'number' ? delay : undefined,
      dynamicDelay: typeof delay === 'function' ? (delay as (ctx: Context) => number) : undefined,
      learned: delay instanceof LearnedDelay ? delay : undefined,
      timed: typeof delay !== 'number' || (delay > 0 && delay < Number.POSITIVE_INFINITY),
      classifier: new OutcomeClassifier(resolved.shouldHandle),
      budget: resolved.budget,
      retryAfter: resolved.retryAfter,
      clock: resolved.clock,
      timers: new HedgeTimers(resolved.clock),
      identity: resolved.identity,
      onHedge: this.#onHedge,
      onWin: this.#onWin,
      onSkip: this.#onSkip,
      superseded,
    };
  }

  /** When a hedge is sent (just before it starts). Returns an unsubscribe function. */
  onHedge(listener: Listener<HedgeEvent>): () => void {
    return this.#onHedge.subscribe(listener);
  }

  /** When an attempt's acceptable outcome settles the call. */
  onWin(listener: Listener<HedgeWinEvent>): () => void {
    return this.#onWin.subscribe(listener);
  }

  /** When a hedge that was due is not sent (budget, deadline, pushback). */
  onSkip(listener: Listener<HedgeSkipEvent>): () => void {
    return this.#onSkip.subscribe(listener);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    return runHedged(this.#engine, fn, ctx);
  }

  describe(): PolicyDescription {
    const delay = this.#delay;
    const engine = this.#engine;
    return {
      name: 'hedge',
      options: {
        name: this.#identity.name,
        maxHedgedAttempts: this.maxHedgedAttempts,
        mode: this.mode,
        delay:
          delay instanceof LearnedDelay
            ? delay.describe()
            : typeof delay === 'function'
              ? 'custom'
              : delay,
        shouldHandle: engine.classifier.shouldHandle === handleTransient ? 'transient' : 'custom',
        budget: engine.budget === undefined ? 'none' : describeBudget(engine.budget),
        retryAfter: engine.retryAfter === undefined ? 'none' : 'custom',
      },
    };
  }
}

/**
 * Hedged requests: when an attempt has not answered after `delay`, send another, take the first
 * acceptable outcome and cancel the rest (each attempt has its own `ctx.signal` and `ctx.attempt`).
 * `delay: 0` sends every attempt at once, a negative delay only after a handled failure, and
 * `learnedDelay()` hedges at a latency quantile (Finagle's `maxExtraLoad`). A retry `budget`
 * bounds the extra load. **Hedge idempotent calls only.**
 *
 * @example
 * ```ts
 * import { hedge, learnedDelay } from '@faultline/hedge';
 * import { ratioBudget } from '@faultline/retry';
 *
 * const reads = hedge({
 *   delay: learnedDelay({ maxExtraLoad: 0.05 }),       // hedge at the p95 of recent latency
 *   budget: ratioBudget({ ratio: 0.05, minRetriesPerSecond: 0 }), // and never more than 5 % extra
 * });
 * const res = await reads.execute(({ signal }) => fetch(url, { signal }));
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function hedge(options?: HedgeOptions): HedgePolicy {
  return new HedgePolicy(options);
}
