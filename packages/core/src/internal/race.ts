import type { Clock } from '@faultline/clock';

/** Whether `value` is a promise or any other thenable (Promises/A+ §1.2). */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Partial<PromiseLike<T>>).then === 'function'
  );
}

/**
 * Settles like `run()` unless `ms` pass first on `clock`, then rejects with `onTimeout()`; the
 * timer is always cleared. A throw from `run` becomes the rejection. `onSettle` (optional) is told
 * how it ended before the returned promise settles, for a caller that reports failures. What
 * `run` returns after the timeout is ignored (its rejection is handled). One promise per call.
 */
export function raceTimer<T>(
  clock: Clock,
  ms: number,
  run: () => T | PromiseLike<T>,
  onTimeout: () => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const cancel = clock.setTimer(ms, () => {
      if (settled) return;
      settled = true;
      reject(onTimeout());
    });
    let pending: PromiseLike<T>;
    try {
      const result = run();
      pending = isThenable(result) ? result : Promise.resolve(result);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        cancel();
        reject(error);
      },
    );
  });
}
