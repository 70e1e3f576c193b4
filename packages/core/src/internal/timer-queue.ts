import { type Clock, MAX_TIMER_DELAY, systemClock } from '@faultline/clock';
import { LinkedList, type ListNode } from './linked-list.js';

/**
 * An entry of a {@link TimerQueue}: {@link expire} is called at `due` unless removed first. A
 * {@link ListNode} by shape rather than by inheritance: a class on the success path is cheaper to
 * construct without a chain of `super()` calls.
 */
export interface TimerEntry extends ListNode {
  /** The clock time at which the entry expires (set by {@link TimerQueue.tryAdd}). */
  due: number;
  /** Called once, by the queue's timer, at or after `due` (`now`: the clock's time then). */
  expire(now: number): void;
}

type Handle = ReturnType<typeof setTimeout>;

/**
 * The timers of one policy's calls behind a single platform timer: an ordered timer list
 * (Varghese and Lauck, "Hashed and Hierarchical Timing Wheels", 1987, scheme 2) whose first entry
 * the one timer is armed for. With a fixed duration on one clock every new entry goes last, so
 * starting and stopping a timer are both O(1): a call that ends in time costs a link and an unlink
 * instead of a `setTimeout` and a `clearTimeout`, which on Node cost most when the platform's list
 * for that duration empties and is rebuilt on every call (a caller awaiting calls one at a time).
 * An entry due before the last one is refused ({@link tryAdd}); its caller gives it a timer of
 * its own.
 *
 * When the last entry leaves, the armed timer stays (the next call will likely need it) but stops
 * holding the process open: on `systemClock` it is unref'd where handles can be (Node, Bun), in
 * the event loop's check phase; on any other clock, or where handles cannot be unref'd, it is
 * cancelled. A timer that fires with nothing due re-arms for the first entry, or lapses.
 */
export class TimerQueue<E extends TimerEntry> {
  readonly #clock: Clock;
  /** A background queue: its timer never holds the process open (lease renewals, sweeps). */
  readonly #background: boolean;
  readonly #entries = new LinkedList<E>();
  /** The due time the armed timer fires at; `Infinity` when none is armed. */
  #armedFor = Number.POSITIVE_INFINITY;
  /** `systemClock`'s platform handle, unref'd while the queue is empty. */
  #handle: Handle | undefined;
  #refed = false;
  /** Whether an idle check is scheduled (see {@link remove}). */
  #checking = false;
  /** Another clock's cancel function. */
  #cancel: (() => void) | undefined;
  readonly #fire = (): void => this.#onFire();
  readonly #idleCheck = (): void => {
    this.#checking = false;
    const handle = this.#handle;
    if (this.#entries.head === undefined && handle !== undefined) this.#unref(handle);
  };

  /**
   * @param options.unref a background queue (`true`): its timer never keeps the process alive.
   * Default `false`: the timer does while entries wait, as a timer settling a promise should.
   */
  constructor(clock: Clock, options?: { readonly unref?: boolean }) {
    this.#clock = clock;
    this.#background = options?.unref === true;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Adds `entry`, due at `due` (read from this queue's clock, as is `now`). `false`, and nothing
   * added, when `due` is before the last entry's: the queue keeps due order without a search.
   */
  tryAdd(entry: E, due: number, now: number): boolean {
    const entries = this.#entries;
    const last = entries.tail;
    if (last !== undefined && due < last.due) return false;
    entry.due = due;
    entries.push(entry);
    if (due < this.#armedFor) this.#arm(due, now);
    else if (this.#handle !== undefined && !this.#refed && !this.#background) {
      this.#refed = true;
      (this.#handle as unknown as { ref(): void }).ref();
    }
    return true;
  }

  /** Removes `entry` if it is still waiting (idempotent). */
  remove(entry: E): void {
    const entries = this.#entries;
    if (!entries.remove(entry) || entries.head !== undefined) return;
    // The last entry left: the timer may stay armed, but must not keep the process alive.
    const handle = this.#handle;
    if (handle === undefined) {
      this.#disarm();
    } else if (typeof handle !== 'object' || typeof setImmediate !== 'function') {
      // A browser's or Deno's numeric handle cannot be unref'd.
      this.#disarm();
    } else if (this.#refed && !this.#checking) {
      // Unref'd once the current macrotask's promise jobs have run, not now: a caller awaiting
      // calls one at a time empties the queue on every call, and toggling the reference each
      // time would cost as much as the platform timer the queue saves. The check phase still
      // comes before the process could exit, so it exits as promptly as with a cleared timer.
      this.#checking = true;
      setImmediate(this.#idleCheck);
    }
  }

  /** Unrefs a Node or Bun handle (numeric handles have nothing to unref). */
  #unref(handle: Handle): void {
    if (!this.#refed) return;
    this.#refed = false;
    if (typeof handle === 'object' && typeof (handle as { unref?: unknown }).unref === 'function') {
      (handle as unknown as { unref(): void }).unref();
    }
  }

  #arm(due: number, now: number): void {
    this.#disarm();
    this.#armedFor = due;
    const delay = due - now;
    if (this.#clock === systemClock) {
      // Longer delays wait in slices: #onFire re-arms for what is left.
      const handle = setTimeout(this.#fire, delay < MAX_TIMER_DELAY ? delay : MAX_TIMER_DELAY);
      this.#handle = handle;
      this.#refed = true;
      if (this.#background) this.#unref(handle);
    } else {
      this.#cancel = this.#clock.setTimer(delay, this.#fire, { unref: this.#background });
    }
  }

  #disarm(): void {
    this.#armedFor = Number.POSITIVE_INFINITY;
    if (this.#handle !== undefined) {
      clearTimeout(this.#handle);
      this.#handle = undefined;
    } else if (this.#cancel !== undefined) {
      const cancel = this.#cancel;
      this.#cancel = undefined;
      cancel();
    }
  }

  #onFire(): void {
    this.#armedFor = Number.POSITIVE_INFINITY;
    this.#handle = undefined;
    this.#cancel = undefined;
    const entries = this.#entries;
    const now = this.#clock.now();
    try {
      // A platform timer may fire up to ~1 ms before performance.now() reaches its due time (Node
      // rounds): an entry not yet due waits for the re-armed timer, so none expires early.
      for (
        let first = entries.head;
        first !== undefined && first.due <= now;
        first = entries.head
      ) {
        entries.remove(first);
        // An expiry runs user code (abort listeners) that may add entries, and so arm the timer.
        first.expire(now);
      }
    } finally {
      const first = entries.head;
      if (first !== undefined && first.due < this.#armedFor) this.#arm(first.due, now);
    }
  }
}
