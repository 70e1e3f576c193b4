import type { TripStrategy } from '@faultline/breaker';
import { checkTrip } from '@faultline/breaker/internal';
import type { Clock } from '@faultline/clock';
import {
  type Backoff,
  checkNumber,
  checkOptions,
  formatValue,
  handleAll,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type Random,
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
  /**
   * How long (ms) the circuit stays open before one probe is let through: a number > 0, or a
   * `Backoff` (step n for the n-th consecutive opening, as circuitBreaker; its first 16 steps are
   * sent to the store, the last repeating). Default 5 000.
   */
  readonly breakDuration?: number | Backoff;
  /** Random source handed to a `Backoff` break duration. Default `Math.random`. */
  readonly random?: Random;
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
  /** Break lengths by consecutive opening (the last repeats). */
  readonly breaks: readonly number[];
  /** As given: a number, or `'backoff'`. */
  readonly breakDuration: number | 'backoff';
  readonly quorum: number;
  readonly sync: number;
  readonly storeTimeout: number;
  readonly shouldHandle: ShouldHandle;
  readonly clock: Clock;
  readonly instance: string;
}

const OWNER = 'fleetBreaker';
const BREAK_RANGE = { min: 0, minExclusive: true, max: 86_400_000 } as const;
/** Steps of a `Backoff` break duration sent to the store (the last repeats). */
const BACKOFF_STEPS = 16;

function resolveBreaks(opts: Partial<FleetBreakerOptions>): {
  breaks: readonly number[];
  breakDuration: number | 'backoff';
} {
  const value: unknown = opts.breakDuration;
  if (value === undefined) {
    return {
      breaks: [FLEET_BREAKER_DEFAULTS.breakDuration],
      breakDuration: FLEET_BREAKER_DEFAULTS.breakDuration,
    };
  }
  if (typeof value === 'number') {
    const ms = checkNumber(OWNER, 'breakDuration', value, BREAK_RANGE);
    return { breaks: [ms], breakDuration: ms };
  }
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<Backoff>).delays !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: option "breakDuration" must be a number of ms in (0, 86 400 000] or a Backoff, received ${formatValue(value)}`,
    );
  }
  const random = optionalFunction<Random>(OWNER, 'random', opts.random, Math.random);
  const delays = (value as Backoff).delays(random);
  const breaks: number[] = [];
  for (let i = 0; i < BACKOFF_STEPS; i++) {
    const step = delays.next();
    if (step.done) break;
    breaks.push(checkNumber(OWNER, 'breakDuration (a Backoff step)', step.value, BREAK_RANGE));
  }
  if (breaks.length === 0) {
    throw new RangeError(`${OWNER}: option "breakDuration" is a Backoff with no steps`);
  }
  return { breaks, breakDuration: 'backoff' };
}

/** Validates {@link FleetBreakerOptions} and applies {@link FLEET_BREAKER_DEFAULTS}. */
export function resolveFleetBreakerOptions(
  options: FleetBreakerOptions,
): ResolvedFleetBreakerOptions {
  const opts = checkOptions<FleetBreakerOptions>(OWNER, options);
  const store = checkStore(OWNER, opts.store);
  const name = checkSharedName(OWNER, opts.name);
  const trip = checkTrip(OWNER, opts.trip);
  const { rule, window } = fleetTrip(OWNER, trip);
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
    trip,
    rule,
    window,
    ...resolveBreaks(opts),
    quorum: optionalNumber(OWNER, 'quorum', opts.quorum, FLEET_BREAKER_DEFAULTS.quorum, {
      min: 1,
      max: 10_000,
      integer: true,
    }),
    ...resolveSync(OWNER, opts),
    shouldHandle: optionalFunction<ShouldHandle>(
      OWNER,
      'shouldHandle',
      opts.shouldHandle,
      handleAll,
    ),
    clock: optionalClock(OWNER, 'clock', opts.clock, ['now', 'setTimer']),
    instance,
  };
}
