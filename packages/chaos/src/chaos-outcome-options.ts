import { type Context, checkFunction, checkOptions } from '@faultline/core';
import {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './chaos-options.js';

/** Produces the substitute result of an injected call. */
export type ChaosOutcomeFunction<R> = (ctx: Context) => R | PromiseLike<R>;

/** Options of {@link chaosOutcome}. */
export interface ChaosOutcomeOptions<R = unknown> extends ChaosOptions {
  /**
   * Required. Returns (or resolves to) what an injected call returns instead of running: a
   * `Response` with status 503, an empty list. If it throws, the call rejects with that error.
   */
  readonly outcome: ChaosOutcomeFunction<R>;
}

/** Every default of {@link chaosOutcome} (`outcome` has none: it is required). */
export const CHAOS_OUTCOME_DEFAULTS = Object.freeze({ ...CHAOS_DEFAULTS, name: 'chaos-outcome' });

/** {@link ChaosOutcomeOptions}, validated and complete. */
export interface ResolvedChaosOutcomeOptions<R = unknown> extends ResolvedChaosOptions {
  readonly outcome: ChaosOutcomeFunction<R>;
}

const OWNER = 'chaosOutcome';

/** Validates {@link ChaosOutcomeOptions}; returns them complete. */
export function resolveChaosOutcomeOptions<R = unknown>(
  options?: unknown,
): ResolvedChaosOutcomeOptions<R> {
  const opts = checkOptions<ChaosOutcomeOptions<R>>(OWNER, options);
  const outcome = checkFunction<ChaosOutcomeFunction<R>>(OWNER, 'outcome', opts.outcome);
  return { ...resolveChaosOptions(OWNER, 'chaos-outcome', opts), outcome };
}
