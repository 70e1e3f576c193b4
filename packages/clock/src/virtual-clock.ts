import { type Clock, sleepWith } from './clock.js';

interface VirtualTimer {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
  active: boolean;
}

/** Lets every pending promise reaction run: one macrotask turn drains the microtask queue. */
const settle: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function checkDuration(method: string, ms: number): void {
  if (typeof ms !== 'number' || Number.isNaN(ms)) {
    throw new TypeError(`VirtualClock.${method}: ms must be a number, received ${String(ms)}`);
  }
  if (ms < 0 || !Number.isFinite(ms)) {
    throw new RangeError(`VirtualClock.${method}: ms must be in [0, Infinity), received ${ms}`);
  }
}

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
  // Binary min-heap ordered by (due, seq): O(log n) per timer, whatever the schedule.
  readonly #heap: VirtualTimer[] = [];

  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new TypeError(`VirtualClock: start must be a finite number, received ${String(start)}`);
    }
    this.#now = start;
    this.setTimer = this.setTimer.bind(this);
  }

  now(): number {
    return this.#now;
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#pending;
  }

  setTimer(ms: number, callback: () => void): () => void {
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
      this.#pending--;
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this.setTimer, ms, signal);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * created by fired callbacks) at its own due time. Pending promise reactions run before each
   * timer fires and before this resolves.
   */
  async advance(ms: number): Promise<void> {
    checkDuration('advance', ms);
    await this.#move(async () => {
      const target = this.#now + ms;
      await this.#fireUntil(target, Number.POSITIVE_INFINITY, true);
      this.#now = target;
    });
  }

  /** Advances until no timer remains. Throws if more than `limit` timers fire (a runaway loop). */
  async runAll(limit = 100_000): Promise<void> {
    if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
      throw new RangeError(`VirtualClock.runAll: limit must be a number >= 0, received ${limit}`);
    }
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
    checkDuration('jump', ms);
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

  /** Fires due timers in order; returns how many fired (stops after limit + 1). */
  async #fireUntil(target: number, limit: number, moveToDue: boolean): Promise<number> {
    let fired = 0;
    await settle();
    for (;;) {
      const next = this.#peekActive();
      if (next === undefined || next.due > target) break;
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
    while (heap.length > 0 && !heap[0]!.active) this.#pop();
    return heap[0];
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
