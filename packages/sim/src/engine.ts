import type { Clock, TimerOptions } from '@faultline/clock';
import {
  checkFunction,
  checkOneOf,
  checkOptions,
  formatValue,
  optionalNumber,
} from '@faultline/core';

/**
 * How one {@link simulate} call tells that its runs have settled: the microtask generation it is
 * at (`tick`) and the last generation in which one of its clocks was touched (`touched`). Each
 * call has its own, shared by the clocks it drives, so that concurrent calls in one process never
 * count each other's activity (with module-wide counters, one call's generations made another
 * decide "settled" too early and change its results).
 */
export class SettleState {
  tick = 0;
  touched = 0;
}

const INITIAL_CAPACITY = 64;

// SimClock.sleep builds its promise with one shared executor reading these (set just before
// `new Promise`, which runs the executor synchronously), instead of a closure per sleep.
let sleepClock: SimClock | undefined;
let sleepMs = 0;
/** How `setTimer`'s callback (stored as the entry's argument) is called: no closure per timer. */
function callNoArgument(callback: () => void): void {
  callback();
}

function sleepExecutor(resolve: () => void): void {
  sleepClock!.schedule(sleepMs, resolve);
  sleepClock = undefined;
}

/**
 * The simulator's time source. It implements the same {@link Clock} interface as `VirtualClock`
 * (policies only ever see `Clock`) with the same ordering rule: timers fire in (due time,
 * creation order). It is driven from outside by {@link simulate}, which fires one timer per
 * simulation per turn and lets every promise reaction settle before that simulation moves again.
 *
 * Why not `VirtualClock.advance`/`runAll`: they drain the microtask queue with one `setImmediate`
 * per fired timer, which dominates a simulation that fires tens of millions of timers (the full
 * `contention` sweep fires about 60 million). See {@link simulate} and the package README.
 */
export class SimClock implements Clock {
  readonly #settle: SettleState;
  #now = 0;
  #seq = 0;
  #pending = 0;
  #fired = 0;
  // A binary min-heap ordered by (due, seq), kept in parallel typed arrays (no object per
  // timer). The heap moves only numbers: an entry's callback, argument and kind live in a slot
  // (reused through a free list) that the entry points at, so sifting writes no object
  // references, and a cancelled timer's callback is dropped at once (the entry stays in the heap
  // as a tombstone until it surfaces) instead of keeping its closures alive until its due time.
  #size = 0;
  #due = new Float64Array(INITIAL_CAPACITY);
  #order = new Float64Array(INITIAL_CAPACITY);
  #slot = new Int32Array(INITIAL_CAPACITY);
  // Per slot: callback, argument, 1 for a synchronous delivery (`scheduleSync`: its callback
  // queues no promise reaction), 1 once cancelled, and the id of the timer that owns it (-1: free).
  #callbacks: Array<((arg: unknown) => void) | undefined> = new Array(INITIAL_CAPACITY);
  #args: unknown[] = new Array(INITIAL_CAPACITY);
  #sync = new Uint8Array(INITIAL_CAPACITY);
  #dead = new Uint8Array(INITIAL_CAPACITY);
  #owner = new Float64Array(INITIAL_CAPACITY).fill(-1);
  // Free slots (a stack); slots at or above `#slots` have never been used.
  #free = new Int32Array(INITIAL_CAPACITY);
  #freeCount = 0;
  #slots = 0;
  /** Cancelled entries still in the heap. */
  #deadCount = 0;
  /** The slot of the last entry pushed (read by `setTimer` for its cancel function). */
  #lastSlot = 0;

  constructor(settle: SettleState = new SettleState()) {
    this.#settle = settle;
    this.setTimer = this.setTimer.bind(this);
    this.now = this.now.bind(this);
  }

  now(): number {
    const settle = this.#settle;
    settle.touched = settle.tick;
    return this.#now;
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#pending;
  }

  /** Timers fired so far: the run's event count. */
  get firedTimers(): number {
    return this.#fired;
  }

  setTimer(ms: number, callback: () => void, _options?: TimerOptions): () => void {
    // Simulated timers never keep a process alive, so `unref` has nothing to do. One closure per
    // timer (the cancel function); the slot's owner tells whether the timer is still pending.
    const id = this.#push(ms, callNoArgument as (arg: unknown) => void, callback, 0);
    const slot = this.#lastSlot;
    return () => this.#cancel(id, slot);
  }

  #cancel(id: number, slot: number): void {
    if (this.#owner[slot] !== id || this.#dead[slot] === 1) return;
    this.#dead[slot] = 1;
    this.#callbacks[slot] = undefined;
    this.#args[slot] = undefined;
    this.#deadCount++;
    this.#pending--;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal === undefined) {
      // The hot path: one promise and one heap entry; the executor is shared (no closure).
      sleepClock = this;
      sleepMs = ms;
      return new Promise(sleepExecutor);
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        cancel();
        reject(signal.reason);
      };
      const cancel = this.setTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Schedules `callback(arg)` after `ms` without creating a cancel function (the models' hot
   * path: passing the message as `arg` spares a closure per message); returns the timer's id.
   */
  schedule<A>(ms: number, callback: (arg: A) => void, arg?: A): number {
    return this.#push(ms, callback as (arg: unknown) => void, arg, 0);
  }

  /**
   * Like {@link schedule}, for a callback that is *synchronous*: it settles no promise and queues
   * no microtask (it may schedule more timers). {@link simulate} fires such a timer and the run's
   * next one in the same turn, with no settle in between: nothing is left to settle, so the order
   * of events is the same as with a settle after every timer.
   */
  scheduleSync<A>(ms: number, callback: (arg: A) => void, arg?: A): number {
    return this.#push(ms, callback as (arg: unknown) => void, arg, 1);
  }

  #push(ms: number, callback: (arg: unknown) => void, arg: unknown, isSync: number): number {
    const settle = this.#settle;
    settle.touched = settle.tick;
    const id = this.#seq++;
    const at = this.#now + (ms > 0 ? ms : 0);
    if (this.#size === this.#due.length) this.#grow();
    const slot = this.#freeCount > 0 ? this.#free[--this.#freeCount]! : this.#slots++;
    this.#callbacks[slot] = callback;
    this.#args[slot] = arg;
    this.#sync[slot] = isSync;
    this.#owner[slot] = id;
    this.#lastSlot = slot;
    const due = this.#due;
    const order = this.#order;
    const slots = this.#slot;
    let index = this.#size++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentDue = due[parent]!;
      if (parentDue < at || (parentDue === at && order[parent]! < id)) break;
      due[index] = parentDue;
      order[index] = order[parent]!;
      slots[index] = slots[parent]!;
      index = parent;
    }
    due[index] = at;
    order[index] = id;
    slots[index] = slot;
    this.#pending++;
    return id;
  }

  /** The due time of the next live timer, or `Infinity` when none is pending. */
  nextDue(): number {
    if (this.#deadCount > 0) this.#skipCancelled();
    return this.#size > 0 ? this.#due[0]! : Number.POSITIVE_INFINITY;
  }

  /**
   * Fires the earliest pending timer if it is due at or before `until`, moving time to its due
   * time, and returns whether one fired. The caller must let promise reactions settle before the
   * next call; {@link simulate} does.
   */
  fireNext(until: number = Number.POSITIVE_INFINITY): boolean {
    if (this.#deadCount > 0) this.#skipCancelled();
    if (this.#size === 0) return false;
    const at = this.#due[0]!;
    if (at > until) return false;
    const slot = this.#slot[0]!;
    const callback = this.#callbacks[slot]!;
    const arg = this.#args[slot];
    this.#release(slot);
    this.#pop();
    this.#pending--;
    this.#fired++;
    if (at > this.#now) this.#now = at;
    callback(arg);
    return true;
  }

  /**
   * One turn of this run: fires the synchronous timers due at or before `until` in order, then
   * one ordinary timer, stopping after `maxEvents` fired in all. Returns whether any fired.
   */
  fireTurn(until: number, maxEvents: number): boolean {
    let fired = false;
    for (;;) {
      if (this.#deadCount > 0) this.#skipCancelled();
      if (this.#size === 0) return fired;
      const at = this.#due[0]!;
      if (at > until) return fired;
      const slot = this.#slot[0]!;
      const callback = this.#callbacks[slot]!;
      const arg = this.#args[slot];
      const isSync = this.#sync[slot] === 1;
      this.#release(slot);
      this.#pop();
      this.#pending--;
      if (++this.#fired > maxEvents) return true;
      if (at > this.#now) this.#now = at;
      callback(arg);
      if (!isSync) return true;
      fired = true;
    }
  }

  /** Moves time forward to `time` without firing anything (the end of a time-bounded run). */
  moveTo(time: number): void {
    if (time > this.#now) this.#now = time;
  }

  #grow(): void {
    const capacity = this.#due.length * 2;
    const widen = <T extends Float64Array | Int32Array | Uint8Array>(
      array: T,
      make: (n: number) => T,
    ): T => {
      const wider = make(capacity);
      wider.set(array);
      return wider;
    };
    this.#due = widen(this.#due, (n) => new Float64Array(n));
    this.#order = widen(this.#order, (n) => new Float64Array(n));
    this.#slot = widen(this.#slot, (n) => new Int32Array(n));
    this.#sync = widen(this.#sync, (n) => new Uint8Array(n));
    this.#dead = widen(this.#dead, (n) => new Uint8Array(n));
    this.#free = widen(this.#free, (n) => new Int32Array(n));
    const owner = widen(this.#owner, (n) => new Float64Array(n).fill(-1));
    owner.fill(-1, this.#owner.length);
    this.#owner = owner;
    this.#callbacks.length = capacity;
    this.#args.length = capacity;
  }

  /** Frees a fired or cancelled entry's slot, dropping its references. */
  #release(slot: number): void {
    this.#callbacks[slot] = undefined;
    this.#args[slot] = undefined;
    this.#owner[slot] = -1;
    this.#free[this.#freeCount++] = slot;
  }

  /** Pops the cancelled entries at the top of the heap. */
  #skipCancelled(): void {
    const dead = this.#dead;
    while (this.#size > 0) {
      const slot = this.#slot[0]!;
      if (dead[slot] !== 1) return;
      dead[slot] = 0;
      this.#deadCount--;
      this.#release(slot);
      this.#pop();
    }
  }

  /** Removes the root (its slot already released): the last entry sifts down from the top. */
  #pop(): void {
    const size = --this.#size;
    if (size === 0) return;
    const due = this.#due;
    const order = this.#order;
    const slots = this.#slot;
    const lastDue = due[size]!;
    const lastOrder = order[size]!;
    const lastSlot = slots[size]!;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (
        right < size &&
        (due[right]! < due[left]! || (due[right] === due[left] && order[right]! < order[left]!))
      ) {
        child = right;
      }
      const childDue = due[child]!;
      if (lastDue < childDue || (lastDue === childDue && lastOrder < order[child]!)) break;
      due[index] = childDue;
      order[index] = order[child]!;
      slots[index] = slots[child]!;
      index = child;
    }
    due[index] = lastDue;
    order[index] = lastOrder;
    slots[index] = lastSlot;
  }
}

// A native promise reaction is a cheaper microtask than Node's queueMicrotask (which wraps every
// callback for async hooks).
const resolved = Promise.resolve();

/** One macrotask turn: Node drains the whole microtask queue before it runs. */
const macrotask: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/** One simulation run, as {@link simulate} drives it. */
export interface SimulationRun<R> {
  /**
   * Sets the run up on `clock` (starts its clients, schedules its first events) and returns when
   * it ends (`until`, default: when no timer is left) and how to read its result afterwards.
   */
  setup(clock: SimClock): { readonly until?: number; result(clock: SimClock): R };
}

/** Options for {@link simulate}. */
export interface SimulateOptions {
  /** Runs driven side by side (each turn fires one timer in each). Default 8. */
  readonly concurrency?: number;
  /**
   * How the engine lets reactions settle between turns: `'microtask'` (default, fast: yields
   * microtask generations until the clocks have been quiet for `quiet` generations) or
   * `'macrotask'` (one `setImmediate` per turn, as `VirtualClock` does per timer).
   */
  readonly settle?: 'microtask' | 'macrotask';
  /**
   * Quiet generations that end a microtask settle. Default 8: a margin over what the built-in
   * scenarios need, which the engine tests measure (each scenario's results are compared with the
   * `'macrotask'` settle, and a too-short settle is shown to change them).
   */
  readonly quiet?: number;
  /** Stops a run that fires more timers than this (a runaway loop). Default 50 000 000. */
  readonly maxEvents?: number;
  /** Called after each run finishes with the number finished so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

interface Active<R> {
  readonly index: number;
  readonly clock: SimClock;
  readonly until: number;
  readonly result: (clock: SimClock) => R;
}

/**
 * Drives `runs` to completion and returns their results in order. Each turn fires the earliest
 * timer of every active run (preceded by any synchronous timers due before it, see
 * {@link SimClock.scheduleSync}), then lets all the promise reactions those timers caused (in
 * every run) settle before any run's time moves again: the guarantee `VirtualClock` gives, paid once
 * per turn for all the runs side by side instead of once per timer.
 *
 * Settling without a macrotask (`settle: 'microtask'`, the default): the engine queues itself
 * behind the reactions, one microtask generation at a time, until `quiet` consecutive generations
 * pass in which none of this call's clocks was touched (`now`, `sleep`, `setTimer`). Every reaction
 * chain of the simulated code either ends or reaches the clock within a few generations (a resumed
 * `await` is one, an async function's settlement one or two more); the engine tests check, for
 * every scenario, that the results are byte-identical to the `'macrotask'` mode (one
 * `setImmediate` per turn). Results depend only on each run's own seed and code, never on
 * `concurrency`, on `settle`, on which runs share a turn, or on other `simulate` calls running at
 * the same time in the process (each call keeps its own settle state).
 */
export function simulate<R>(
  runs: readonly SimulationRun<R>[],
  options: SimulateOptions = {},
): Promise<R[]> {
  const owner = 'simulate';
  const opts = checkOptions<SimulateOptions>(owner, options);
  const concurrency = optionalNumber(owner, 'concurrency', opts.concurrency, 8, {
    min: 1,
    integer: true,
  });
  const maxEvents = optionalNumber(owner, 'maxEvents', opts.maxEvents, 50_000_000, {
    min: 1,
    integer: true,
    allowInfinity: true,
  });
  const quiet = optionalNumber(owner, 'quiet', opts.quiet, 8, { min: 0, integer: true });
  const macro =
    opts.settle !== undefined &&
    checkOneOf(owner, 'settle', opts.settle, ['microtask', 'macrotask'] as const) === 'macrotask';
  const onProgress =
    opts.onProgress === undefined
      ? undefined
      : checkFunction<(done: number, total: number) => void>(owner, 'onProgress', opts.onProgress);
  if (!Array.isArray(runs)) {
    throw new TypeError(
      `${owner}: runs must be an array of SimulationRun, received ${formatValue(runs)}`,
    );
  }
  const results = new Array<R>(runs.length);
  const active: Active<R>[] = [];
  let next = 0;
  let done = 0;
  let turns = 0;
  const settle = new SettleState();
  return new Promise<R[]>((resolve, reject) => {
    const turn = (): void => {
      try {
        for (let i = active.length - 1; i >= 0; i--) {
          const run = active[i]!;
          if (run.clock.fireTurn(run.until, maxEvents)) {
            if (run.clock.firedTimers > maxEvents) {
              throw new Error(`simulate: run ${run.index} fired more than ${maxEvents} timers`);
            }
            continue;
          }
          // Nothing left to fire after the last settle: the run is over.
          if (run.until !== Number.POSITIVE_INFINITY) run.clock.moveTo(run.until);
          results[run.index] = run.result(run.clock);
          active[i] = active[active.length - 1]!;
          active.pop();
          done++;
          onProgress?.(done, runs.length);
        }
        while (active.length < concurrency && next < runs.length) {
          const clock = new SimClock(settle);
          const index = next++;
          const handle = runs[index]!.setup(clock);
          active.push({
            index,
            clock,
            until: handle.until ?? Number.POSITIVE_INFINITY,
            result: handle.result,
          });
        }
        if (active.length === 0) {
          resolve(results);
          return;
        }
        // Every 1024 turns, yield to the event loop anyway (progress output, worker messages).
        if (macro || (++turns & 1023) === 0) {
          macrotask().then(turn, reject);
        } else {
          settle.touched = settle.tick;
          resolved.then(generation);
        }
      } catch (error) {
        reject(error);
      }
    };
    const generation = (): void => {
      if (++settle.tick - settle.touched > quiet) turn();
      else resolved.then(generation);
    };
    turn();
  });
}
