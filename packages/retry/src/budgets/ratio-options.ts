import type { Clock } from '@faultline/clock';
import { checkOptions, optionalClock, optionalNumber } from '@faultline/core';

/** Options for {@link ratioBudget} (Finagle's `RetryBudget`). */
export interface RatioBudgetOptions {
  /** Retries allowed per call, on top of the reserve, in [0, 1000]. Default 0.2. */
  readonly ratio?: number;
  /** Reserve of retries per second for quiet or just-started clients, integer ≥ 0. Default 10. */
  readonly minRetriesPerSecond?: number;
  /** How long a call's deposit lasts, in ms, in [1000, 60 000]. Default 10 000. */
  readonly ttl?: number;
  /** Default `systemClock`. */
  readonly clock?: Clock;
}

/** The defaults of {@link RatioBudgetOptions} (Finagle's): the single source of each. */
export const RATIO_BUDGET_DEFAULTS = Object.freeze({
  ratio: 0.2,
  minRetriesPerSecond: 10,
  ttl: 10_000,
} as const);

/** {@link RatioBudgetOptions} validated, with every default applied. */
export type ResolvedRatioBudgetOptions = Required<RatioBudgetOptions>;

const OWNER = 'ratioBudget';

/** Validates {@link RatioBudgetOptions} and applies {@link RATIO_BUDGET_DEFAULTS}. */
export function resolveRatioBudgetOptions(
  options?: RatioBudgetOptions,
): ResolvedRatioBudgetOptions {
  const opts = checkOptions<RatioBudgetOptions>(OWNER, options);
  const d = RATIO_BUDGET_DEFAULTS;
  return {
    ratio: optionalNumber(OWNER, 'ratio', opts.ratio, d.ratio, { min: 0, max: 1000 }),
    minRetriesPerSecond: optionalNumber(
      OWNER,
      'minRetriesPerSecond',
      opts.minRetriesPerSecond,
      d.minRetriesPerSecond,
      {
        min: 0,
        integer: true,
        max: 1_000_000,
      },
    ),
    ttl: optionalNumber(OWNER, 'ttl', opts.ttl, d.ttl, { min: 1000, max: 60_000 }),
    clock: optionalClock(OWNER, 'clock', opts.clock),
  };
}
