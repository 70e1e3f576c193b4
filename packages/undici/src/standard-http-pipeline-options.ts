import type { Clock } from '@faultline/clock';
import {
  checkName,
  checkNumber,
  checkOneOf,
  checkOptions,
  formatValue,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type Random,
} from '@faultline/core';
import {
  type Backoff,
  decorrelatedJitterV2,
  isRetryBudget,
  type RetryBudget,
  tokenBucketBudget,
} from '@faultline/retry';
import type { RetryMethods } from './http-outcome.js';

const OWNER = 'standardHttpPipeline';

/** The rate limiter stage: a concurrency limit (Microsoft's default limiter), as a bulkhead. */
export interface StandardRateLimiterOptions {
  /** Requests in flight at once. Default 1 000. */
  readonly limit?: number;
  /** Requests that may wait for a slot. Default 0. */
  readonly queue?: number;
}

/** The retry stage. */
export interface StandardRetryOptions {
  /** Attempts in all, the first included. Default 4 (Microsoft: 3 retries). */
  readonly maxAttempts?: number;
  /**
   * Delays between attempts. Default Polly's exponential backoff with jitter
   * (`decorrelatedJitterV2({ median: 2_000, max: 30_000 })`), as Microsoft's default (2 s base).
   */
  readonly backoff?: Backoff;
  /**
   * Which requests may be sent again: `'idempotent'` (GET, HEAD, OPTIONS, PUT, DELETE, and any
   * request with an `Idempotency-Key` header), `'all'`, or a list of methods. Default
   * `'idempotent'` (Microsoft retries every method unless told; a repeated POST can charge a card
   * twice, so we do not).
   */
  readonly methods?: RetryMethods;
  /**
   * A retry budget shared by every call through this pipeline, or `false` for none. Default
   * `tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 })` (gRPC's retry throttling): during an
   * outage retries stop adding load after a few failures. Microsoft's handler has no budget.
   */
  readonly budget?: RetryBudget | false;
  /** Longest `Retry-After` honoured, ms. Default 30 000 (the total timeout's default). */
  readonly maxRetryAfter?: number;
}

/** The circuit breaker stage (a failure-rate breaker over a time window). */
export interface StandardCircuitBreakerOptions {
  /** Open when transient failures / calls ≥ this, in (0, 1]. Default 0.1. */
  readonly failureRatio?: number;
  /** Calls the window must hold before the ratio counts. Default 100. */
  readonly minimumThroughput?: number;
  /** The window, ms. Default 30 000. */
  readonly samplingDuration?: number;
  /** How long the circuit stays open, ms. Default 5 000. */
  readonly breakDuration?: number;
}

/** Options of {@link standardHttpPipeline}. Every stage can be tuned, or turned off with `false`. */
export interface StandardHttpPipelineOptions {
  /** Names the pipeline in telemetry. Default `'standard-http'`. */
  readonly name?: string;
  /** Default `{ limit: 1_000, queue: 0 }`. */
  readonly rateLimiter?: StandardRateLimiterOptions | false;
  /** Deadline for the whole call, retries included, ms. Default 30 000. */
  readonly totalTimeout?: number | false;
  /** Default: see {@link StandardRetryOptions}. */
  readonly retry?: StandardRetryOptions | false;
  /** Default: see {@link StandardCircuitBreakerOptions}. */
  readonly circuitBreaker?: StandardCircuitBreakerOptions | false;
  /** Deadline for each attempt, ms (until the response headers arrive). Default 10 000. */
  readonly attemptTimeout?: number | false;
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Jitter source. Default `Math.random`. */
  readonly random?: Random;
}

/**
 * The defaults, after Microsoft.Extensions.Http.Resilience's `HttpStandardResilienceOptions`
 * (rate limiter → total timeout → retry → circuit breaker → attempt timeout), except where noted
 * on the options: idempotent-only retries and a retry budget.
 */
export const STANDARD_HTTP_DEFAULTS = Object.freeze({
  name: 'standard-http',
  rateLimiter: Object.freeze({ limit: 1_000, queue: 0 }),
  totalTimeout: 30_000,
  retry: Object.freeze({
    maxAttempts: 4,
    backoffMedian: 2_000,
    backoffMax: 30_000,
    methods: 'idempotent' as RetryMethods,
    budgetMaxTokens: 10,
    budgetTokenRatio: 0.1,
    maxRetryAfter: 30_000,
  }),
  circuitBreaker: Object.freeze({
    failureRatio: 0.1,
    minimumThroughput: 100,
    samplingDuration: 30_000,
    breakDuration: 5_000,
  }),
  attemptTimeout: 10_000,
});

/** Options with every default applied and checked; `undefined` for a stage turned off. */
export interface ResolvedStandardHttpOptions {
  readonly name: string;
  readonly rateLimiter: Required<StandardRateLimiterOptions> | undefined;
  readonly totalTimeout: number | undefined;
  readonly retry:
    | {
        readonly maxAttempts: number;
        readonly backoff: Backoff;
        readonly methods: RetryMethods;
        readonly budget: RetryBudget | undefined;
        readonly maxRetryAfter: number;
      }
    | undefined;
  readonly circuitBreaker: Required<StandardCircuitBreakerOptions> | undefined;
  readonly attemptTimeout: number | undefined;
  readonly clock: Clock;
  readonly random: Random;
}

function stage<T extends object>(option: string, value: unknown): Partial<T> | undefined {
  if (value === false) return undefined;
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${OWNER}: option "${option}" must be an options object or false, received ${formatValue(value)}`,
    );
  }
  return value as Partial<T>;
}

function duration(option: string, value: unknown, fallback: number): number | undefined {
  if (value === false) return undefined;
  if (value === undefined) return fallback;
  return checkNumber(OWNER, option, value, { min: 0, minExclusive: true, allowInfinity: true });
}

function methodsOption(value: unknown): RetryMethods {
  if (value === undefined) return STANDARD_HTTP_DEFAULTS.retry.methods;
  if (typeof value === 'string') {
    return checkOneOf<'idempotent' | 'all'>(OWNER, 'retry.methods', value, ['idempotent', 'all']);
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new TypeError(
      `${OWNER}: option "retry.methods" must be 'idempotent', 'all' or an array of method names, received ${formatValue(value)}`,
    );
  }
  for (const method of value as string[]) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) {
      throw new RangeError(
        `${OWNER}: option "retry.methods" must contain HTTP method tokens (RFC 9110 §9.1), received ${formatValue(value)}`,
      );
    }
  }
  return Object.freeze([...(value as string[])]);
}

/** Checks every option of {@link standardHttpPipeline} and applies the defaults. */
export function resolveStandardHttpOptions(
  options: StandardHttpPipelineOptions | undefined,
): ResolvedStandardHttpOptions {
  const opts = checkOptions<StandardHttpPipelineOptions>(OWNER, options);
  const defaults = STANDARD_HTTP_DEFAULTS;
  const name = opts.name === undefined ? defaults.name : checkName(OWNER, 'name', opts.name);

  const limiter = stage<StandardRateLimiterOptions>('rateLimiter', opts.rateLimiter);
  const rateLimiter =
    limiter === undefined
      ? undefined
      : {
          limit: optionalNumber(
            OWNER,
            'rateLimiter.limit',
            limiter.limit,
            defaults.rateLimiter.limit,
            { min: 1, integer: true },
          ),
          queue: optionalNumber(
            OWNER,
            'rateLimiter.queue',
            limiter.queue,
            defaults.rateLimiter.queue,
            {
              min: 0,
              integer: true,
              allowInfinity: true,
            },
          ),
        };

  const totalTimeout = duration('totalTimeout', opts.totalTimeout, defaults.totalTimeout);
  const attemptTimeout = duration('attemptTimeout', opts.attemptTimeout, defaults.attemptTimeout);
  if (totalTimeout !== undefined && attemptTimeout !== undefined && attemptTimeout > totalTimeout) {
    throw new RangeError(
      `${OWNER}: option "attemptTimeout" (${formatValue(attemptTimeout)}) must not exceed "totalTimeout" (${formatValue(totalTimeout)}): no attempt could use it`,
    );
  }

  const retryOptions = stage<StandardRetryOptions>('retry', opts.retry);
  let retry: ResolvedStandardHttpOptions['retry'];
  if (retryOptions !== undefined) {
    const r = defaults.retry;
    const backoff =
      retryOptions.backoff === undefined
        ? decorrelatedJitterV2({ median: r.backoffMedian, max: r.backoffMax })
        : retryOptions.backoff;
    if (typeof (backoff as Partial<Backoff>)?.delays !== 'function') {
      throw new TypeError(
        `${OWNER}: option "retry.backoff" must be a Backoff (an object with delays()), received ${formatValue(backoff)}`,
      );
    }
    const budgetOption = retryOptions.budget;
    let budget: RetryBudget | undefined;
    if (budgetOption === undefined) {
      budget = tokenBucketBudget({ maxTokens: r.budgetMaxTokens, tokenRatio: r.budgetTokenRatio });
    } else if (budgetOption !== false) {
      if (!isRetryBudget(budgetOption)) {
        throw new TypeError(
          `${OWNER}: option "retry.budget" must be a RetryBudget or false, received ${formatValue(budgetOption)}`,
        );
      }
      budget = budgetOption;
    }
    retry = {
      maxAttempts: optionalNumber(
        OWNER,
        'retry.maxAttempts',
        retryOptions.maxAttempts,
        r.maxAttempts,
        {
          min: 1,
          integer: true,
          allowInfinity: true,
        },
      ),
      backoff,
      methods: methodsOption(retryOptions.methods),
      budget,
      maxRetryAfter: optionalNumber(
        OWNER,
        'retry.maxRetryAfter',
        retryOptions.maxRetryAfter,
        r.maxRetryAfter,
        {
          min: 0,
          allowInfinity: true,
        },
      ),
    };
  }

  const breakerOptions = stage<StandardCircuitBreakerOptions>(
    'circuitBreaker',
    opts.circuitBreaker,
  );
  let circuitBreaker: ResolvedStandardHttpOptions['circuitBreaker'];
  if (breakerOptions !== undefined) {
    const b = defaults.circuitBreaker;
    circuitBreaker = {
      failureRatio: optionalNumber(
        OWNER,
        'circuitBreaker.failureRatio',
        breakerOptions.failureRatio,
        b.failureRatio,
        {
          min: 0,
          minExclusive: true,
          max: 1,
        },
      ),
      minimumThroughput: optionalNumber(
        OWNER,
        'circuitBreaker.minimumThroughput',
        breakerOptions.minimumThroughput,
        b.minimumThroughput,
        { min: 1, integer: true },
      ),
      samplingDuration: optionalNumber(
        OWNER,
        'circuitBreaker.samplingDuration',
        breakerOptions.samplingDuration,
        b.samplingDuration,
        {
          min: 0,
          minExclusive: true,
        },
      ),
      breakDuration: optionalNumber(
        OWNER,
        'circuitBreaker.breakDuration',
        breakerOptions.breakDuration,
        b.breakDuration,
        {
          min: 0,
        },
      ),
    };
  }

  return {
    name,
    rateLimiter,
    totalTimeout,
    retry,
    circuitBreaker,
    attemptTimeout,
    clock: optionalClock(OWNER, 'clock', opts.clock),
    random: optionalFunction<Random>(OWNER, 'random', opts.random, Math.random),
  };
}
