import { type Clock, systemClock } from '@faultline/clock';
import { LinkedList, ListNode } from '@faultline/core/internal';

const RESOLVED = Promise.resolve();

/** An entry of a {@link DeadlineQueue}: extend it with what to do when its time is up. */
export abstract class Deadline extends ListNode {
  /** Clock time at which {@link expire} runs, set by {@link DeadlineQueue.add}. */
  due = 0;
  /** Called once when `due` has passed while the entry was queued (it is already removed). */
  abstract expire(): void;
}

/**
 * Entries that each wait the same `delay`, served by one platform timer instead of one per entry.
 * Entries are added at `now + delay` with a monotonic clock, so the queue is in deadline order and
 * only its head needs a timer: removing an entry (the usual case: the store answered, the
 * execution finished) costs an unlink, and the timer, armed for the head, re-arms on firing for
 * the new head. The timer is armed two microtasks after an add to an unarmed queue (at the end of
 * the task on the platform clock), so calls that settle within the same task (an in-process
 * store) never create one. An entry never expires before its `due` and, timers permitting, not
 * after it.
 * When the queue empties the timer is cancelled, so an idle queue holds none (processes exit
 * promptly; `VirtualClock.pendingTimers` sees nothing).
 * @internal
 */
export class DeadlineQueue<E extends Deadline> {
  readonly #list = new LinkedList<E>();
  readonly #clock: Clock;
  readonly #delay: number;
  readonly #unref: boolean;
  #cancel: (() => void) | undefined;
  #firing = false;
  #armPending = false;
  /**
   * Arm at the end of the task (`setImmediate`) rather than two microtasks after the add. Only on
   * the platform clock, whose timers cannot fire before the task ends anyway: Fastify takes more
   * than two hops from a claim to the end of its response, so the renewal timer was armed and
   * cancelled per request. A virtual clock can advance within a task, so it keeps the hops.
   */
  readonly #endOfTask: boolean;

  constructor(clock: Clock, delay: number, unref: boolean) {
    this.#clock = clock;
    this.#delay = delay;
    this.#unref = unref;
    this.#endOfTask = clock === systemClock && typeof setImmediate === 'function';
  }

  /** Entries waiting. */
  get size(): number {
    return this.#list.size;
  }

  /** Queues `entry` (not already queued) to expire `delay` from now. */
  add(entry: E): void {
    entry.due = this.#clock.now() + this.#delay;
    this.#list.push(entry);
    if (this.#cancel === undefined && !this.#firing && !this.#armPending) {
      // Arm a little later, within this task: an entry removed by then (an in-process store
      // answers within a microtask or two) never costs a platform timer. The deadline is
      // already fixed, so arming later never moves it.
      this.#armPending = true;
      if (this.#endOfTask) setImmediate(this.#armNow);
      else void RESOLVED.then(this.#armSoon);
    }
  }

  /** Unqueues `entry`; `false` if it was not queued (it expired, or was never added). */
  remove(entry: E): boolean {
    if (!this.#list.remove(entry)) return false;
    if (this.#list.size === 0 && this.#cancel !== undefined) {
      this.#cancel();
      this.#cancel = undefined;
    }
    return true;
  }

  /**
   * Two microtask hops after an add: arm for the head, if anything is still queued. The hops are
   * reactions of a settled promise rather than `queueMicrotask`, which on Node allocates an async
   * resource and a bound function per call; the timing is the same (one microtask each).
   */
  readonly #armSoon = (): void => {
    void RESOLVED.then(this.#armNow);
  };

  readonly #armNow = (): void => {
    this.#armPending = false;
    const head = this.#list.head;
    if (head === undefined || this.#cancel !== undefined || this.#firing) return;
    this.#arm(head.due - this.#clock.now());
  };

  #arm(ms: number): void {
    this.#cancel = this.#clock.setTimer(ms, this.#fire, { unref: this.#unref });
  }

  readonly #fire = (): void => {
    this.#cancel = undefined;
    this.#firing = true;
    const now = this.#clock.now();
    try {
      // `expire` may add entries (at now + delay, so after `now`): the loop ends.
      for (let head = this.#list.head; head !== undefined && head.due <= now; ) {
        this.#list.remove(head);
        head.expire();
        head = this.#list.head;
      }
    } finally {
      this.#firing = false;
      const head = this.#list.head;
      if (head !== undefined && this.#cancel === undefined) this.#arm(head.due - now);
    }
  };
}
