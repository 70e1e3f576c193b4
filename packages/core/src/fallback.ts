import { systemClock } from '@faultline/clock';
import { OutcomeClassifier } from './classify.js';
import { type ExecutionContext, rootContext } from './context.js';
import { EventChannel, type Listener } from './events.js';
import type { FallbackEvent } from './fallback-events.js';
import {
  type FallbackFunction,
  type FallbackOptions,
  resolveFallbackOptions,
} from './fallback-options.js';
import { describeFunction } from './internal/describe.js';
import type { Outcome } from './outcome.js';
import {
  type ExecuteOptions,
  executeInContext,
  PolicyBase,
  type PolicyDescription,
  type Task,
} from './policy.js';
import { identify, type PolicyIdentity, publishEvent, telemetry } from './telemetry.js';

const OWNER = 'fallback';
const KIND = 'fallback';

/**
 * The fallback policy: replaces a handled outcome with a substitute value (a cached response, a
 * default, a degraded answer), Polly's "fallback" strategy. Built by {@link fallback}.
 *
 * The substitute's type `R` is not tied to each call's `T` (a policy is built once and reused);
 * make `fallback` return what the callers of `execute` expect.
 */
export class FallbackPolicy<R = unknown> extends PolicyBase {
  readonly #classifier: OutcomeClassifier;
  readonly #fallback: FallbackFunction<R>;
  readonly #onFallback = new EventChannel<FallbackEvent>();
  readonly #identity: PolicyIdentity;
  /** The outcome handlers of calls in the root context (none for values a rule ignores). */
  readonly #rootSucceeded: ((value: unknown) => unknown) | undefined;
  readonly #rootFailed: (error: unknown) => unknown;

  /** Validates `options` (see {@link resolveFallbackOptions}); {@link fallback} is the same. */
  constructor(options: FallbackOptions<R>) {
    super();
    const resolved = resolveFallbackOptions(options);
    this.#classifier = new OutcomeClassifier(resolved.shouldHandle);
    this.#fallback = resolved.fallback;
    this.#identity = identify(OWNER, KIND, resolved.name);
    this.#rootSucceeded = this.#classifier.classifiesResults
      ? (value) => this.#succeeded(value, rootContext)
      : undefined;
    this.#rootFailed = (error) => this.#failed(error, rootContext);
  }

  /** The policy's name in telemetry (option `name`, default `'fallback'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Called with the handled outcome just before the fallback function runs. */
  onFallback(listener: Listener<FallbackEvent>): () => void {
    return this.#onFallback.subscribe(listener);
  }

  /**
   * {@link PolicyBase.execute}; the common call (no signal or options, no telemetry subscriber)
   * goes straight to the run instead of through the base class's call of `executeInContext`, which
   * every policy class shares and which turns megamorphic in an application that uses several.
   */
  override execute<T>(fn: Task<T>, signalOrOptions?: AbortSignal | ExecuteOptions): Promise<T> {
    return signalOrOptions === undefined && !telemetry.hasSubscribers
      ? this.#run(fn, rootContext)
      : super.execute(fn, signalOrOptions);
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return this.#run(fn, ctx);
  }

  /** Runs `fn` in `ctx`. Never throws: every outcome is the returned promise's. */
  #run<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let result: T | PromiseLike<T>;
    try {
      result = fn(ctx);
    } catch (error) {
      try {
        return this.#failed(error, ctx) as Promise<T>;
      } catch (rejection) {
        return Promise.reject(rejection);
      }
    }
    // No async function: one promise hop, as `await` would take. Under the root context (no
    // signal, no operation) the outcome handlers are the policy's own, made once.
    if (ctx === rootContext) {
      return Promise.resolve(result).then(this.#rootSucceeded, this.#rootFailed) as Promise<T>;
    }
    return Promise.resolve(result).then(
      this.#classifier.classifiesResults ? (value) => this.#succeeded(value, ctx) : undefined,
      (error: unknown) => this.#failed(error, ctx),
    ) as Promise<T>;
  }

  /** The function resolved with `value`: the value, a substitute, or a throw (the caller left). */
  #succeeded(value: unknown, ctx: ExecutionContext): unknown {
    if (!this.#classifier.classifiesResults) return value;
    const outcome: Outcome<unknown> = { ok: true, value };
    const verdict = this.#classifier.classify(outcome, ctx);
    if (verdict === 'unhandled') return value;
    // A result the rule would replace, after the caller left: not a success, and no substitute.
    if (verdict === 'aborted') throw ctx.abortReason;
    return this.#substitute(outcome, ctx);
  }

  /** The function failed with `error`: a substitute, or a throw of `error`. */
  #failed(error: unknown, ctx: ExecutionContext): Promise<unknown> {
    // The caller's abort (or an enclosing timeout) is the caller giving up: replacing its
    // rejection with a value would hide that (opossum #540 / #198 show how confusing it gets).
    const outcome: Outcome<unknown> = { ok: false, error };
    if (this.#classifier.classify(outcome, ctx) !== 'handled') throw error;
    return this.#substitute(outcome, ctx);
  }

  #substitute<T>(outcome: Outcome<unknown>, ctx: ExecutionContext): Promise<T> {
    if (this.#onFallback.hasListeners) {
      this.#onFallback.emit({ outcome, attempt: ctx.attempt });
    }
    if (telemetry.hasSubscribers) {
      // A fallback has no clock of its own: the record's time is the system clock's.
      const error = outcome.ok ? undefined : outcome.error;
      publishEvent(this.#identity, ctx, 'fallback', systemClock.now(), error);
    }
    // Called from a promise's handler (or inside a try), so a synchronous throw becomes the
    // call's rejection.
    return Promise.resolve(this.#fallback(outcome, ctx)) as Promise<T>;
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        shouldHandle: describeFunction(this.#classifier.shouldHandle),
        fallback: 'custom',
      },
    };
  }
}

/**
 * Replaces a handled outcome (by default: any error) with the value of `fallback(outcome, ctx)`.
 * The wrapped function's errors that are not handled pass through unchanged, and a rejection
 * caused by the caller's abort is never replaced.
 *
 * @example
 * ```ts
 * const cached = fallback({
 *   shouldHandle: handleErrors(TimeoutError, BrokenCircuitError),
 *   fallback: () => lastKnownPrices,
 * });
 * const prices = await pipeline(cached, timeout(500)).execute(({ signal }) => fetchPrices(signal));
 * ```
 */
export function fallback<R = unknown>(options: FallbackOptions<R>): FallbackPolicy<R> {
  return new FallbackPolicy<R>(options);
}
