import type { Clock } from '@faultline/clock';
import { optionalClock, optionalNumber } from '@faultline/core';
import { MAX_SAMPLE_SIZE } from './heartbeat-history.js';

/** The options every detector shares (`PhiAccrualDetector`, `ExponentialDetector`). */
export interface DetectorOptions {
  /** Suspicion level at which the peer is considered unavailable (> 0). Default 8. */
  readonly threshold?: number;
  /** How many recent intervals the statistics use (integer in [1, 10 000]). Default 1000. */
  readonly maxSampleSize?: number;
  /** Time source. Default `systemClock`. */
  readonly clock?: Clock;
}

/** {@link DetectorOptions} validated, with every default applied. */
export interface ResolvedDetectorOptions {
  readonly threshold: number;
  readonly maxSampleSize: number;
  readonly clock: Clock;
}

/**
 * Validates the options every detector shares (`owner`: the class, named in messages), with
 * `defaults` for the numbers. A detector asks its clock for `now()` and `setTimer()` only.
 */
export function resolveDetectorOptions(
  owner: string,
  o: DetectorOptions,
  defaults: { readonly threshold: number; readonly maxSampleSize: number },
): ResolvedDetectorOptions {
  return {
    threshold: optionalNumber(owner, 'threshold', o.threshold, defaults.threshold, {
      min: 0,
      minExclusive: true,
    }),
    maxSampleSize: optionalNumber(owner, 'maxSampleSize', o.maxSampleSize, defaults.maxSampleSize, {
      min: 1,
      max: MAX_SAMPLE_SIZE,
      integer: true,
    }),
    // The failure detectors ask for now() and setTimer() (none of them sleeps).
    clock: optionalClock(owner, 'clock', o.clock, ['now', 'setTimer']),
  };
}
