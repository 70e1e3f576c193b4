import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkOptions,
  formatValue,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type Random,
} from '@faultline/core';
import { DetectorRegistry } from './detector-registry.js';

/** Options of {@link HeartbeatMonitor}. Durations in ms. */
export interface HeartbeatMonitorOptions<T> {
  /** The peers to probe; each is also its key in `registry`. No duplicates. */
  readonly targets: readonly T[];
  /**
   * Checks one target: resolves if it answered, rejects (or times out) if not. Receives a signal
   * that aborts at `timeout` and on {@link HeartbeatMonitor.stop}; pass it to `fetch`.
   */
  readonly probe: (target: T, signal: AbortSignal) => PromiseLike<unknown> | unknown;
  /** Records a heartbeat for each successful probe. */
  readonly registry: DetectorRegistry<T>;
  /** Mean time between two probes of one target (> 0). Default 1000. */
  readonly interval?: number;
  /** A probe that has not settled after `timeout` is aborted and counts as failed (> 0). Default `interval`. */
  readonly timeout?: number;
  /**
   * Each delay is drawn uniformly in `interval · [1 - jitter, 1 + jitter]`, so that probes of many
   * targets (and of many monitors) do not align, in [0, 1). Default 0.1.
   */
  readonly jitter?: number;
  /** Timer source. Default `systemClock`. */
  readonly clock?: Clock;
  /** Random source for the jitter and the initial phase. Default `Math.random`. */
  readonly random?: Random;
}

/**
 * The defaults of {@link HeartbeatMonitorOptions}: the single source of each (the README's
 * table). `timeout` defaults to `interval`.
 */
export const HEARTBEAT_MONITOR_DEFAULTS = Object.freeze({
  interval: 1000,
  jitter: 0.1,
  random: Math.random,
} as const);

/** {@link HeartbeatMonitorOptions} validated, with every default applied. */
export type ResolvedHeartbeatMonitorOptions<T> = Required<HeartbeatMonitorOptions<T>>;

const OWNER = 'HeartbeatMonitor';

/**
 * Validates {@link HeartbeatMonitorOptions} (a `TypeError` for a wrong type, a `RangeError` out
 * of range or for a duplicate target, naming the option) and applies
 * {@link HEARTBEAT_MONITOR_DEFAULTS}.
 */
export function resolveHeartbeatMonitorOptions<T>(
  options: HeartbeatMonitorOptions<T>,
): ResolvedHeartbeatMonitorOptions<T> {
  const o = checkOptions<HeartbeatMonitorOptions<T>>(OWNER, options);
  if (!Array.isArray(o.targets)) {
    throw new TypeError(
      `${OWNER}: option "targets" must be an array, received ${formatValue(o.targets)}`,
    );
  }
  const probe = checkFunction<HeartbeatMonitorOptions<T>['probe']>(OWNER, 'probe', o.probe);
  if (!(o.registry instanceof DetectorRegistry)) {
    throw new TypeError(
      `${OWNER}: option "registry" must be a DetectorRegistry, received ${formatValue(o.registry)}`,
    );
  }
  const d = HEARTBEAT_MONITOR_DEFAULTS;
  const interval = optionalNumber(OWNER, 'interval', o.interval, d.interval, {
    min: 0,
    minExclusive: true,
  });
  const timeout = optionalNumber(OWNER, 'timeout', o.timeout, interval, {
    min: 0,
    minExclusive: true,
  });
  const jitter = optionalNumber(OWNER, 'jitter', o.jitter, d.jitter, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  // The failure detectors ask for now() and setTimer() (none of them sleeps).
  const clock = optionalClock(OWNER, 'clock', o.clock, ['now', 'setTimer']);
  const random = optionalFunction<Random>(OWNER, 'random', o.random, d.random);
  const seen = new Set<T>();
  for (const target of o.targets as readonly T[]) {
    if (seen.has(target)) {
      throw new RangeError(
        `${OWNER}: option "targets" must not contain duplicates, received ${formatValue(target)} twice`,
      );
    }
    seen.add(target);
  }
  return {
    targets: o.targets,
    probe,
    registry: o.registry,
    interval,
    timeout,
    jitter,
    clock,
    random,
  };
}
