import { checkOptions, optionalNumber } from '@faultline/core';

/** Options for {@link concurrencyBudget} (Envoy's retry budget). */
export interface ConcurrencyBudgetOptions {
  /** Retries in flight allowed per call in flight, in [0, 1]. Default 0.2 (Envoy: 20 %). */
  readonly ratio?: number;
  /** Retries in flight always allowed, integer ≥ 0. Default 3 (Envoy's `min_retry_concurrency`). */
  readonly min?: number;
}

/** The defaults of {@link ConcurrencyBudgetOptions} (Envoy's): the single source of each. */
export const CONCURRENCY_BUDGET_DEFAULTS = Object.freeze({ ratio: 0.2, min: 3 } as const);

/** {@link ConcurrencyBudgetOptions} validated, with every default applied. */
export type ResolvedConcurrencyBudgetOptions = Required<ConcurrencyBudgetOptions>;

const OWNER = 'concurrencyBudget';

/** Validates {@link ConcurrencyBudgetOptions} and applies {@link CONCURRENCY_BUDGET_DEFAULTS}. */
export function resolveConcurrencyBudgetOptions(
  options?: ConcurrencyBudgetOptions,
): ResolvedConcurrencyBudgetOptions {
  const opts = checkOptions<ConcurrencyBudgetOptions>(OWNER, options);
  const d = CONCURRENCY_BUDGET_DEFAULTS;
  return {
    ratio: optionalNumber(OWNER, 'ratio', opts.ratio, d.ratio, { min: 0, max: 1 }),
    min: optionalNumber(OWNER, 'min', opts.min, d.min, {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
    }),
  };
}
