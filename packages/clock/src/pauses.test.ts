import { describe, expect, it, vi } from 'vitest';
import type { Clock } from './clock.js';
import { type PauseEvent, watchPauses } from './pauses.js';
import { VirtualClock } from './virtual-clock.js';

describe('watchPauses', () => {
  it('observes VirtualClock.jump as a pause of about the jump', async () => {
    const clock = new VirtualClock();
    const pauses: PauseEvent[] = [];
    const stop = watchPauses({ clock, onPause: (event) => pauses.push(event) });
    await clock.advance(1_000);
    expect(pauses).toEqual([]);
    await clock.jump(2_000);
    expect(pauses).toHaveLength(1);
    // Seen when the watcher runs again: the jump, less up to one interval (100 ms).
    expect(pauses[0]!.duration).toBeGreaterThanOrEqual(2_000 - 100);
    expect(pauses[0]!.duration).toBeLessThanOrEqual(2_000);
    expect(pauses[0]!.at).toBe(3_000);
    await clock.advance(1_000);
    expect(pauses).toHaveLength(1);
    stop();
    stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports lateness from the threshold on, not below it', async () => {
    const clock = new VirtualClock();
    const onPause = vi.fn();
    const stop = watchPauses({ clock, interval: 50, threshold: 200, onPause });
    await clock.advance(50); // tick at 50, next due at 100
    await clock.jump(249); // fires at 299: 199 late
    expect(onPause).not.toHaveBeenCalled();
    await clock.advance(50); // tick at 349, next due 399
    await clock.jump(250); // fires at 599: 200 late
    // Two matchers rather than toHaveBeenCalledExactlyOnceWith, which Bun's `vi` lacks.
    expect(onPause).toHaveBeenCalledOnce();
    expect(onPause).toHaveBeenCalledWith({ duration: 200, at: 599 });
    stop();
  });

  it('keeps watching when onPause throws, and stop() inside onPause works', async () => {
    const clock = new VirtualClock();
    const reported: unknown[] = [];
    const original = globalThis.reportError;
    globalThis.reportError = (error: unknown) => reported.push(error);
    try {
      let calls = 0;
      const stop = watchPauses({
        clock,
        onPause: () => {
          calls++;
          if (calls === 1) throw new Error('listener bug');
          stop();
        },
      });
      await clock.jump(1_000);
      await clock.advance(100);
      await clock.jump(1_000);
      expect(calls).toBe(2);
      expect(reported).toHaveLength(1);
      expect(clock.pendingTimers).toBe(0);
    } finally {
      globalThis.reportError = original;
    }
  });

  it('validates every option: wrong type and out of range', () => {
    const onPause = (): void => {};
    const clock = new VirtualClock();
    expect(() => watchPauses(undefined as unknown as { onPause: () => void })).toThrow(
      /watchPauses: option "onPause" must be a function/,
    );
    expect(() => watchPauses(5 as unknown as { onPause: () => void })).toThrow(
      /watchPauses: options must be an object/,
    );
    expect(() => watchPauses({ onPause: 'x' as unknown as () => void })).toThrow(TypeError);
    expect(() => watchPauses({ clock: {} as Clock, onPause })).toThrow(TypeError);
    expect(() => watchPauses({ clock: {} as Clock, onPause })).toThrow(
      /watchPauses: option "clock" must be a Clock/,
    );
    for (const option of ['interval', 'threshold'] as const) {
      expect(() => watchPauses({ clock, onPause, [option]: '1' })).toThrow(TypeError);
      expect(() => watchPauses({ clock, onPause, [option]: '1' })).toThrow(
        `watchPauses: option "${option}"`,
      );
      expect(() => watchPauses({ clock, onPause, [option]: 0 })).toThrow(RangeError);
      expect(() => watchPauses({ clock, onPause, [option]: 0 })).toThrow(
        new RegExp(`option "${option}" must be a number in \\(0, Infinity\\), received 0`),
      );
      expect(() => watchPauses({ clock, onPause, [option]: Number.POSITIVE_INFINITY })).toThrow(
        RangeError,
      );
    }
    expect(clock.pendingTimers).toBe(0);
  });
});
