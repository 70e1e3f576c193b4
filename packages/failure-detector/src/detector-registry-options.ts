import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkName,
  checkNumber,
  checkOptions,
  optionalClock,
  optionalNumber,
} from '@faultline/core';
import type { FailureDetector } from './failure-detector.js';

/** Options of {@link DetectorRegistry}. */
export interface DetectorRegistryOptions {
  /** Drives the {@link DetectorRegistry.watch} timer. Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * The registry's name in telemetry (the peer group it watches, e.g. `'cache-nodes'`). Its
   * `peer-suspected` and `peer-recovered` records never carry a key: peers are unbounded.
   * Default `'failure-detector'`.
   */
  readonly name?: string;
}

/** Options of {@link DetectorRegistry.watch}. */
export interface WatchOptions {
  /** How often every detector is evaluated, ms (> 0). Required. */
  readonly interval: number;
  /**
   * Hysteresis: a suspect recovers only once its phi is below `recoverRatio · threshold`, in
   * (0, 1]. Default 0.5. 1 disables hysteresis.
   */
  readonly recoverRatio?: number;
}

/**
 * The defaults of {@link DetectorRegistryOptions} and {@link WatchOptions}: the single source of
 * each (the README's table).
 */
export const DETECTOR_REGISTRY_DEFAULTS = Object.freeze({
  name: 'failure-detector',
  recoverRatio: 0.5,
} as const);

/** The factory and {@link DetectorRegistryOptions}, validated, with every default applied. */
export interface ResolvedDetectorRegistryOptions<K> {
  readonly factory: (key: K) => FailureDetector;
  readonly clock: Clock;
  readonly name: string;
}

/** {@link WatchOptions} validated, with every default applied. */
export type ResolvedWatchOptions = Required<WatchOptions>;

const OWNER = 'DetectorRegistry';

/**
 * Validates the `factory` argument and {@link DetectorRegistryOptions} (a `TypeError` for a wrong
 * type, a `RangeError` out of range) and applies {@link DETECTOR_REGISTRY_DEFAULTS}.
 */
export function resolveDetectorRegistryOptions<K>(
  factory: (key: K) => FailureDetector,
  options?: DetectorRegistryOptions,
): ResolvedDetectorRegistryOptions<K> {
  const checked = checkFunction<(key: K) => FailureDetector>(OWNER, 'factory', factory);
  const o = checkOptions<DetectorRegistryOptions>(OWNER, options);
  return {
    factory: checked,
    // The failure detectors ask for now() and setTimer() (none of them sleeps).
    clock: optionalClock(OWNER, 'clock', o.clock, ['now', 'setTimer']),
    name: o.name === undefined ? DETECTOR_REGISTRY_DEFAULTS.name : checkName(OWNER, 'name', o.name),
  };
}

/** Validates {@link WatchOptions} and applies {@link DETECTOR_REGISTRY_DEFAULTS}. */
export function resolveWatchOptions(options: WatchOptions): ResolvedWatchOptions {
  const owner = `${OWNER}.watch`;
  const o = checkOptions<WatchOptions>(owner, options);
  return {
    interval: checkNumber(owner, 'interval', o.interval, { min: 0, minExclusive: true }),
    recoverRatio: optionalNumber(
      owner,
      'recoverRatio',
      o.recoverRatio,
      DETECTOR_REGISTRY_DEFAULTS.recoverRatio,
      {
        min: 0,
        minExclusive: true,
        max: 1,
      },
    ),
  };
}
