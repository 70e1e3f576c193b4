import { type Backoff, formatValue } from '@faultline/core';

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
