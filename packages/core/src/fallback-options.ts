import { checkFunction, checkOptions } from '@faultline/clock/internal';
import type { Context } from './context.js';
import { handleAll, type Outcome, type ShouldHandle } from './outcome.js';
import { checkName } from './telemetry.js';

/** Produces the substitute value from the outcome that was handled. */
export type FallbackFunction<R> = (outcome: Outcome<unknown>, ctx: Context) => R | PromiseLike<R>;

/** Options for {@link fallback}. */
export interface FallbackOptions<R> {
  /**
   * Which outcomes to replace. Default {@link handleAll} (every error, no result). A rejection
   * caused by the caller's own abort is never replaced, whatever this says.
   */
  readonly shouldHandle?: ShouldHandle;
  /**
   * Returns (or resolves to) the substitute value. If it throws or rejects, the execution
   * rejects with that error. Required.
   */
  readonly fallback: FallbackFunction<R>;
  /** The policy's name in telemetry (a downstream or a use, never a request). Default `'fallback'`. */
  readonly name?: string;
}

/** The defaults of {@link FallbackOptions}: the single source of each (the README's table). */
export const FALLBACK_DEFAULTS = Object.freeze({
  shouldHandle: handleAll,
  name: 'fallback',
} as const);

/** {@link FallbackOptions} validated, with every default applied. */
export interface ResolvedFallbackOptions<R> {
  readonly shouldHandle: ShouldHandle;
  readonly fallback: FallbackFunction<R>;
  readonly name: string;
}

const OWNER = 'fallback';

/**
 * Validates {@link FallbackOptions} (a `TypeError` naming the option for anything that is not a
 * function where one is expected) and applies {@link FALLBACK_DEFAULTS}.
 */
export function resolveFallbackOptions<R>(options: FallbackOptions<R>): ResolvedFallbackOptions<R> {
  const opts = checkOptions<FallbackOptions<R>>(OWNER, options);
  return {
    shouldHandle:
      opts.shouldHandle === undefined
        ? FALLBACK_DEFAULTS.shouldHandle
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    fallback: checkFunction<FallbackFunction<R>>(OWNER, 'fallback', opts.fallback),
    name: opts.name === undefined ? FALLBACK_DEFAULTS.name : checkName(OWNER, 'name', opts.name),
  };
}
