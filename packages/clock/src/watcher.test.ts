import { describe, expect, it, vi } from 'vitest';
import type { Clock } from './clock.js';
import { watchClockJumps } from './clock-jumps.js';
import { watchPauses } from './pauses.js';

describe('the watchers (watchEvery)', () => {
  // Each arms one timer on its clock, unref'd so that it never keeps a process alive.
  it.each<[string, number, (clock: Clock) => () => void]>([
    ['watchPauses', 100, (clock) => watchPauses({ clock, onPause: () => {} })],
    // Its wall clock defaults to Date.now.
    ['watchClockJumps', 1000, (clock) => watchClockJumps({ clock, onJump: () => {} })],
  ])('%s uses an unref timer at its default interval (%i ms)', (_name, interval, watch) => {
    const setTimer = vi.fn<Clock['setTimer']>(() => () => {});
    const stop = watch({ now: () => 0, sleep: async () => {}, setTimer });
    expect(setTimer).toHaveBeenCalledWith(interval, expect.any(Function), { unref: true });
    stop();
  });
});
