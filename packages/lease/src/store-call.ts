import type { Clock } from '@faultline/clock';
import { raceTimer } from '@faultline/core/internal';

function ignore(): void {}

/**
 * Settles like `call` unless `signal` aborts first (rejects with its reason) or `timeout` ms pass
 * (rejects with `onTimeout()`), listener and timer always removed. When the race is lost, a value
 * `call` still delivers goes to `onLate` (a grant nobody will use is released, not leaked until
 * its ttl ends).
 */
export function callStore<T>(
  clock: Clock,
  timeout: number,
  run: () => Promise<T>,
  onTimeout: () => unknown,
  signal: AbortSignal | undefined,
  onLate: ((value: T) => void) | undefined,
): Promise<T> {
  let abandoned = false;
  const call = new Promise<T>((resolve) => resolve(run()));
  // Registered first, so it runs before the race's own reaction to the same settlement.
  call.then((value) => {
    if (abandoned) onLate?.(value);
  }, ignore);
  const raced = signal === undefined ? call : raceAbort(call, signal, () => (abandoned = true));
  if (timeout === Number.POSITIVE_INFINITY) return raced;
  return raceTimer(
    clock,
    timeout,
    () => raced,
    () => {
      abandoned = true;
      return onTimeout();
    },
  );
}

function raceAbort<T>(call: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
