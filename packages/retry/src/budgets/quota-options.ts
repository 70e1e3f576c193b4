import { checkFunction, checkNumber, checkOptions, type Outcome } from '@faultline/core';

/** Options for {@link quotaBudget} (the AWS SDKs' standard retry quota). */
export interface QuotaBudgetOptions {
  /** Initial and maximum quota, ≥ 0. Default 500. */
  readonly capacity?: number;
  /** Cost of a retry after any other retryable failure, ≥ 0. Default 14. */
  readonly cost?: number;
  /** Cost of a retry after a throttling outcome, ≥ 0. Default 5. */
  readonly throttlingCost?: number;
  /** Refunded by a call that succeeds on its first attempt, ≥ 0. Default 1. */
  readonly refund?: number;
  /**
   * Whether an outcome is throttling. Default: an error or Response with status 429, or an error
   * whose `name` or `code` contains "Throttl".
   */
  readonly isThrottling?: (outcome: Outcome<unknown>) => boolean;
}

function statusOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as {
    status?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    response?: { status?: unknown };
  };
  return v.status ?? v.statusCode ?? v.$metadata?.httpStatusCode ?? v.response?.status;
}

function mentionsThrottling(value: unknown): boolean {
  return typeof value === 'string' && value.includes('Throttl');
}

/** The default {@link QuotaBudgetOptions.isThrottling}. */
export function isThrottlingOutcome(outcome: Outcome<unknown>): boolean {
  if (outcome.ok) return statusOf(outcome.value) === 429;
  const error = outcome.error as { name?: unknown; code?: unknown } | null;
  if (error === null || typeof error !== 'object') return false;
  return (
    statusOf(error) === 429 || mentionsThrottling(error.name) || mentionsThrottling(error.code)
  );
}

/** The defaults of {@link QuotaBudgetOptions} (the AWS SDKs', 2026): the single source of each. */
export const QUOTA_BUDGET_DEFAULTS = Object.freeze({
  capacity: 500,
  cost: 14,
  throttlingCost: 5,
  refund: 1,
  isThrottling: isThrottlingOutcome,
} as const);

/** {@link QuotaBudgetOptions} validated, with every default applied. */
export type ResolvedQuotaBudgetOptions = Required<QuotaBudgetOptions>;

const OWNER = 'quotaBudget';
const RANGE = { min: 0, max: Number.MAX_SAFE_INTEGER };

/** Validates {@link QuotaBudgetOptions} and applies {@link QUOTA_BUDGET_DEFAULTS}. */
export function resolveQuotaBudgetOptions(
  options?: QuotaBudgetOptions,
): ResolvedQuotaBudgetOptions {
  const opts = checkOptions<QuotaBudgetOptions>(OWNER, options);
  const d = QUOTA_BUDGET_DEFAULTS;
  const amount = (name: 'capacity' | 'cost' | 'throttlingCost' | 'refund'): number =>
    opts[name] === undefined ? d[name] : checkNumber(OWNER, name, opts[name], RANGE);
  return {
    capacity: amount('capacity'),
    cost: amount('cost'),
    throttlingCost: amount('throttlingCost'),
    refund: amount('refund'),
    isThrottling:
      opts.isThrottling === undefined
        ? d.isThrottling
        : checkFunction<(outcome: Outcome<unknown>) => boolean>(
            OWNER,
            'isThrottling',
            opts.isThrottling,
          ),
  };
}
