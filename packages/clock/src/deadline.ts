import { type Clock, neverAbortedSignal, systemClock } from './clock.js';
import { checkClock, checkNumber } from './validate.js';

export { neverAbortedSignal };

// `Symbol.dispose` (explicit resource management) is in TypeScript's `esnext.disposable` lib and
// in @types/node, but not in the ES2022/DOM libs a browser project typically compiles with: without
// this declaration our published .d.ts would not compile there (skipLibCheck off). It is the same
// declaration @types/node makes, and merges with the lib's. At run time a missing Symbol.dispose
// only leaves the `using` form unavailable; dispose() is always there.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/**
 * The abort reason of a {@link Deadline.signal}. Its `name` is `'TimeoutError'`, like the
 * platform's `AbortSignal.timeout()` reason, so code that checks `error.name` treats both alike.
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'TimeoutError';
  /** Stable code to branch on. */
  readonly code = 'DEADLINE_EXCEEDED';
  /** @param message default `'deadline exceeded'` */
  constructor(message = 'deadline exceeded') {
    super(message);
  }
}

/**
 * A point in monotonic time by which work must finish. Deadlines compose (the earliest wins) and
 * cross process boundaries as a remaining duration (see `formatGrpcTimeout`), never as a
 * wall-clock time, because clocks on different machines disagree.
 */
export class Deadline {
  /** A deadline that never expires: `remaining()` is `Infinity`. */
  static readonly never: Deadline = new Deadline(Number.POSITIVE_INFINITY, systemClock);

  /** The clock time (on {@link clock}) at which this deadline expires; `Infinity` for never. */
  readonly expiresAt: number;
  /** The clock this deadline is measured on. */
  readonly clock: Clock;
  #controller: AbortController | undefined;
  #cancelTimer: (() => void) | undefined;

  private constructor(expiresAt: number, clock: Clock) {
    this.expiresAt = expiresAt;
    this.clock = clock;
  }

  /** A deadline `ms` from now on `clock`. `Infinity` gives {@link Deadline.never}. */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    // Fast path first: a plain non-negative finite number on the default clock.
    if (
      typeof ms !== 'number' ||
      !(ms >= 0 && ms < Number.POSITIVE_INFINITY) ||
      clock !== systemClock
    ) {
      checkNumber('Deadline.after', 'ms', ms, { min: 0, allowInfinity: true }, false);
      if (clock !== systemClock) checkClock('Deadline.after', 'clock', clock, false);
      if (ms === Number.POSITIVE_INFINITY) return Deadline.never;
    }
    return new Deadline(clock.now() + ms, clock);
  }

  /**
   * A deadline at clock time `time` (a value of `clock.now()`; it may lie in the past, giving an
   * expired deadline). `Infinity` gives {@link Deadline.never}.
   */
  static at(time: number, clock: Clock = systemClock): Deadline {
    checkNumber('Deadline.at', 'time', time, { allowInfinity: true }, false);
    if (clock !== systemClock) checkClock('Deadline.at', 'clock', clock, false);
    if (time === Number.POSITIVE_INFINITY) return Deadline.never;
    return new Deadline(time, clock);
  }

  /** Milliseconds left, never negative; `Infinity` for {@link Deadline.never}. */
  remaining(): number {
    if (this.expiresAt === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    return this.remainingAt(this.clock.now());
  }

  /**
   * Milliseconds left at time `now`, a reading of this deadline's {@link clock} the caller has
   * already taken (one reading then serves for this and for whatever else it times), never
   * negative; `Infinity` for {@link Deadline.never}. `remaining()` is `remainingAt(clock.now())`.
   */
  remainingAt(now: number): number {
    if (!Number.isFinite(now)) checkNumber('Deadline.remainingAt', 'now', now, {}, false);
    // Infinity - now is Infinity: a deadline that never expires has all the time left.
    const left = this.expiresAt - now;
    return left > 0 ? left : 0;
  }

  /** Whether the deadline has passed (`remaining()` is 0). Never true for `Deadline.never`. */
  expired(): boolean {
    return this.remaining() === 0;
  }

  /** The earlier of two deadlines (this one on a tie). */
  earliest(other: Deadline): Deadline {
    if (other === this || other.expiresAt === Number.POSITIVE_INFINITY) return this;
    if (this.expiresAt === Number.POSITIVE_INFINITY) return other;
    if (other.clock === this.clock) return other.expiresAt < this.expiresAt ? other : this;
    return other.remaining() < this.remaining() ? other : this;
  }

  /**
   * An AbortSignal that aborts with a {@link DeadlineExceededError} when the deadline passes
   * (at once if it already has). Every call returns the same signal. The timer behind it is
   * created on the first call only (a deadline nobody listens to costs nothing), never keeps the
   * process alive (`unref`), and is cleared when it fires or on {@link dispose}. `Deadline.never`
   * returns {@link neverAbortedSignal} and creates nothing.
   */
  signal(): AbortSignal {
    if (this.expiresAt === Number.POSITIVE_INFINITY) return neverAbortedSignal;
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    this.#arm(controller);
    return controller.signal;
  }

  #arm(controller: AbortController): void {
    const left = this.remaining();
    if (left === 0) {
      this.#cancelTimer = undefined;
      controller.abort(new DeadlineExceededError());
      return;
    }
    // Platform timers may fire up to ~1 ms before `performance.now()` reaches the due time
    // (Node rounds to whole ms); re-check so the signal never aborts while `expired()` is false.
    this.#cancelTimer = this.clock.setTimer(left, () => this.#arm(controller), { unref: true });
  }

  /**
   * Clears the timer behind {@link signal}, if any; the signal then never aborts. Call it (or use
   * `using`) when the work the deadline guards ends early; otherwise the unref'd timer lives on
   * until the deadline passes.
   */
  dispose(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Same as {@link dispose}, for `using deadline = Deadline.after(ms)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** For logs: `Deadline(1250ms left)` or `Deadline(never)`. */
  toString(): string {
    return this.expiresAt === Number.POSITIVE_INFINITY
      ? 'Deadline(never)'
      : `Deadline(${Math.round(this.remaining())}ms left)`;
  }
}
