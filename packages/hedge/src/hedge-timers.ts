import { type Clock, MAX_TIMER_DELAY, systemClock } from '@faultline/clock';
import { reportListenerError } from '@faultline/clock/internal';
import { atTurnEnd, deferrable, turnTime } from './turn.js';

/** Something waiting for a hedge delay: a hedged call. */
export interface TimerEntry {
  /** Clock time at which {@link onDue} runs. */
  due: number;
  /**
   * Insertion order, to fire entries due at the same time in the order they were added (while
   * deferred: the entry's position in the array of deferred entries).
   */
  seq: number;
  /** Position in the heap; -1 when not queued, -2 while deferred to the end of the turn. */
  index: number;
  /** Called with the clock time the timer fired at. */
  onDue(now: number): void;
}

/** {@link TimerEntry.index} of an entry added in this turn and not yet in the heap. */
const DEFERRED = -2;

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/** A platform timer handle that can stop (and resume) keeping the process alive: Node's. */
interface Refable {
  ref(): unknown;
  unref(): unknown;
}

function isRefable(handle: unknown): handle is Refable {
  return (
    typeof handle === 'object' &&
    handle !== null &&
    typeof (handle as Refable).ref === 'function' &&
    typeof (handle as Refable).unref === 'function'
  );
}

/**
 * The hedge delays of every call of one policy, on **one** clock timer. A platform timer per call
 * (`setTimeout` + `clearTimeout`, ~0.4 µs on Node 20) costs more than the call it guards, and
 * nearly every call settles before its hedge is due: here a call that wins in time only enters
 * and leaves a binary heap (O(log n), n = calls waiting for a hedge), and the clock timer is
 * armed for the earliest due entry, re-armed only when it fires or when an earlier entry arrives.
 *
 * On the system clock the timer is a platform timer that keeps the process alive while some call
 * waits for a hedge (Node's `ref`), and lets go of it at the end of the turn in which the last one
 * left (`unref`, see turn.ts): a hedge due for a first attempt that waits on nothing else still
 * fires, and an idle policy never holds the process open.
 *
 * On the system clock an entry also enters the heap only at the end of the event-loop turn in
 * which it was added (see turn.ts), and only if it is still queued then: a platform timer cannot
 * fire before the turn ends, so nothing fires later for it, and a call that settles within its
 * turn (a cache hit, a fan-out answered from memory, a benchmark's empty function) costs an array
 * push and pop instead of a heap insertion and removal, and never arms the platform timer.
 */
export class HedgeTimers {
  readonly #clock: Clock;
  /** Whether to use the platform's timers directly (the system clock). */
  readonly #native: boolean;
  /** Whether entries wait for the end of their turn to enter the heap (see above). */
  readonly #defer: boolean;
  // A binary min-heap in an array that never shrinks (`#size` live slots): pushing into and
  // popping out of a one-element array on every call made V8 reallocate its backing store.
  readonly #heap: Array<TimerEntry | undefined> = [];
  #size = 0;
  #seq = 0;
  /**
   * Entries added in this turn, for the heap at its end (system clock only). An entry is queued
   * at position `seq` when its `index` says deferred; other slots are left by entries that left
   * (or came back later, in a later slot).
   */
  #deferred: TimerEntry[] = [];
  /** Deferred entries still queued. */
  #deferredSize = 0;
  #spare: TimerEntry[] = [];
  #flushing = false;
  /** The turn's time (turn.ts) when the first of the deferred entries was added. */
  #deferredBase = 0;
  /** Due time the clock timer is armed for; Infinity when none is armed. */
  #armedFor = Number.POSITIVE_INFINITY;
  #cancel: (() => void) | undefined;
  #handle: ReturnType<typeof setTimeout> | undefined;
  /** The handle when it can be ref'd and unref'd (Node), else undefined. */
  #refable: Refable | undefined;
  /** Whether an unref is pending for the end of the event-loop turn. */
  #idleCheck = false;
  readonly #fire = (): void => this.#onTimer();
  readonly #unrefIfIdle = (): void => {
    this.#idleCheck = false;
    if (this.#size === 0) this.#refable?.unref();
  };
  readonly #flushDeferred = (): void => {
    this.#flushing = false;
    const deferred = this.#deferred;
    const live = this.#deferredSize;
    this.#deferred = this.#spare;
    this.#deferredSize = 0;
    // The entries' due times count from the turn's time, read when the turn's first call
    // started; a call that started later in the same turn (after 50 ms of synchronous work, say)
    // would see its hedge fire that much early, and early hedges add load exactly when the
    // process is busy. Count them from now instead, the end of the turn: never early, late by
    // at most what remained of the turn when the call started — as any timer is on a busy loop.
    // One clock read per turn, none for calls that settle within their turn.
    let shift = 0;
    if (live !== 0) {
      shift = this.#clock.now() - this.#deferredBase;
      if (!(shift > 0)) shift = 0;
    }
    for (let i = 0; i < deferred.length; i++) {
      const entry = deferred[i]!;
      if (entry.index === DEFERRED && entry.seq === i) this.#insert(entry, entry.due + shift);
    }
    deferred.length = 0;
    this.#spare = deferred;
  };

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#native = clock === systemClock;
    this.#defer = this.#native && deferrable;
    // Read the turn's time here, where the policy is built, rather than on its first call: on
    // Node the first performance.now() of a process loads perf_hooks (~1 ms), and the first
    // setImmediate sets up the immediate queue (~0.1 ms).
    if (this.#native) turnTime(clock);
  }

  /** Entries waiting. */
  get size(): number {
    return this.#size + this.#deferredSize;
  }

  /** Queues `entry` to run `onDue()` at clock time `due` (it must not be queued already). */
  add(entry: TimerEntry, due: number): void {
    if (this.#defer) {
      const deferred = this.#deferred;
      entry.due = due;
      entry.index = DEFERRED;
      entry.seq = deferred.length;
      deferred.push(entry);
      this.#deferredSize++;
      if (!this.#flushing) {
        this.#flushing = true;
        this.#deferredBase = turnTime(this.#clock);
        atTurnEnd(this.#flushDeferred);
      }
      return;
    }
    this.#insert(entry, due);
  }

  #insert(entry: TimerEntry, due: number): void {
    entry.due = due;
    entry.seq = this.#seq++;
    const index = this.#size++;
    entry.index = index;
    this.#heap[index] = entry;
    this.#up(index);
    if (due < this.#armedFor) this.#arm(due);
    // Already ref'd when an unref is still pending for this turn: then ref() is a flag check.
    else if (index === 0) this.#refable?.ref();
  }

  /** Takes `entry` out of the queue; a no-op when it is not queued. */
  remove(entry: TimerEntry): void {
    const index = entry.index;
    if (index === DEFERRED) this.#removeDeferred(entry);
    else if (index >= 0) this.#removeQueued(entry, index);
  }

  #removeDeferred(entry: TimerEntry): void {
    entry.index = -1;
    const live = --this.#deferredSize;
    // Keep the array short within a long turn (a loop of awaited calls never ends its turn): drop
    // the entries that left from its end (calls awaited one at a time leave in the order they
    // came), and compact it when they left out of order.
    const deferred = this.#deferred;
    for (let n = deferred.length; n > 0; n--) {
      const last = deferred[n - 1]!;
      if (last.index === DEFERRED && last.seq === n - 1) break;
      deferred.pop();
    }
    if (deferred.length > 2 * live + 64) this.#compact();
  }

  #compact(): void {
    const deferred = this.#deferred;
    let kept = 0;
    for (let i = 0; i < deferred.length; i++) {
      const queued = deferred[i]!;
      if (queued.index === DEFERRED && queued.seq === i) {
        queued.seq = kept;
        deferred[kept++] = queued;
      }
    }
    deferred.length = kept;
  }

  #removeQueued(entry: TimerEntry, index: number): void {
    entry.index = -1;
    const heap = this.#heap;
    const size = --this.#size;
    const last = heap[size]!;
    heap[size] = undefined;
    if (last !== entry) {
      heap[index] = last;
      last.index = index;
      this.#down(index);
      this.#up(last.index);
    }
    // The timer stays armed (if it fires with nothing due it re-arms for the new head), but an
    // idle policy must not hold the process open: unref it at the end of this event-loop turn if
    // the heap is still empty then. Not at once: calls that come and go within one turn (the
    // usual case under load) would toggle the process-wide timer ref count twice per call.
    if (size === 0 && this.#refable !== undefined && !this.#idleCheck) {
      this.#idleCheck = true;
      atTurnEnd(this.#unrefIfIdle);
    }
  }

  #arm(due: number): void {
    const ms = due - this.#clock.now();
    this.#armedFor = due;
    if (this.#native) {
      if (this.#handle !== undefined) clearTimeout(this.#handle);
      // Longer delays would fire at once on every platform: wait in slices, re-arming on fire.
      const handle = setTimeout(
        this.#fire,
        ms < MAX_TIMER_DELAY ? (ms > 0 ? ms : 0) : MAX_TIMER_DELAY,
      );
      this.#handle = handle;
      // Only Node's handles can stop keeping the process alive (browsers have no such notion).
      this.#refable = isRefable(handle) && deferrable ? handle : undefined;
      return;
    }
    if (this.#cancel !== undefined) this.#cancel();
    this.#cancel = this.#clock.setTimer(ms, this.#fire);
  }

  #onTimer(): void {
    this.#cancel = undefined;
    this.#handle = undefined;
    this.#refable = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const heap = this.#heap;
    const now = this.#clock.now();
    for (let head = heap[0]; head !== undefined && head.due <= now; head = heap[0]) {
      this.remove(head);
      try {
        head.onDue(now);
      } catch (error) {
        // Never expected (a call settles its own errors), but one entry must not strand the rest.
        reportListenerError(error);
      }
    }
    const head = heap[0];
    if (head !== undefined && head.due < this.#armedFor) this.#arm(head.due);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index]!;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent]!;
      if (!before(entry, above)) break;
      heap[index] = above;
      above.index = index;
      index = parent;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const size = this.#size;
    const entry = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && before(heap[right]!, heap[left]!)) child = right;
      const below = heap[child]!;
      if (!before(below, entry)) break;
      heap[index] = below;
      below.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
