import { type Clock, sleepWith, type TimerOptions } from './clock.js';
import { checkNumber } from './validate.js';

interface VirtualTimer {
  readonly due: number;
  readonly seq: number;
  callback: () => void;
  active: boolean;
}

function noop(): void {}

// Captured at load so that a test faking the global timers (vi.useFakeTimers, sinon) cannot stall
// a VirtualClock: its settling turn must run on the real event loop.
const realSetImmediate: typeof setImmediate | undefined =
  typeof setImmediate === 'function' ? setImmediate : undefined;
const realSetTimeout = setTimeout;

/**
 * Lets every pending promise reaction run: all microtasks (however deep the chain of `await`s)
 * drain before the next macrotask turn.
 */
const settle: () => Promise<void> =
  realSetImmediate !== undefined
    ? () => new Promise((resolve) => realSetImmediate(resolve))
    : () => new Promise((resolve) => realSetTimeout(resolve, 0));

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/** Below this many cancelled timers in the heap, never bother compacting it. */
const COMPACT_MIN = 64;

/**
 * Deterministic time for tests and the simulator. Nothing happens until the test (or the
 * simulator) moves time with {@link advance}, {@link runAll} or {@link jump}; timers then fire in
 * (due time, creation order), and awaiting code resumes before time moves on.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending = 0;
  #moving = false;
  // Binary min-heap ordered by (due, seq): O(log n) per timer, whatever the schedule. Cancelled
  // timers stay in it (lazy deletion) with their callback dropped, and the heap is compacted when
  // they make up more than half of it, so cancelled timers never pin memory.
  #heap: VirtualTimer[] = [];
  #cancelledInHeap = 0;

  /** @param start the initial virtual time in ms (default 0; any finite number). */
  constructor(start = 0) {
    checkNumber('VirtualClock', 'start', start, {}, false);
    this.#now = start;
    // Bound so that `const { now, sleep, setTimer } = clock` works like systemClock's methods.
    this.now = this.now.bind(this);
    this.sleep = this.sleep.bind(this);
    this.setTimer = this.setTimer.bind(this);
  }

  /** The current virtual time (ms). Moves only through advance, runAll and jump. */
  now(): number {
    return this.#now;
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#pending;
  }

  /**
   * Schedules `callback` at `now() + ms` (NaN or negative: now; `Infinity`: never). `options` are
   * accepted for {@link Clock} compatibility; virtual timers never keep a process alive anyway.
   */
  setTimer(ms: number, callback: () => void, _options?: TimerOptions): () => void {
    const timer: VirtualTimer = {
      due: this.#now + (ms > 0 ? ms : 0),
      seq: this.#seq++,
      callback,
      active: true,
    };
    this.#push(timer);
    this.#pending++;
    return () => {
      if (!timer.active) return;
      timer.active = false;
      timer.callback = noop;
      this.#pending--;
      this.#cancelledInHeap++;
      if (this.#cancelledInHeap > COMPACT_MIN && this.#cancelledInHeap * 2 > this.#heap.length) {
        this.#compact();
      }
    };
  }

  /** {@link Clock.sleep} on virtual time: resolves when time is moved past `now() + ms`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this.setTimer, ms, signal);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * created by fired callbacks) at its own due time. Pending promise reactions run before each
   * timer fires and before this resolves.
   */
  async advance(ms: number): Promise<void> {
    checkNumber('VirtualClock.advance', 'ms', ms, { min: 0 }, false);
    await this.#move(async () => {
      const target = this.#now + ms;
      await this.#fireUntil(target, Number.POSITIVE_INFINITY, true);
      this.#now = target;
    });
  }

  /**
   * Advances, timer by timer, until no timer remains (timers set for `Infinity` never fire and
   * are left pending). Rejects if more than `limit` timers would fire: a timer loop that never
   * ends is a bug, not a hang. Time then stays at the last timer that fired.
   */
  async runAll(limit = 100_000): Promise<void> {
    checkNumber('VirtualClock.runAll', 'limit', limit, { min: 0, allowInfinity: true }, false);
    await this.#move(async () => {
      const fired = await this.#fireUntil(Number.POSITIVE_INFINITY, limit, true);
      if (fired > limit) {
        throw new Error(
          `VirtualClock.runAll: more than ${limit} timers fired; a timer loop never ends`,
        );
      }
    });
  }

  /**
   * Moves time by `ms` without firing anything on the way, then fires what is overdue: a process
   * pause (GC, VM freeze) as the paused code sees it. Overdue timers fire late, at the new time.
   */
  async jump(ms: number): Promise<void> {
    checkNumber('VirtualClock.jump', 'ms', ms, { min: 0 }, false);
    await this.#move(async () => {
      this.#now += ms;
      await this.#fireUntil(this.#now, Number.POSITIVE_INFINITY, false);
    });
  }

  async #move(body: () => Promise<void>): Promise<void> {
    if (this.#moving) {
      throw new Error('VirtualClock: advance/runAll/jump called while time is already moving');
    }
    this.#moving = true;
    try {
      await body();
    } finally {
      this.#moving = false;
    }
  }

  /**
   * Fires due timers in order; returns how many fired (limit + 1 when there were more). A
   * callback that throws stops the move and rejects it, with time at that timer's due time.
   */
  async #fireUntil(target: number, limit: number, moveToDue: boolean): Promise<number> {
    let fired = 0;
    await settle();
    for (;;) {
      const next = this.#peekActive();
      if (next === undefined || next.due > target || next.due === Number.POSITIVE_INFINITY) break;
      if (fired >= limit) return fired + 1;
      this.#pop();
      next.active = false;
      this.#pending--;
      if (moveToDue && next.due > this.#now) this.#now = next.due;
      fired++;
      next.callback();
      await settle();
    }
    return fired;
  }

  #peekActive(): VirtualTimer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && !heap[0]!.active) {
      this.#pop();
      this.#cancelledInHeap--;
    }
    return heap[0];
  }

  /** Drops cancelled timers; a sorted array is a valid min-heap. */
  #compact(): void {
    this.#heap = this.#heap.filter((timer) => timer.active).sort((a, b) => (before(a, b) ? -1 : 1));
    this.#cancelledInHeap = 0;
  }

  #push(timer: VirtualTimer): void {
    const heap = this.#heap;
    let index = heap.push(timer) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentTimer = heap[parent]!;
      if (!before(timer, parentTimer)) break;
      heap[index] = parentTimer;
      index = parent;
    }
    heap[index] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let index = 0;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right]!, heap[left]!)) child = right;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
  }
}
