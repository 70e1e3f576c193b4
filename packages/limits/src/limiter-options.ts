import { checkOptions, formatValue } from '@faultline/core';

/** How a limiter's errors name the algorithms its required `limit` option takes. */
export interface LimitOptionKinds {
  /** The factories, for a missing options object: `'tokenBucket, gcra or slidingWindow'`. */
  readonly factories: string;
  /** What `limit` must be: `'rate-limit algorithm (tokenBucket(), gcra() or slidingWindow())'`. */
  readonly expected: string;
}

/**
 * Checks the options object of a limiter ({@link rateLimiter}, {@link concurrencyLimit}) and its
 * required `limit`, which must pass `isAlgorithm`. Options are required because `limit` is, so a
 * missing object gets a message naming the algorithms. @internal
 */
export function checkLimiterOptions<O extends object, L>(
  owner: string,
  options: unknown,
  isAlgorithm: (value: unknown) => value is L,
  kinds: LimitOptionKinds,
): Partial<O> & { readonly limit: L } {
  if (options === undefined) {
    throw new TypeError(
      `${owner}: options must be an object with a "limit" (${kinds.factories}), received undefined`,
    );
  }
  const opts = checkOptions<O & { readonly limit?: unknown }>(owner, options);
  if (!isAlgorithm(opts.limit)) {
    throw new TypeError(
      `${owner}: option "limit" must be a ${kinds.expected}, received ${formatValue(opts.limit)}`,
    );
  }
  return opts as Partial<O> & { readonly limit: L };
}
