import { type Clock, systemClock } from './clock.js';

/**
 * The abort reason of a {@link Deadline.signal}. Its `name` is `'TimeoutError'`, like the
 * platform's `AbortSignal.timeout()` reason, so code that checks `error.name` treats both alike.
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'DEADLINE_EXCEEDED';
  constructor(message = 'deadline exceeded') {
    super(message);
  }
}

/** A signal that never aborts, shared by every caller that has nothing to cancel. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

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
  readonly clock: Clock;
  #controller: AbortController | undefined;
  #cancelTimer: (() => void) | undefined;

  private constructor(expiresAt: number, clock: Clock) {
    this.expiresAt = expiresAt;
    this.clock = clock;
  }

  /** A deadline `ms` from now on `clock`. `Infinity` gives {@link Deadline.never}. */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      throw new TypeError(`Deadline.after: ms must be a number, received ${String(ms)}`);
    }
    if (ms < 0) throw new RangeError(`Deadline.after: ms must be in [0, Infinity], received ${ms}`);
    if (ms === Number.POSITIVE_INFINITY) return Deadline.never;
    return new Deadline(clock.now() + ms, clock);
  }

  /** A deadline at clock time `time` (a value of `clock.now()`). */
  static at(time: number, clock: Clock = systemClock): Deadline {
    if (typeof time !== 'number' || Number.isNaN(time)) {
      throw new TypeError(`Deadline.at: time must be a number, received ${String(time)}`);
    }
    if (time === Number.POSITIVE_INFINITY) return Deadline.never;
    if (time === Number.NEGATIVE_INFINITY) {
      throw new RangeError('Deadline.at: time must be finite or Infinity, received -Infinity');
    }
    return new Deadline(time, clock);
  }

  /** Milliseconds left, never negative; `Infinity` for {@link Deadline.never}. */
  remaining(): number {
    if (this.expiresAt === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    const left = this.expiresAt - this.clock.now();
    return left > 0 ? left : 0;
  }

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
   * An AbortSignal that aborts with a {@link DeadlineExceededError} when the deadline passes.
   * The timer is created on the first call only, never keeps the process alive, and is cleared
   * when it fires or on {@link dispose}.
   */
  signal(): AbortSignal {
    if (this.expiresAt === Number.POSITIVE_INFINITY) return neverAbortedSignal;
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const left = this.remaining();
    if (left === 0) {
      controller.abort(new DeadlineExceededError());
    } else {
      this.#cancelTimer = this.clock.setTimer(
        left,
        () => {
          this.#cancelTimer = undefined;
          controller.abort(new DeadlineExceededError());
        },
        { unref: true },
      );
    }
    return controller.signal;
  }

  /** Clears the timer behind {@link signal}, if any. The signal then never aborts. */
  dispose(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return this.expiresAt === Number.POSITIVE_INFINITY
      ? 'Deadline(never)'
      : `Deadline(${Math.round(this.remaining())}ms left)`;
  }
}
