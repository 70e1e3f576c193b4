import type { Clock } from '@faultline/clock';
import { type Backoff, formatValue } from '@faultline/core';

/** Checks a `clock` option: an object with `now`, `sleep` and `setTimer`. */
export function checkClock(owner: string, value: unknown): Clock {
  const clock = value as Partial<Clock> | null;
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.sleep !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new TypeError(
      `${owner}: option "clock" must be a Clock (an object with now(), sleep() and setTimer()), received ${formatValue(value)}`,
    );
  }
  return clock as Clock;
}

/** Checks a `backoff` option: an object with `delays()`. */
export function checkBackoff(owner: string, value: unknown): Backoff {
  const backoff = value as Partial<Backoff> | null;
  if (backoff === null || typeof backoff !== 'object' || typeof backoff.delays !== 'function') {
    throw new TypeError(
      `${owner}: option "backoff" must be a Backoff (an object with delays()), received ${formatValue(value)}`,
    );
  }
  return backoff as Backoff;
}
