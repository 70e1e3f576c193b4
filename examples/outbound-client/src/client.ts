/**
 * The outbound client: `fetch` wrapped in one pipeline per downstream, with a shared retry budget,
 * and `idempotentFetch` so that every retry of a POST carries the same `Idempotency-Key`.
 */
import { idempotentFetch } from '@faultline/idempotency';
import {
  circuitBreaker,
  exponential,
  failureRate,
  fetchTask,
  handleAll,
  handleResults,
  httpRetryAfter,
  or,
  pipeline,
  type RetryPolicy,
  retry,
  retryableHttp,
  timeout,
  tokenBucketBudget,
} from 'faultline';

export interface OrdersClient {
  stock(): Promise<Response>;
  order(item: string): Promise<Response>;
  /** The retry policies, to watch their events. */
  readonly retries: { readonly reads: RetryPolicy; readonly writes: RetryPolicy };
  readonly budget: ReturnType<typeof tokenBucketBudget>;
}

export function ordersClient(baseUrl: string, options: { attemptTimeout: number }): OrdersClient {
  // One budget and one breaker for the orders service, shared by every call to it.
  const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
  const breaker = circuitBreaker({
    trip: failureRate({ threshold: 0.5, minimumThroughput: 10, window: 30_000 }),
    breakDuration: 5_000,
    shouldHandle: or(
      handleAll,
      handleResults((r: Response) => r.status >= 500),
    ),
  });
  const backoff = exponential({ initial: 100, max: 2_000, jitter: 'full' });

  // Reads: fetchTask lets retryableHttp see the method (GET is idempotent, so it may retry).
  const reads = retry({
    maxAttempts: 4,
    backoff,
    shouldHandle: retryableHttp(),
    retryAfter: httpRetryAfter,
    budget,
  });
  const readPipeline = pipeline(timeout(10_000), reads, breaker, timeout(options.attemptTimeout));

  // Writes: idempotentFetch adds one key per logical call and turns a retryable status into an
  // error inside the policy, so the default shouldHandle (every error, timeouts included) fits.
  const writes = retry({ maxAttempts: 4, backoff, retryAfter: httpRetryAfter, budget });
  const post = idempotentFetch(fetch, {
    policy: pipeline(timeout(10_000), writes, breaker, timeout(options.attemptTimeout)),
  });

  return {
    stock: () => readPipeline.execute(fetchTask(`${baseUrl}/stock`)),
    order: (item) =>
      post(`${baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item }),
      }),
    retries: { reads, writes },
    budget,
  };
}
