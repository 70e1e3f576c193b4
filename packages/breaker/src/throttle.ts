import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  drawRandom,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  identify,
  type Listener,
  OutcomeClassifier,
  optionalClock,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Random,
  type ShouldHandle,
  type Task,
  telemetry,
  type Verdict,
} from '@faultline/core';
import { ThrottledError } from './errors.js';
import { handleOverload } from './overload.js';
import { RollingCounters } from './rolling-counters.js';

const OWNER = 'adaptiveThrottle';
// Counter fields of the rolling window.
const REQUESTS = 0;
const ACCEPTS = 1;

// How a permit's request ended, as reported to the throttle.
const ACCEPTED = 0;
const REJECTED = 1;
const IGNORED = 2;

/** Options of {@link adaptiveThrottle}. */
export interface AdaptiveThrottleOptions {
  /**
   * The multiplier K: the client keeps sending up to K times what the backend accepts. Lower is
   * more aggressive. A number ≥ 1; default 2 (the SRE book's recommendation).
   */
  readonly k?: number;
  /** Rolling window of the request and accept counts, ms (> 0). Default 120 000 (two minutes). */
  readonly window?: number;
  /** Slices of the window (integer in [1, 1000]). Default 12. */
  readonly buckets?: number;
  /**
   * Which outcomes are the backend rejecting for overload (every other outcome is an accept).
   * Default {@link handleOverload}: `ExecutionRejectedError`s and HTTP 429 / 503. If it throws,
   * the caller gets its error and the request is taken back (counted as nothing).
   */
  readonly shouldHandle?: ShouldHandle;
  /** Never throttle while the window holds fewer requests than this (integer ≥ 0). Default 0. */
  readonly minimumRequests?: number;
  /** Monotonic time source. Default `systemClock`. */
  readonly clock?: Clock;
  /** Random source for the rejection draw. Default `Math.random`. */
  readonly random?: Random;
  /**
   * The throttle's name in telemetry (a downstream or a use, never a request). Default
   * `'adaptive-throttle'`.
   */
  readonly name?: string;
}

/** Event of {@link AdaptiveThrottle.onReject}. */
export interface ThrottleRejectEvent {
  readonly probability: number;
}

/**
 * Permission for one request from `throttle.tryAcquire()`: report `accepted()` when the backend
 * took it, `rejected()` when it refused it for overload, or `ignore()` to take the request back
 * (e.g. the caller aborted before sending). Only the first report counts.
 */
export class ThrottlePermit {
  readonly #settle: (outcome: number) => void;
  #done = false;

  /** @internal Created by the throttle. */
  constructor(settle: (outcome: number) => void) {
    this.#settle = settle;
  }

  /** The backend accepted the request (any outcome other than an overload rejection). */
  accepted(): void {
    this.#report(ACCEPTED);
  }

  /** The backend rejected the request for overload (429, 503, …). */
  rejected(): void {
    this.#report(REJECTED);
  }

  /** The request says nothing about the backend: it counts as neither a request nor an accept. */
  ignore(): void {
    this.#report(IGNORED);
  }

  #report(outcome: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle(outcome);
  }
}

/**
 * Client-side adaptive throttling (Beyer et al., "Site Reliability Engineering", ch. 21
 * "Handling Overload"): each client tracks, over a rolling window, the requests it attempted and
 * the requests the backend accepted, and rejects new requests locally with probability
 *
 *     max(0, (requests − K · accepts) / (requests + 1))
 *
 * so that once the backend refuses work, the client sends about K times what it accepts instead
 * of hammering it. Locally rejected requests count as requests (as in the book), which is what
 * makes the probability rise while the backend stays overloaded.
 *
 * A sent request counts when its outcome is known (as grpc-java's `AdaptiveThrottler` registers
 * it with the backend's response), never while it is in flight: counted at send time, the i-th
 * of a burst of first calls would see `i / (i + 1)` with no answer back yet, and a fresh client
 * would reject most of a burst to a healthy backend.
 */
export class AdaptiveThrottle extends PolicyBase {
  readonly #k: number;
  readonly #minimumRequests: number;
  readonly #classifier: OutcomeClassifier;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #counters: RollingCounters;
  readonly #settle: (outcome: number) => void;
  readonly #reject = new EventChannel<ThrottleRejectEvent>();
  readonly #identity: PolicyIdentity;
  /** The probability used by the last rejected admission. */
  #rejectedWith = 0;

  constructor(options?: AdaptiveThrottleOptions) {
    super();
    const opts = checkOptions<AdaptiveThrottleOptions>(OWNER, options);
    this.#k = opts.k === undefined ? 2 : checkNumber(OWNER, 'k', opts.k, { min: 1 });
    const window =
      opts.window === undefined
        ? 120_000
        : checkNumber(OWNER, 'window', opts.window, { min: 0, minExclusive: true });
    const buckets =
      opts.buckets === undefined
        ? 12
        : checkNumber(OWNER, 'buckets', opts.buckets, { min: 1, max: 1000, integer: true });
    this.#minimumRequests =
      opts.minimumRequests === undefined
        ? 0
        : checkNumber(OWNER, 'minimumRequests', opts.minimumRequests, { min: 0, integer: true });
    this.#classifier = new OutcomeClassifier(
      opts.shouldHandle === undefined
        ? handleOverload
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    );
    // A throttle only reads the time.
    this.#clock = optionalClock(OWNER, 'clock', opts.clock, ['now']);
    this.#random =
      opts.random === undefined ? Math.random : checkFunction<Random>(OWNER, 'random', opts.random);
    this.#counters = new RollingCounters(window, buckets, 2);
    this.#settle = (outcome) => {
      if (outcome !== IGNORED) this.#answered(outcome === ACCEPTED);
    };
    this.#identity = identify(OWNER, 'adaptive-throttle', opts.name);
  }

  /** The throttle's name in telemetry (option `name`, default `'adaptive-throttle'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** The probability that a request made now is rejected locally. */
  get probability(): number {
    this.#counters.advance(this.#clock.now());
    return this.#probability();
  }

  /**
   * Requests in the window: those answered (accepted or rejected by the backend) and those
   * rejected locally. Requests still in flight are not counted yet.
   */
  get requests(): number {
    this.#counters.advance(this.#clock.now());
    return this.#counters.total(REQUESTS);
  }

  /** Requests the backend accepted in the window. */
  get accepts(): number {
    this.#counters.advance(this.#clock.now());
    return this.#counters.total(ACCEPTS);
  }

  async [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (!this.#admit()) throw this.#rejection(ctx);
    let value: T;
    try {
      value = (await fn(ctx)) as T;
    } catch (error) {
      this.#settleOutcome(this.#classifier.classify({ ok: false, error }, ctx));
      throw error;
    }
    if (!this.#classifier.classifiesResults) {
      this.#answered(true);
      return value;
    }
    const verdict = this.#classifier.classify({ ok: true, value }, ctx);
    this.#settleOutcome(verdict);
    // An overload answer that arrives after the caller left is not a success either.
    if (verdict === 'aborted') throw ctx.abortReason;
    return value;
  }

  /**
   * Counts an answered request. The caller gave up (`'aborted'`): the request says nothing about
   * the backend and counts as nothing. A throwing `shouldHandle` never gets here: its error
   * replaces the outcome and the request counts as nothing either (counted with no accept, a
   * classifier bug would read as backend overload).
   */
  #settleOutcome(verdict: Verdict): void {
    if (verdict !== 'aborted') this.#answered(verdict === 'unhandled');
  }

  /** Low-level admission: a permit, or `undefined` when the request is throttled. */
  tryAcquire(): ThrottlePermit | undefined {
    if (!this.#admit()) {
      if (this.#reject.hasListeners || telemetry.hasSubscribers) this.#rejection();
      return undefined;
    }
    return new ThrottlePermit(this.#settle);
  }

  /** A request was throttled locally. */
  onReject(listener: Listener<ThrottleRejectEvent>): () => void {
    return this.#reject.subscribe(listener);
  }

  describe(): PolicyDescription {
    const counters = this.#counters;
    return {
      name: 'adaptiveThrottle',
      options: {
        k: this.#k,
        window: counters.window,
        buckets: counters.buckets,
        minimumRequests: this.#minimumRequests,
      },
    };
  }

  #probability(): number {
    const counters = this.#counters;
    const requests = counters.total(REQUESTS);
    if (requests < this.#minimumRequests) return 0;
    const p = (requests - this.#k * counters.total(ACCEPTS)) / (requests + 1);
    return p > 0 ? p : 0;
  }

  /**
   * Decides whether a request may be sent. A locally rejected one counts as a request at once
   * (SRE book: "requests" are attempts, throttled ones included); a sent one counts when it is
   * {@link #answered}.
   */
  #admit(): boolean {
    const counters = this.#counters;
    counters.advance(this.#clock.now());
    const p = this.#probability();
    if (p > 0 && drawRandom(this.#random, OWNER) < p) {
      counters.add(REQUESTS);
      this.#rejectedWith = p;
      return false;
    }
    return true;
  }

  /** A sent request's outcome is known: it counts as a request, and as an accept if accepted. */
  #answered(accepted: boolean): void {
    const counters = this.#counters;
    counters.advance(this.#clock.now());
    counters.add(REQUESTS);
    if (accepted) counters.add(ACCEPTS);
  }

  #rejection(ctx?: ExecutionContext): ThrottledError {
    const p = this.#rejectedWith;
    if (this.#reject.hasListeners) this.#reject.emit({ probability: p });
    const error = new ThrottledError(p);
    // The probability is a number, not a label: it goes on span events, never on metrics.
    if (telemetry.hasSubscribers) {
      const attributes = { probability: p };
      publishEvent(this.#identity, ctx, 'throttled', this.#clock.now(), error, attributes);
    }
    return error;
  }
}

/** Creates an {@link AdaptiveThrottle}. */
export function adaptiveThrottle(options?: AdaptiveThrottleOptions): AdaptiveThrottle {
  return new AdaptiveThrottle(options);
}
