import { type Clock, systemClock } from './clock.js';
import {
  checkClock,
  checkFunction,
  checkOptions,
  optionalFunction,
  optionalNumber,
} from './validate.js';
import { watchEvery } from './watcher.js';

/** What {@link watchClockJumps} reports. */
export interface ClockJumpEvent {
  /**
   * Wall-clock progress minus monotonic progress over the last interval (ms): positive when the
   * wall clock jumped forward, negative when it went back.
   */
  readonly offset: number;
  /** Monotonic time (`clock.now()`) at which the jump was detected. */
  readonly at: number;
  /** The wall-clock reading (`wallClock()`) at detection. */
  readonly wallTime: number;
}

/** Options of {@link watchClockJumps}. */
export interface WatchClockJumpsOptions {
  /** Monotonic clock. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Wall-clock reading in ms. Default `Date.now`. */
  readonly wallClock?: () => number;
  /** How often to compare the two (ms, > 0). Default 1000. */
  readonly interval?: number;
  /** Largest disagreement (ms, ≥ 0) that is not a jump. Default 1000. */
  readonly tolerance?: number;
  /** Called for every jump detected. An error it throws is reported, not fatal to the watcher. */
  readonly onJump: (event: ClockJumpEvent) => void;
}

/**
 * Detects wall-clock jumps (an NTP step, a manual change, a VM restored from a snapshot, a host
 * resumed from suspend while the monotonic clock stood still): every `interval` ms it compares how
 * far the wall clock and the monotonic clock moved; a difference beyond `tolerance` calls
 * `onJump({ offset })`. A process pause moves both clocks alike and is not a jump (see
 * `watchPauses`).
 *
 * Why it matters: anything computed from wall-clock time (TTLs stored as timestamps, HTTP dates,
 * HLC physical time, leases checked against `Date.now()`) is wrong after a jump.
 *
 * The timer is unref'd. Returns `stop()` (idempotent).
 */
export function watchClockJumps(options: WatchClockJumpsOptions): () => void {
  const owner = 'watchClockJumps';
  const opts = checkOptions<WatchClockJumpsOptions>(owner, options);
  const clock = opts.clock === undefined ? systemClock : checkClock(owner, 'clock', opts.clock);
  const wallClock = optionalFunction<() => number>(owner, 'wallClock', opts.wallClock, Date.now);
  const interval = optionalNumber(owner, 'interval', opts.interval, 1000, {
    min: 0,
    minExclusive: true,
  });
  const tolerance = optionalNumber(owner, 'tolerance', opts.tolerance, 1000, { min: 0 });
  const onJump = checkFunction<(event: ClockJumpEvent) => void>(owner, 'onJump', opts.onJump);

  let lastMono = clock.now();
  let lastWall = wallClock();
  const sample = (): ClockJumpEvent | undefined => {
    const mono = clock.now();
    const wall = wallClock();
    const offset = wall - lastWall - (mono - lastMono);
    lastMono = mono;
    lastWall = wall;
    return Math.abs(offset) > tolerance ? { offset, at: mono, wallTime: wall } : undefined;
  };
  return watchEvery(clock, interval, sample, onJump);
}
