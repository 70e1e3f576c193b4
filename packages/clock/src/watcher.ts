import type { Clock } from './clock.js';
import { reportListenerError } from './validate.js';

/**
 * The loop of a background watcher (`watchPauses`, `watchClockJumps`): every `interval` ms, on an
 * unref'd timer that never keeps a process alive, `sample()` reads the clocks and returns an event
 * to report or `undefined`. The timer is re-armed after sampling and before `listener` runs, and
 * an error the listener throws is reported, not thrown, so nothing a listener does can stop the
 * watcher. Returns `stop()` (idempotent).
 * @internal
 */
export function watchEvery<E>(
  clock: Clock,
  interval: number,
  sample: () => E | undefined,
  listener: (event: E) => void,
): () => void {
  let cancel: (() => void) | undefined;
  const tick = (): void => {
    const event = sample();
    cancel = clock.setTimer(interval, tick, { unref: true });
    if (event === undefined) return;
    try {
      listener(event);
    } catch (error) {
      reportListenerError(error);
    }
  };
  cancel = clock.setTimer(interval, tick, { unref: true });
  return () => {
    cancel?.();
    cancel = undefined;
  };
}
