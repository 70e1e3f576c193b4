import type { TripStrategy } from '@faultline/breaker';
import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  formatValue,
  handleAll,
  optionalClock,
  type ShouldHandle,
} from '@faultline/core';
import {
  checkSharedName,
  checkStore,
  FLEET_SYNC_DEFAULTS,
  type FleetSyncOptions,
  instanceId,
  resolveSync,
} from './fleet-options.js';
import { type FleetWindow, fleetTrip } from './fleet-window.js';
import type { BreakerRule, FleetStore } from './store.js';

/** Options of {@link fleetBreaker}. */
export interface FleetBreakerOptions extends FleetSyncOptions {
  /** Where the shared circuit lives (`redisFleetStore(...)`, `memoryFleetStore()`). Required. */
  readonly store: FleetStore;
  /**
   * The shared circuit's name: instances with the same store and name share one circuit (one
   * per downstream). Also its name in telemetry and on its state gauge. Required.
   */
  readonly name: string;
  /**
   * When the circuit opens: `consecutiveFailures(n)` or `failureRate({...})` from
   * `@faultline/breaker`, applied to the sum of the instances' windows. Required.
   */
  readonly trip: TripStrategy;
  /** How long (ms) the circuit stays open before one probe is let through, > 0. Default 5 000. */
  readonly breakDuration?: number;
  /**
   * Instances that must have failures in their window before the fleet's aggregate may open the
   * circuit, integer ≥ 1. With 2 or more, one sick instance (a bad route, a broken pod) cannot
   * open the others' circuits. Default 1.
   */
  readonly quorum?: number;
  /** Which outcomes count as failures. Default: every error (`handleAll`). */
  readonly shouldHandle?: ShouldHandle;
  /** Monotonic time source. Default `systemClock`. */
  readonly clock?: Clock;
  /** This instance's id in the shared state. Default: a random UUID per breaker. */
  readonly instance?: string;
}

/** The defaults of {@link FleetBreakerOptions}: the single source of each. */
export const FLEET_BREAKER_DEFAULTS = Object.freeze({
  breakDuration: 5_000,
  quorum: 1,
  sync: FLEET_SYNC_DEFAULTS.sync,
  storeTimeout: FLEET_SYNC_DEFAULTS.storeTimeout,
} as const);

/** {@link FleetBreakerOptions} validated, with every default applied. */
export interface ResolvedFleetBreakerOptions {
  readonly store: FleetStore;
  readonly name: string;
  readonly trip: TripStrategy;
  readonly rule: BreakerRule;
  readonly window: () => FleetWindow;
  readonly breakDuration: number;
  readonly quorum: number;
  readonly sync: number;
  readonly storeTimeout: number;
  readonly shouldHandle: ShouldHandle;
  readonly clock: Clock;
  readonly instance: string;
}

const OWNER = 'fleetBreaker';

/** Validates {@link FleetBreakerOptions} and applies {@link FLEET_BREAKER_DEFAULTS}. */
export function resolveFleetBreakerOptions(
  options: FleetBreakerOptions,
): ResolvedFleetBreakerOptions {
  const opts = checkOptions<FleetBreakerOptions>(OWNER, options);
  const store = checkStore(OWNER, opts.store);
  const name = checkSharedName(OWNER, opts.name);
  const trip: unknown = opts.trip;
  if (
    trip === null ||
    typeof trip !== 'object' ||
    typeof (trip as Partial<TripStrategy>).create !== 'function' ||
    typeof (trip as Partial<TripStrategy>).describe !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: option "trip" must be a trip strategy (consecutiveFailures(n) or failureRate({...})), received ${formatValue(trip)}`,
    );
  }
  const { rule, window } = fleetTrip(OWNER, trip as TripStrategy);
  let instance = opts.instance;
  if (instance === undefined) instance = instanceId();
  else if (typeof instance !== 'string') {
    throw new TypeError(
      `${OWNER}: option "instance" must be a string, received ${formatValue(instance)}`,
    );
  } else if (instance === '' || instance.length > 200 || /\s/.test(instance)) {
    throw new RangeError(
      `${OWNER}: option "instance" must be a non-empty string of at most 200 characters without spaces, received ${formatValue(instance)}`,
    );
  }
  return {
    store,
    name,
    trip: trip as TripStrategy,
    rule,
    window,
    breakDuration:
      opts.breakDuration === undefined
        ? FLEET_BREAKER_DEFAULTS.breakDuration
        : checkNumber(OWNER, 'breakDuration', opts.breakDuration, {
            min: 0,
            minExclusive: true,
            max: 86_400_000,
          }),
    quorum:
      opts.quorum === undefined
        ? FLEET_BREAKER_DEFAULTS.quorum
        : checkNumber(OWNER, 'quorum', opts.quorum, { min: 1, max: 10_000, integer: true }),
    ...resolveSync(OWNER, opts),
    shouldHandle:
      opts.shouldHandle === undefined
        ? handleAll
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    clock: optionalClock(OWNER, 'clock', opts.clock, ['now', 'setTimer']),
    instance,
  };
}
