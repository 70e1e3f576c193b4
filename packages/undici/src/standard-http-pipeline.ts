import { type CircuitBreaker, circuitBreaker, failureRate } from '@faultline/breaker';
import {
  type BulkheadPolicy,
  bulkhead,
  type ExecutionContext,
  executeInContext,
  executeWithin,
  named,
  type Pipeline,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  type Task,
} from '@faultline/core';
import { fetchTask, httpRetryAfter, type RetryPolicy, retry } from '@faultline/retry';
import { type TimeoutPolicy, timeout } from '@faultline/timeout';
import { handleRetryableHttp, handleTransientHttp } from './http-outcome.js';
import {
  type ResolvedStandardHttpOptions,
  resolveStandardHttpOptions,
  type StandardHttpPipelineOptions,
} from './standard-http-pipeline-options.js';
import { warnOnce } from './warn-once.js';

/** `fetch`'s shape. */
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

const warnUnknownRequest = warnOnce(
  'faultline standardHttpPipeline: a transient HTTP failure was not retried because the pipeline ' +
    'cannot see the request method of a plain fetch inside execute(). Use pipeline.fetch(url, init) ' +
    "(or execute(fetchTask(url, init)) from '@faultline/retry'), or set retry.methods: 'all' if " +
    'every request through it is safe to repeat. (Shown once per process.)',
);

/**
 * The standard resilience pipeline for one HTTP dependency, in Microsoft.Extensions.Http.Resilience's
 * order (outermost first): rate limiter → total timeout → retry → circuit breaker → attempt
 * timeout. Build it with {@link standardHttpPipeline}; call {@link fetch} (the method is then known,
 * so idempotent requests are retried automatically) or `execute` for any other call.
 */
export class StandardHttpPipeline extends PolicyBase {
  /** The concurrency limit (a bulkhead), or `undefined` when turned off. */
  readonly rateLimiter: BulkheadPolicy | undefined;
  /** The total timeout, or `undefined`. */
  readonly totalTimeout: TimeoutPolicy | undefined;
  /** The retry, or `undefined`. Its `onRetry` / `onGiveUp` events are the pipeline's. */
  readonly retry: RetryPolicy | undefined;
  /** The circuit breaker, or `undefined`. */
  readonly circuitBreaker: CircuitBreaker | undefined;
  /** The attempt timeout, or `undefined`. */
  readonly attemptTimeout: TimeoutPolicy | undefined;
  readonly #pipeline: Pipeline;
  readonly #options: ResolvedStandardHttpOptions;

  constructor(options?: StandardHttpPipelineOptions) {
    super();
    const opts = resolveStandardHttpOptions(options);
    this.#options = opts;
    const { clock, random } = opts;
    this.rateLimiter =
      opts.rateLimiter === undefined
        ? undefined
        : bulkhead({ limit: opts.rateLimiter.limit, queue: opts.rateLimiter.queue, clock });
    this.totalTimeout =
      opts.totalTimeout === undefined ? undefined : timeout(opts.totalTimeout, { clock });
    this.retry =
      opts.retry === undefined
        ? undefined
        : retry({
            maxAttempts: opts.retry.maxAttempts,
            backoff: opts.retry.backoff,
            shouldHandle: handleRetryableHttp(opts.retry.methods, warnUnknownRequest),
            ...(opts.retry.budget === undefined ? {} : { budget: opts.retry.budget }),
            retryAfter: httpRetryAfter,
            maxRetryAfter: opts.retry.maxRetryAfter,
            clock,
            random,
          });
    this.circuitBreaker =
      opts.circuitBreaker === undefined
        ? undefined
        : circuitBreaker({
            trip: failureRate({
              threshold: opts.circuitBreaker.failureRatio,
              minimumThroughput: opts.circuitBreaker.minimumThroughput,
              window: opts.circuitBreaker.samplingDuration,
            }),
            breakDuration: opts.circuitBreaker.breakDuration,
            shouldHandle: handleTransientHttp,
            clock,
            random,
          });
    this.attemptTimeout =
      opts.attemptTimeout === undefined ? undefined : timeout(opts.attemptTimeout, { clock });
    const stages: Policy[] = [];
    for (const stage of [
      this.rateLimiter,
      this.totalTimeout,
      this.retry,
      this.circuitBreaker,
      this.attemptTimeout,
    ]) {
      if (stage !== undefined) stages.push(stage);
    }
    this.#pipeline = named(opts.name, pipeline(...stages));
  }

  /** The name the pipeline's telemetry carries. */
  get name(): string {
    return this.#options.name;
  }

  /**
   * `fetch(input, init)` through the pipeline: each attempt gets its own signal (aborted by the
   * timeouts or by `init.signal`), the method and `Idempotency-Key` decide whether a transient
   * failure is retried, a retried response's unread body is cancelled, and `Retry-After` is
   * honoured. Resolves with the last `Response` (a final 503 included) like `fetch`, or rejects
   * with the last error or the policy's rejection (`BrokenCircuitError`, `TimeoutError`, …).
   */
  fetch(
    input: RequestInfo | URL,
    init?: RequestInit,
    fetchImpl?: FetchFunction,
  ): Promise<Response> {
    const signal = init?.signal ?? undefined;
    const task = fetchTask(input, init, fetchImpl);
    return signal === undefined ? this.execute(task) : this.execute(task, { signal });
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return executeWithin(this.#pipeline, fn, ctx);
  }

  describe(): PolicyDescription {
    return {
      name: 'standardHttpPipeline',
      options: { name: this.#options.name },
      policies: this.#pipeline.describe().policies ?? [],
    };
  }
}

/**
 * The standard pipeline for an HTTP dependency: Microsoft.Extensions.Http.Resilience's order and
 * defaults (a 1 000-request concurrency limit, a 30 s total timeout, 3 retries with jittered
 * exponential backoff from 2 s honouring `Retry-After`, a circuit breaker opening at 10 % transient
 * failures over 30 s with at least 100 calls for 5 s, a 10 s attempt timeout), HTTP-aware: 5xx, 408,
 * 429, network errors and timeouts are transient, and only requests that may be repeated
 * (idempotent methods, or an `Idempotency-Key`) are retried. Plus a retry budget.
 *
 * @example
 * ```ts
 * const github = standardHttpPipeline();
 * const res = await github.fetch('https://api.github.com/zen');
 * ```
 */
export function standardHttpPipeline(options?: StandardHttpPipelineOptions): StandardHttpPipeline {
  return new StandardHttpPipeline(options);
}
