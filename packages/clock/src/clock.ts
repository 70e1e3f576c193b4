/** Options for {@link Clock.setTimer}. */
export interface TimerOptions {
  /**
   * A background timer (sweeps, monitors, watchdogs) passes `unref: true` so that it never keeps
   * a process alive. Timers that settle a promise somebody awaits leave it `false` (the default).
   */
  readonly unref?: boolean;
}

/**
 * The only way faultline reads time. Production code uses {@link systemClock}; tests and the
 * simulator use a `VirtualClock`, so the same policy objects run in both.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional). Never decreases; unrelated to the wall clock. */
  now(): number;
  /**
   * Resolves after `ms`. `ms <= 0` resolves asynchronously, never synchronously. Rejects with
   * `signal.reason` at once if the signal is (or becomes) aborted; no listener remains afterwards.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `callback` after `ms`. Returns an idempotent cancel function. */
  setTimer(ms: number, callback: () => void, options?: TimerOptions): () => void;
}

/**
 * The longest delay a platform timer takes (2^31-1 ms, about 24.8 days). Node, browsers, Deno and
 * Bun store the delay as a signed 32-bit integer and fire a longer timer at once (Node prints a
 * `TimeoutOverflowWarning`); {@link systemClock} chains timers instead.
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * A signal that never aborts, shared by every caller that has nothing to cancel. {@link sleepWith}
 * adds no listener to it (so thousands of concurrent sleeps never trip the platform's
 * "possible EventTarget memory leak" warning on a shared signal).
 */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

type Handle = ReturnType<typeof setTimeout>;

function unrefHandle(handle: Handle): void {
  // Node and Bun return an object with unref(); browsers and Deno return a number.
  const maybe = handle as unknown as { unref?: () => void };
  if (typeof maybe === 'object' && maybe !== null && typeof maybe.unref === 'function') {
    maybe.unref();
  }
}

function now(): number {
  return performance.now();
}

function setTimer(ms: number, callback: () => void, options?: TimerOptions): () => void {
  const unref = options?.unref === true;
  // NaN and negative delays mean "as soon as possible", as they do for setTimeout.
  const delay = ms > 0 ? ms : 0;
  if (delay <= MAX_TIMER_DELAY) {
    // Fast path: one platform timer, no extra closure beyond the cancel function.
    const handle = setTimeout(callback, delay);
    if (unref) unrefHandle(handle);
    return () => clearTimeout(handle);
  }
  return chainTimers(delay, callback, unref);
}

/**
 * Durations beyond 2^31-1 ms would fire at once on every platform: wait in slices of at most
 * {@link MAX_TIMER_DELAY} against the monotonic due time, so a slice that fires early or late
 * never shifts the end. `Infinity` never fires (it re-arms forever, cheaply, every ~24.8 days).
 */
function chainTimers(delay: number, callback: () => void, unref: boolean): () => void {
  const due = now() + delay;
  let handle: Handle | undefined;
  const arm = (): void => {
    const left = due - now();
    if (left <= 0) {
      handle = undefined;
      callback();
      return;
    }
    handle = setTimeout(arm, Math.min(left, MAX_TIMER_DELAY));
    if (unref) unrefHandle(handle);
  };
  arm();
  return () => {
    if (handle === undefined) return;
    clearTimeout(handle);
    handle = undefined;
  };
}

/**
 * Sleeps on an arbitrary clock's `setTimer`, honouring an AbortSignal. Shared by
 * {@link systemClock} and `VirtualClock` so both behave identically around aborts.
 */
export function sleepWith(
  set: (ms: number, callback: () => void) => () => void,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal === undefined || signal === neverAbortedSignal) {
    return new Promise((resolve) => {
      set(ms, resolve);
    });
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    // `once` removes the listener when it fires; the timer path removes it by hand, so no
    // listener outlives the sleep either way. The listener goes first: a custom clock may call
    // the timer back inside `set`, and its removal must find the listener there.
    let cancel: (() => void) | undefined;
    const onAbort = (): void => {
      cancel?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    cancel = set(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** The platform's monotonic clock: `performance.now()` and `setTimeout`. Browser-safe. */
export const systemClock: Clock = Object.freeze({
  now,
  setTimer,
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(setTimer, ms, signal);
  },
});

/**
 * Sleeps for `ms` on `clock` (default {@link systemClock}); rejects with `signal.reason` when the
 * signal aborts. A convenience over `clock.sleep(ms, signal)`.
 */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return clock.sleep(ms, signal);
}
