import { type Clock, systemClock } from '@faultline/clock';
import { formatValue } from '@faultline/core';

/** A `clock` option: `undefined` gives `systemClock`; anything else must implement `Clock`. */
export function optionalClock(owner: string, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new TypeError(
      `${owner}: option "clock" must be a Clock (an object with now() and setTimer()), received ${formatValue(value)}`,
    );
  }
  return clock as Clock;
}
