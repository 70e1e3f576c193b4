import { type Clock, systemClock } from './clock.js';
import { checkClock, checkFunction, checkOptions, optionalNumber } from './validate.js';
import { watchEvery } from './watcher.js';

/** What {@link watchPauses} reports. */
export interface PauseEvent {
  /** How late the watcher's timer fired (ms): the part of the pause it could see. */
  readonly duration: number;
  /** Clock time (`clock.now()`) at which the pause was detected, i.e. when it ended. */
  readonly at: number;
}

/** Options of {@link watchPauses}. */
export interface WatchPausesOptions {
  /** Clock to measure on. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** How often the watcher wakes up (ms, > 0). Default 100. */
  readonly interval?: number;
  /** Lateness (ms, > 0) from which a wake-up counts as a pause. Default 500. */
  readonly threshold?: number;
  /** Called for every pause detected. An error it throws is reported, not fatal to the watcher. */
  readonly onPause: (event: PauseEvent) => void;
}

/**
 * Detects process pauses (stop-the-world GC, VM suspension or live migration, swapping, a
 * blocked event loop): a background timer wakes up every `interval` ms and measures how late it
 * fired. Lateness of at least `threshold` ms calls `onPause({ duration, at })`.
 *
 * Why it matters: to its peers a paused process looks dead (missed heartbeats, expired leases),
 * and when it resumes it may act on a lease or lock it no longer holds. Knowing that a pause
 * happened lets it re-check before acting.
 *
 * The timer is unref'd (it never keeps a process alive). Returns `stop()` (idempotent). A pause
 * is seen once the watcher runs again, so `duration` undercounts the pause by up to `interval`.
 */
export function watchPauses(options: WatchPausesOptions): () => void {
  const owner = 'watchPauses';
  const opts = checkOptions<WatchPausesOptions>(owner, options);
  const clock = opts.clock === undefined ? systemClock : checkClock(owner, 'clock', opts.clock);
  const interval = optionalNumber(owner, 'interval', opts.interval, 100, {
    min: 0,
    minExclusive: true,
  });
  const threshold = optionalNumber(owner, 'threshold', opts.threshold, 500, {
    min: 0,
    minExclusive: true,
  });
  const onPause = checkFunction<(event: PauseEvent) => void>(owner, 'onPause', opts.onPause);

  let expected = clock.now() + interval;
  const sample = (): PauseEvent | undefined => {
    const now = clock.now();
    const lateness = now - expected;
    expected = now + interval;
    return lateness >= threshold ? { duration: lateness, at: now } : undefined;
  };
  return watchEvery(clock, interval, sample, onPause);
}
