import { checkNumber, checkOptions, formatValue } from '@faultline/core';

/** Options for {@link tokenBucketBudget} (gRFC A6 `retryThrottling`). */
export interface TokenBucketBudgetOptions {
  /** Capacity of the bucket and its initial content, in (0, 1000]. Required. */
  readonly maxTokens: number;
  /** Tokens added by each successful call, > 0 with at most 3 decimals. Required. */
  readonly tokenRatio: number;
}

/** {@link TokenBucketBudgetOptions} validated (both are required: no defaults). */
export type ResolvedTokenBucketBudgetOptions = Required<TokenBucketBudgetOptions>;

const OWNER = 'tokenBucketBudget';
const SCALE = 1000;

/**
 * Validates {@link TokenBucketBudgetOptions}: gRFC A6 bounds `maxTokens` to (0, 1000] and counts
 * `tokenRatio` in thousandths (grpc-java's milli-tokens), so at most 3 decimals, and ≥ 0.001 each.
 */
export function resolveTokenBucketBudgetOptions(
  options: TokenBucketBudgetOptions,
): ResolvedTokenBucketBudgetOptions {
  const opts = checkOptions<TokenBucketBudgetOptions>(OWNER, options);
  const maxTokens = checkNumber(OWNER, 'maxTokens', opts.maxTokens, {
    min: 0,
    minExclusive: true,
    max: 1000,
  });
  const tokenRatio = checkNumber(OWNER, 'tokenRatio', opts.tokenRatio, {
    min: 0,
    minExclusive: true,
  });
  const ratioMilli = tokenRatio * SCALE;
  if (Math.abs(ratioMilli - Math.round(ratioMilli)) > 1e-6 || Math.round(ratioMilli) === 0) {
    throw new RangeError(
      `${OWNER}: option "tokenRatio" must be a number > 0 with at most 3 decimal places (gRFC A6), received ${formatValue(tokenRatio)}`,
    );
  }
  // grpc-java truncates `maxTokens * 1000` to an int; the epsilon keeps 0.3 * 1000 from
  // truncating to 299.
  if (Math.floor(maxTokens * SCALE + 1e-6) === 0) {
    throw new RangeError(
      `${OWNER}: option "maxTokens" must be a number in (0, 1000] of at least 0.001, received ${formatValue(maxTokens)}`,
    );
  }
  return { maxTokens, tokenRatio };
}
