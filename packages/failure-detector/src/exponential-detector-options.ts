import type { Clock } from '@faultline/clock';
import { checkOptions, optionalNumber } from '@faultline/core';
import { type DetectorOptions, resolveDetectorOptions } from './detector-options.js';

/** Options of {@link ExponentialDetector}. Durations in ms. */
export interface ExponentialDetectorOptions extends DetectorOptions {
  /** Suspicion level at which the peer is considered unavailable (> 0). Default 8 (Cassandra's `phi_convict_threshold`). */
  readonly threshold?: number;
  /** How many recent intervals the mean uses (integer >= 1). Default 1000 (Cassandra's window). */
  readonly maxSampleSize?: number;
  /** The interval the first heartbeat seeds the window with (> 0). Default 1000. */
  readonly initialInterval?: number;
  /**
   * Longer intervals are not learned (> 0), so that one long partition does not teach the
   * detector to tolerate long silences. Default `10 · initialInterval`.
   */
  readonly maxInterval?: number;
  /** Time source. Default `systemClock`. */
  readonly clock?: Clock;
}

/**
 * The defaults of {@link ExponentialDetectorOptions} (Cassandra's): the single source of each.
 * `maxInterval` defaults to `10 · initialInterval`.
 */
export const EXPONENTIAL_DETECTOR_DEFAULTS = Object.freeze({
  threshold: 8,
  maxSampleSize: 1000,
  initialInterval: 1000,
  maxIntervalFactor: 10,
} as const);

/** {@link ExponentialDetectorOptions} validated, with every default applied. */
export type ResolvedExponentialDetectorOptions = Required<ExponentialDetectorOptions>;

const OWNER = 'ExponentialDetector';

/**
 * Validates {@link ExponentialDetectorOptions} (a `TypeError` for a wrong type, a `RangeError`
 * out of range, naming the option) and applies {@link EXPONENTIAL_DETECTOR_DEFAULTS}.
 */
export function resolveExponentialDetectorOptions(
  options?: ExponentialDetectorOptions,
): ResolvedExponentialDetectorOptions {
  const o = checkOptions<ExponentialDetectorOptions>(OWNER, options);
  const d = EXPONENTIAL_DETECTOR_DEFAULTS;
  const { threshold, maxSampleSize, clock } = resolveDetectorOptions(OWNER, o, d);
  const initialInterval = optionalNumber(
    OWNER,
    'initialInterval',
    o.initialInterval,
    d.initialInterval,
    { min: 0, minExclusive: true },
  );
  return {
    threshold,
    maxSampleSize,
    initialInterval,
    maxInterval: optionalNumber(
      OWNER,
      'maxInterval',
      o.maxInterval,
      d.maxIntervalFactor * initialInterval,
      { min: 0, minExclusive: true },
    ),
    clock,
  };
}
