import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkName,
  checkNumber,
  checkOptions,
  formatValue,
  handleAll,
  optionalClock,
  type Random,
  type ShouldHandle,
} from '@faultline/core';
import { type BreakDuration, checkBreakDuration } from './break-duration.js';
import { type CircuitSnapshot, checkSnapshot } from './snapshot.js';
import type { TripStrategy } from './trip-strategy.js';

/** Options of the half-open state. */
export interface HalfOpenOptions {
  /**
   * Calls let through as probes once the break has elapsed (integer in [1, 10 000], default 1).
   * All must succeed to close the circuit; other callers are rejected at once, never queued.
   */
  readonly probes?: number;
}

/** Options of `circuitBreaker()`. */
export interface CircuitBreakerOptions {
  /** When the closed circuit opens: `consecutiveFailures(n)` or `failureRate({...})`. Required. */
  readonly trip: TripStrategy;
  /**
   * How long the circuit stays open before letting probes through: ms, a `Backoff` (step n for
   * the n-th consecutive opening) or `({ attempt, failureRate, failures }) => ms`. Default 5 000.
   */
  readonly breakDuration?: BreakDuration;
  /** Half-open behaviour. Default `{ probes: 1 }`. */
  readonly halfOpen?: HalfOpenOptions;
  /**
   * Which outcomes count as failures. Default: every error (`handleAll`). Unhandled outcomes
   * count as successes; a rejection caused by the caller's abort is never counted. If it
   * throws, the caller gets its error and the call counts for nothing.
   */
  readonly shouldHandle?: ShouldHandle;
  /**
   * Monotonic time source (only `now` is called). Default `systemClock`, on which a time window
   * also sets an unref'd timer per slice of traffic, to skip most clock reads.
   */
  readonly clock?: Clock;
  /** Random source handed to a `Backoff` break duration. Default: the backoff's own (`Math.random`). */
  readonly random?: Random;
  /** Wall-clock time for snapshots (ms since the epoch). Default `Date.now`. */
  readonly wallClock?: () => number;
  /** A snapshot from `toJSON()` to start from (e.g. persisted before a restart). Default: none. */
  readonly initialState?: CircuitSnapshot;
  /** Called with a fresh snapshot after every state change (persist it to survive restarts). */
  readonly onSnapshot?: (snapshot: CircuitSnapshot) => void;
  /**
   * The breaker's name in telemetry and on its state gauge (a downstream or a use, never a
   * request). Default `'circuit-breaker'`.
   */
  readonly name?: string;
}

/**
 * The defaults of {@link CircuitBreakerOptions}: the single source of each (the README's table).
 * `clock` defaults to `systemClock`, `wallClock` to `Date.now` (read when the breaker is built),
 * `random` to the backoff's own source; `initialState` and `onSnapshot` to none.
 */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze({
  breakDuration: 5_000,
  halfOpen: Object.freeze({ probes: 1 }),
  shouldHandle: handleAll,
  name: 'circuit-breaker',
} as const);

/** {@link CircuitBreakerOptions} validated, with every default applied. */
export interface ResolvedCircuitBreakerOptions {
  readonly trip: TripStrategy;
  readonly breakDuration: BreakDuration;
  readonly halfOpen: { readonly probes: number };
  readonly shouldHandle: ShouldHandle;
  readonly clock: Clock;
  /** `undefined`: a `Backoff` break duration draws from its own default source. */
  readonly random: Random | undefined;
  readonly wallClock: () => number;
  readonly initialState: CircuitSnapshot | undefined;
  readonly onSnapshot: ((snapshot: CircuitSnapshot) => void) | undefined;
  readonly name: string;
}

const OWNER = 'circuitBreaker';

/**
 * Checks a `trip` option: a {@link TripStrategy} (`consecutiveFailures(n)`, `failureRate({...})`).
 * Shared with the fleet-wide breaker through `@faultline/breaker/internal`; `owner` names the
 * factory in the message.
 */
export function checkTrip(owner: string, value: unknown): TripStrategy {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<TripStrategy>).create !== 'function' ||
    typeof (value as Partial<TripStrategy>).describe !== 'function'
  ) {
    throw new TypeError(
      `${owner}: option "trip" must be a trip strategy (consecutiveFailures(n) or failureRate({...})), received ${formatValue(value)}`,
    );
  }
  return value as TripStrategy;
}

function checkHalfOpen(value: unknown): { readonly probes: number } {
  if (value === undefined) return CIRCUIT_BREAKER_DEFAULTS.halfOpen;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${OWNER}: option "halfOpen" must be an object { probes }, received ${formatValue(value)}`,
    );
  }
  const probes = (value as HalfOpenOptions).probes;
  if (probes === undefined) return CIRCUIT_BREAKER_DEFAULTS.halfOpen;
  return {
    probes: checkNumber(OWNER, 'halfOpen.probes', probes, { min: 1, max: 10_000, integer: true }),
  };
}

/**
 * Validates {@link CircuitBreakerOptions} (a `TypeError` for a wrong type, a `RangeError` out of
 * range, naming the option) and applies {@link CIRCUIT_BREAKER_DEFAULTS}.
 */
export function resolveCircuitBreakerOptions(
  options: CircuitBreakerOptions,
): ResolvedCircuitBreakerOptions {
  if (options === undefined) {
    throw new TypeError(
      `${OWNER}: options must be an object with a "trip" strategy, received undefined`,
    );
  }
  const opts = checkOptions<CircuitBreakerOptions>(OWNER, options);
  return {
    trip: checkTrip(OWNER, opts.trip),
    breakDuration:
      opts.breakDuration === undefined
        ? CIRCUIT_BREAKER_DEFAULTS.breakDuration
        : checkBreakDuration(OWNER, opts.breakDuration),
    halfOpen: checkHalfOpen(opts.halfOpen),
    shouldHandle:
      opts.shouldHandle === undefined
        ? CIRCUIT_BREAKER_DEFAULTS.shouldHandle
        : checkFunction<ShouldHandle>(OWNER, 'shouldHandle', opts.shouldHandle),
    // A breaker only reads the time.
    clock: optionalClock(OWNER, 'clock', opts.clock, ['now']),
    random:
      opts.random === undefined ? undefined : checkFunction<Random>(OWNER, 'random', opts.random),
    wallClock:
      opts.wallClock === undefined
        ? Date.now
        : checkFunction<() => number>(OWNER, 'wallClock', opts.wallClock),
    initialState:
      opts.initialState === undefined ? undefined : checkSnapshot(OWNER, opts.initialState),
    onSnapshot:
      opts.onSnapshot === undefined
        ? undefined
        : checkFunction<(snapshot: CircuitSnapshot) => void>(OWNER, 'onSnapshot', opts.onSnapshot),
    name:
      opts.name === undefined ? CIRCUIT_BREAKER_DEFAULTS.name : checkName(OWNER, 'name', opts.name),
  };
}
