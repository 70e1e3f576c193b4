import { checkOptions, formatValue } from '@faultline/core';
import {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './chaos-options.js';

/** Options of {@link chaosFault}. */
export interface ChaosFaultOptions extends ChaosOptions {
  /**
   * Required. What an injected call throws instead of calling the function: an error (any value
   * but `undefined`), or a function `(ctx) => error` called per injected call; when that returns
   * `undefined` nothing is injected for the call (Polly's fault generator returning null).
   */
  readonly fault: unknown;
}

/** Every default of {@link chaosFault} (`fault` has none: it is required). */
export const CHAOS_FAULT_DEFAULTS = Object.freeze({ ...CHAOS_DEFAULTS, name: 'chaos-fault' });

/** {@link ChaosFaultOptions}, validated and complete. */
export interface ResolvedChaosFaultOptions extends ResolvedChaosOptions {
  readonly fault: unknown;
}

const OWNER = 'chaosFault';

/** Validates {@link ChaosFaultOptions}; returns them complete. */
export function resolveChaosFaultOptions(options?: unknown): ResolvedChaosFaultOptions {
  const opts = checkOptions<ChaosFaultOptions>(OWNER, options);
  if (opts.fault === undefined) {
    throw new TypeError(
      `${OWNER}: option "fault" is required (an error to throw, or a function (ctx) => error), received ${formatValue(opts.fault)}`,
    );
  }
  return { ...resolveChaosOptions(OWNER, 'chaos-fault', opts), fault: opts.fault };
}
