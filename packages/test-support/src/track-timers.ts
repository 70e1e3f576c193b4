/** What {@link trackTimers} returns. */
export interface TimerTracker {
  /** The platform timers set and neither fired nor cleared yet, in the order they were set. */
  readonly live: Set<ReturnType<typeof setTimeout>>;
  /** The last timer set, live or not (Node: its `hasRef()` says whether it holds the process). */
  readonly last: ReturnType<typeof setTimeout> | undefined;
  /** Puts the platform's setTimeout and clearTimeout back. */
  restore(): void;
}

/**
 * Tracks the platform timers (`setTimeout`) created while it is installed: a handle is live
 * until it fired or was cleared. Exact, unlike counting process-wide resources that the test
 * runner also uses. Call `restore()` in a finally block or an afterEach hook.
 */
export function trackTimers(): TimerTracker {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<ReturnType<typeof setTimeout>>();
  let last: ReturnType<typeof setTimeout> | undefined;
  const fakeSet = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet(() => {
      live.delete(handle);
      callback(...args);
    }, ms);
    live.add(handle);
    last = handle;
    return handle;
  };
  globalThis.setTimeout = fakeSet as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle as ReturnType<typeof setTimeout>);
    realClear(handle);
  }) as typeof clearTimeout;
  return {
    live,
    get last() {
      return last;
    },
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}
