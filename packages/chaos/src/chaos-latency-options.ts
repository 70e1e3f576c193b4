import { type Context, checkNumber, checkOptions, formatValue } from '@faultline/core';
import {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './chaos-options.js';

/** How long an injected call waits: ms, or computed per injected call. */
export type ChaosLatency = number | ((ctx: Context) => number);

/** Options of {@link chaosLatency}. */
export interface ChaosLatencyOptions extends ChaosOptions {
  /**
   * Required. Milliseconds an injected call waits before running, ≥ 0 (`Infinity`: until the
   * caller or an enclosing timeout gives up, a hang), or a function `(ctx) => ms` called per
   * injected call.
   */
  readonly latency: ChaosLatency;
}

/** Every default of {@link chaosLatency} (`latency` has none: it is required). */
export const CHAOS_LATENCY_DEFAULTS = Object.freeze({ ...CHAOS_DEFAULTS, name: 'chaos-latency' });

/** {@link ChaosLatencyOptions}, validated and complete. */
export interface ResolvedChaosLatencyOptions extends ResolvedChaosOptions {
  readonly latency: ChaosLatency;
}

const OWNER = 'chaosLatency';

/** Validates {@link ChaosLatencyOptions}; returns them complete. */
export function resolveChaosLatencyOptions(options?: unknown): ResolvedChaosLatencyOptions {
  const opts = checkOptions<ChaosLatencyOptions>(OWNER, options);
  const latency: unknown = opts.latency;
  if (typeof latency === 'number') {
    checkNumber(OWNER, 'latency', latency, { min: 0, allowInfinity: true });
  } else if (typeof latency !== 'function') {
    throw new TypeError(
      `${OWNER}: option "latency" is required: a number of ms in [0, Infinity] or a function (ctx) => ms, received ${formatValue(latency)}`,
    );
  }
  return {
    ...resolveChaosOptions(OWNER, 'chaos-latency', opts),
    latency: latency as ChaosLatency,
  };
}
