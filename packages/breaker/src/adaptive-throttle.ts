import type { Clock } from '@faultline/clock';
import {
  drawRandom,
  EventChannel,
  type ExecuteOptions,
  type ExecutionContext,
  executeInContext,
  identify,
  type Listener,
  OutcomeClassifier,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Random,
  rootContext,
  type Task,
  telemetry,
  type Verdict,
} from '@faultline/core';
import { ThrottledError } from './adaptive-throttle-errors.js';
import type { AdaptiveThrottleRejectEvent } from './adaptive-throttle-events.js';
import {
  type AdaptiveThrottleOptions,
  type ResolvedAdaptiveThrottleOptions,
  resolveAdaptiveThrottleOptions,
} from './adaptive-throttle-options.js';
import { ThrottlePermit, type ThrottlePermitOutcome } from './adaptive-throttle-permit.js';
import { AdaptiveThrottleState } from './adaptive-throttle-state.js';

const OWNER = 'adaptiveThrottle';
const KIND = 'adaptive-throttle';
/** The name `describe()` reports (kept from before the policy checklist: it is public output). */
const DESCRIPTION_NAME = 'adaptiveThrottle';

/**
 * Client-side adaptive throttling (Beyer et al., "Site Reliability Engineering", ch. 21
 * "Handling Overload"): each client tracks, over a rolling window, the requests it attempted and
 * the requests the backend accepted, and rejects new requests locally with probability
 *
 *     max(0, (requests − K · accepts) / (requests + 1))
 *
 * so that once the backend refuses work, the client sends about K times what it accepts instead
 * of hammering it. Locally rejected requests count as requests (as in the book), which is what
 * makes the probability rise while the backend stays overloaded. The counts and the formula live
 * in `AdaptiveThrottleState`. Built by {@link adaptiveThrottle}.
 */
export class AdaptiveThrottlePolicy extends PolicyBase {
  readonly #options: ResolvedAdaptiveThrottleOptions;
  readonly #state: AdaptiveThrottleState;
  readonly #classifier: OutcomeClassifier;
  readonly #clock: Clock;
  readonly #draw: () => number;
  readonly #settle: (outcome: ThrottlePermitOutcome) => void;
  readonly #onReject = new EventChannel<AdaptiveThrottleRejectEvent>();
  readonly #identity: PolicyIdentity;

  /** Validates `options` (see {@link resolveAdaptiveThrottleOptions}); {@link adaptiveThrottle} is the same. */
  constructor(options?: AdaptiveThrottleOptions) {
    super();
    const resolved = resolveAdaptiveThrottleOptions(options);
    this.#options = resolved;
    const { k, minimumRequests, window, buckets } = resolved;
    this.#state = new AdaptiveThrottleState(k, minimumRequests, window, buckets, resolved.clock);
    this.#classifier = new OutcomeClassifier(resolved.shouldHandle);
    this.#clock = resolved.clock;
    const random: Random = resolved.random;
    // Checked at every draw, so a broken source fails naming this option (see drawRandom).
    this.#draw = () => drawRandom(random, OWNER);
    this.#settle = (outcome) => {
      if (outcome !== 'ignored') this.#state.answered(outcome === 'accepted');
    };
    this.#identity = identify(OWNER, KIND, resolved.name);
  }

  /** The throttle's name in telemetry (option `name`, default `'adaptive-throttle'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** The probability that a request made now is rejected locally. */
  get probability(): number {
    return this.#state.probability();
  }

  /**
   * Requests in the window: those answered (accepted or rejected by the backend) and those
   * rejected locally. Requests still in flight are not counted yet.
   */
  get requests(): number {
    return this.#state.requests();
  }

  /** Requests the backend accepted in the window. */
  get accepts(): number {
    return this.#state.accepts();
  }

  /**
   * {@link PolicyBase.execute}, with the common call (no signal, no operation, no telemetry
   * subscriber) dispatched here: the skeleton's call of `executeInContext` is shared by every
   * policy class and turns megamorphic in an application that uses several, where this one only
   * ever sees a throttle.
   */
  override execute<T>(fn: Task<T>, signalOrOptions?: AbortSignal | ExecuteOptions): Promise<T> {
    if (signalOrOptions !== undefined || telemetry.hasSubscribers) {
      return super.execute(fn, signalOrOptions);
    }
    try {
      return this[executeInContext](fn, rootContext);
    } catch (error) {
      return Promise.reject(error); // as PolicyBase.execute: never a synchronous throw
    }
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let rejectedAt: number | undefined;
    try {
      rejectedAt = this.#state.admit(this.#draw);
      if (rejectedAt !== undefined) return Promise.reject(this.#rejection(rejectedAt, ctx));
    } catch (error) {
      // The random source failed (see drawRandom).
      return Promise.reject(error);
    }
    if (ctx !== rootContext) return this.#run(fn, ctx);
    // The root context (no signal, no operation) never aborts, so the outcome handlers need
    // nothing of the call: they are made once, and the call costs no async function.
    let result: T | PromiseLike<T>;
    try {
      result = fn(ctx);
    } catch (error) {
      return this.#failedAtOnce(error);
    }
    return Promise.resolve(result).then(this.#answered, this.#failed) as Promise<T>;
  }

  readonly #answered = (value: unknown): unknown => this.#completeValue(value, rootContext);

  /** Counts a failure of a call in the root context, and rethrows it. */
  readonly #failed = (error: unknown): never => {
    this.#count(this.#classifier.classify({ ok: false, error }, rootContext));
    throw error;
  };

  #failedAtOnce(error: unknown): Promise<never> {
    try {
      return this.#failed(error);
    } catch (thrown) {
      // `error`, or the error of a throwing `shouldHandle`, which replaces it.
      return Promise.reject(thrown);
    }
  }

  async #run<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let value: T;
    try {
      value = (await fn(ctx)) as T;
    } catch (error) {
      this.#count(this.#classifier.classify({ ok: false, error }, ctx));
      throw error;
    }
    return this.#completeValue(value, ctx);
  }

  #completeValue<T>(value: T, ctx: ExecutionContext): T {
    // A result-blind rule skips building an Outcome on success.
    if (!this.#classifier.classifiesResults) {
      this.#state.answered(true);
      return value;
    }
    const verdict = this.#classifier.classify({ ok: true, value }, ctx);
    this.#count(verdict);
    // An overload answer that arrives after the caller left is not a success either.
    if (verdict === 'aborted') throw ctx.abortReason;
    return value;
  }

  /** Low-level admission: a permit, or `undefined` when the request is throttled. */
  tryAcquire(): ThrottlePermit | undefined {
    const rejectedAt = this.#state.admit(this.#draw);
    if (rejectedAt !== undefined) {
      if (this.#onReject.hasListeners || telemetry.hasSubscribers) this.#rejection(rejectedAt);
      return undefined;
    }
    return new ThrottlePermit(this.#settle);
  }

  /** A request was throttled locally. */
  onReject(listener: Listener<AdaptiveThrottleRejectEvent>): () => void {
    return this.#onReject.subscribe(listener);
  }

  describe(): PolicyDescription {
    const { k, window, buckets, minimumRequests } = this.#options;
    return { name: DESCRIPTION_NAME, options: { k, window, buckets, minimumRequests } };
  }

  /**
   * Counts an answered request. The caller gave up (`'aborted'`): the request says nothing about
   * the backend and counts as nothing. A throwing `shouldHandle` never gets here: its error
   * replaces the outcome and the request counts as nothing either (counted with no accept, a
   * classifier bug would read as backend overload).
   */
  #count(verdict: Verdict): void {
    if (verdict !== 'aborted') this.#state.answered(verdict === 'unhandled');
  }

  #rejection(probability: number, ctx?: ExecutionContext): ThrottledError {
    if (this.#onReject.hasListeners) this.#onReject.emit({ probability });
    const error = new ThrottledError(probability);
    // The probability is a number, not a label: it goes on span events, never on metrics.
    if (telemetry.hasSubscribers) {
      const attributes = { probability };
      publishEvent(this.#identity, ctx, 'throttled', this.#clock.now(), error, attributes);
    }
    return error;
  }
}

/** Creates an {@link AdaptiveThrottlePolicy} (exactly `new AdaptiveThrottlePolicy(options)`). */
export function adaptiveThrottle(options?: AdaptiveThrottleOptions): AdaptiveThrottlePolicy {
  return new AdaptiveThrottlePolicy(options);
}

/** The class's name before the policy checklist (kept: add, never rename). */
export const AdaptiveThrottle = AdaptiveThrottlePolicy;
/** @deprecated Use {@link AdaptiveThrottlePolicy}. */
export type AdaptiveThrottle = AdaptiveThrottlePolicy;
