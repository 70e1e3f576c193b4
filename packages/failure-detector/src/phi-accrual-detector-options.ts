import type { Clock } from '@faultline/clock';
import { checkOptions, optionalNumber } from '@faultline/core';
import { type DetectorOptions, resolveDetectorOptions } from './detector-options.js';

/** Options of {@link PhiAccrualDetector}. Durations in ms. Defaults are Akka's cluster detector. */
export interface PhiAccrualDetectorOptions extends DetectorOptions {
  /**
   * Suspicion level at which the peer is considered unavailable (> 0). Default 8: a 10⁻⁸ chance
   * of a mistake under the learned distribution. Lower detects faster and suspects wrongly more.
   */
  readonly threshold?: number;
  /** How many recent intervals the statistics use (integer in [1, 10 000]). Default 1000. */
  readonly maxSampleSize?: number;
  /**
   * Floor on the standard deviation (> 0). Default 100. Very regular heartbeats would otherwise
   * make phi jump at the slightest delay.
   */
  readonly minStdDeviation?: number;
  /**
   * Extra time tolerated before phi starts to rise (>= 0), added to the mean: lost or delayed
   * heartbeats, GC pauses, network hiccups. Default 3000.
   */
  readonly acceptableHeartbeatPause?: number;
  /**
   * Guess of the heartbeat interval used until real intervals arrive (> 0). Default 1000. The
   * first heartbeat seeds the history with `est - ⌊est/4⌋` and `est + ⌊est/4⌋` (Akka).
   */
  readonly firstHeartbeatEstimate?: number;
  /** Time source. Default `systemClock`. */
  readonly clock?: Clock;
}

/** The defaults of {@link PhiAccrualDetectorOptions} (Akka's cluster detector): the single source. */
export const PHI_ACCRUAL_DETECTOR_DEFAULTS = Object.freeze({
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviation: 100,
  acceptableHeartbeatPause: 3000,
  firstHeartbeatEstimate: 1000,
} as const);

/** {@link PhiAccrualDetectorOptions} validated, with every default applied. */
export type ResolvedPhiAccrualDetectorOptions = Required<PhiAccrualDetectorOptions>;

const OWNER = 'PhiAccrualDetector';

/**
 * Validates {@link PhiAccrualDetectorOptions} (a `TypeError` for a wrong type, a `RangeError` out
 * of range, naming the option) and applies {@link PHI_ACCRUAL_DETECTOR_DEFAULTS}.
 */
export function resolvePhiAccrualDetectorOptions(
  options?: PhiAccrualDetectorOptions,
): ResolvedPhiAccrualDetectorOptions {
  const o = checkOptions<PhiAccrualDetectorOptions>(OWNER, options);
  const d = PHI_ACCRUAL_DETECTOR_DEFAULTS;
  const { threshold, maxSampleSize, clock } = resolveDetectorOptions(OWNER, o, d);
  return {
    threshold,
    maxSampleSize,
    minStdDeviation: optionalNumber(
      OWNER,
      'minStdDeviation',
      o.minStdDeviation,
      d.minStdDeviation,
      {
        min: 0,
        minExclusive: true,
      },
    ),
    acceptableHeartbeatPause: optionalNumber(
      OWNER,
      'acceptableHeartbeatPause',
      o.acceptableHeartbeatPause,
      d.acceptableHeartbeatPause,
      { min: 0 },
    ),
    firstHeartbeatEstimate: optionalNumber(
      OWNER,
      'firstHeartbeatEstimate',
      o.firstHeartbeatEstimate,
      d.firstHeartbeatEstimate,
      {
        min: 0,
        minExclusive: true,
      },
    ),
    clock,
  };
}
