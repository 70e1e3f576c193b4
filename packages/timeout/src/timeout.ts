import { type Clock, Deadline, systemClock } from '@faultline/clock';
import { reportListenerError } from '@faultline/clock/internal';
import {
  type CancellableContext,
  type Context,
  checkNumber,
  EventChannel,
  type ExecuteOptions,
  type ExecutionContext,
  executeInContext,
  identify,
  type Listener,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  rootContext,
  type Task,
  telemetry,
} from '@faultline/core';
import {
  CHILD_ABORTED,
  CHILD_DISPOSED,
  CHILD_FREE_BIT,
  isThenable,
  LazyChildContext,
  LinkedList,
  type TimerEntry,
  TimerQueue,
} from '@faultline/core/internal';
import { AdaptiveTimeout } from './adaptive-timeout.js';
import { ambientDeadline, hasAmbientDeadlineProvider } from './ambient.js';
import { TimeoutError, type TimeoutSource } from './timeout-errors.js';
import type { TimeoutEvent } from './timeout-events.js';
import {
  resolveTimeoutOptions,
  type TimeoutDuration,
  type TimeoutOptions,
  type TimeoutStrategy,
} from './timeout-options.js';

const OWNER = 'timeout';
const KIND = 'timeout';

/**
 * The `timeout` policy. Build it with {@link timeout}.
 *
 * The effective timeout of a call is `min(duration, ctx.deadline.remaining())` (including an
 * ambient deadline when `@faultline/timeout/node` is loaded), and the function sees
 * `ctx.deadline` = the earliest of both, so nested timeouts and downstream services inherit the
 * tightest budget.
 *
 * Both strategies run the same code (a `TimeoutCall` per call); they differ only in what
 * the expiry does to the returned promise. The calls' timers share one platform timer per policy
 * (a `TimerQueue`): the success path sets and clears no platform timer of its own.
 */
export class TimeoutPolicy extends PolicyBase {
  /** See {@link TimeoutStrategy}. */
  readonly strategy: TimeoutStrategy;
  readonly clock: Clock;
  /** `true` for `'aggressive'`. */
  readonly #aggressive: boolean;
  readonly #fixed: number | undefined;
  readonly #dynamic: ((ctx: Context) => number) | undefined;
  readonly #adaptive: AdaptiveTimeout | undefined;
  readonly #onTimeout = new EventChannel<TimeoutEvent>();
  readonly #identity: PolicyIdentity;
  /** What the calls of this policy share (built once). */
  readonly #shared: Shared;
  /**
   * Whether a call in the root context starts lazily whatever else holds: a fixed duration in
   * (0, Infinity) on the system clock (see `lazy` in executeInContext).
   */
  readonly #lazyRoot: boolean;

  /** Validates `duration` and `options` (see {@link resolveTimeoutOptions}); {@link timeout} is the same. */
  constructor(duration: TimeoutDuration, options?: TimeoutOptions) {
    super();
    const resolved = resolveTimeoutOptions(duration, options);
    if (typeof duration === 'number') this.#fixed = duration;
    else if (duration instanceof AdaptiveTimeout) this.#adaptive = duration;
    else this.#dynamic = duration;
    this.strategy = resolved.strategy;
    this.#aggressive = resolved.strategy === 'aggressive';
    this.clock = resolved.clock;
    this.#identity = identify(OWNER, KIND, resolved.name);
    const shared: Shared = {
      aggressive: this.#aggressive,
      adaptive: this.#adaptive,
      clock: resolved.clock,
      timers: new TimerQueue(resolved.clock),
      lazyStart:
        this.#fixed !== undefined &&
        resolved.clock === systemClock &&
        typeof setImmediate === 'function',
      pending: new LinkedList<TimeoutCall<unknown>>(),
      flushScheduled: false,
      flush: () => {
        shared.flushScheduled = false;
        const pending = shared.pending;
        if (pending.head === undefined) return;
        // One reading for every call started since the last flush: each started before it.
        const now = shared.clock.now();
        for (let call = pending.shift(); call !== undefined; call = pending.shift()) {
          call.startAt(now);
        }
      },
      timeoutError: (ms, source, own) => this.#timeoutError(ms, source, own),
      expired: (ms, elapsed, ctx, error) => this.#expired(ms, elapsed, ctx, error),
    };
    this.#shared = shared;
    this.#lazyRoot =
      shared.lazyStart && (this.#fixed as number) > 0 && this.#fixed !== Number.POSITIVE_INFINITY;
  }

  /** The policy's name in telemetry (option `name`, default `'timeout'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Subscribes to timeouts (not to caller aborts). Returns an unsubscribe function. */
  onTimeout(listener: Listener<TimeoutEvent>): () => void {
    return this.#onTimeout.subscribe(listener);
  }

  /**
   * {@link PolicyBase.execute}; the common call (no signal or options, no telemetry subscriber,
   * and the short path of executeInContext) goes straight to the run instead of through the base
   * class's call of `executeInContext`, which every policy class shares (megamorphic).
   */
  override execute<T>(fn: Task<T>, signalOrOptions?: AbortSignal | ExecuteOptions): Promise<T> {
    if (signalOrOptions === undefined && this.#short() && !telemetry.hasSubscribers) {
      try {
        return this.#runRoot(fn);
      } catch (error) {
        return Promise.reject(error); // a foreign thenable's throwing then(), as the base would
      }
    }
    return super.execute(fn, signalOrOptions);
  }

  /**
   * Whether a call in the root context takes the short path: a fixed duration on the system clock
   * under the root context (never aborted, no deadline) and no ambient deadline. It starts lazily
   * (see `lazy` in executeInContext) and needs none of the deadline arithmetic.
   */
  #short(): boolean {
    return this.#lazyRoot && !hasAmbientDeadlineProvider();
  }

  /** The short path (see {@link #short}). */
  #runRoot<T>(fn: Task<T>): Promise<T> {
    const own = this.#fixed as number;
    return this.#run(
      new TimeoutCall<T>(this.#shared, rootContext, undefined, own, undefined, 'timeout', own),
      fn,
      rootContext,
    );
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    if (ctx === rootContext && this.#short()) return this.#runRoot(fn);
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    let own: number;
    if (this.#fixed !== undefined) own = this.#fixed;
    else if (this.#adaptive !== undefined) own = this.#adaptive.current();
    else {
      try {
        own = this.#dynamic!(ctx);
        checkNumber(OWNER, 'duration(ctx) result', own, { min: 0, allowInfinity: true }, false);
      } catch (error) {
        return Promise.reject(error);
      }
    }

    let enclosing = ctx.deadline;
    // Which deadline fires if ours does not: named in the TimeoutError's message.
    let other: TimeoutSource = 'deadline';
    if (hasAmbientDeadlineProvider()) {
      const ambient = ambientDeadline();
      if (ambient !== undefined) {
        enclosing = enclosing.earliest(ambient);
        if (enclosing === ambient) other = 'ambient';
      }
    }
    // An enclosing deadline on the policy's clock: one reading gives both what is left of it and
    // the call's start (Deadline.remaining() would read the clock, and the start read it again).
    let now = Number.NaN;
    let remaining: number;
    if (enclosing.expiresAt === Number.POSITIVE_INFINITY) {
      remaining = Number.POSITIVE_INFINITY;
    } else if (enclosing.clock === this.clock) {
      now = this.clock.now();
      remaining = enclosing.remainingAt(now);
    } else {
      remaining = enclosing.remaining();
    }
    // Whether our own duration (rather than an enclosing deadline) sets the timer: only then does
    // a timeout tell an adaptive timeout anything about the latency of the call.
    const ownBound = own < remaining;
    const ms = ownBound ? own : remaining;
    if (ms === Number.POSITIVE_INFINITY) {
      // No timeout anywhere (then `enclosing` is `ctx.deadline`): nothing to add.
      return new Promise<T>((resolve) => resolve(fn(ctx)));
    }
    const source: TimeoutSource = ownBound ? 'timeout' : other;
    if (ms <= 0) {
      // The budget is already spent: calling the function would only waste the callee's work.
      const error = this.#timeoutError(0, source, own);
      this.#expired(0, 0, ctx, error);
      return Promise.reject(error);
    }
    // The function's context is the call itself (one object per call): its signal and deadline
    // are created only if read, and policies nested inside watch it with onAbort, which creates no
    // signal. Its deadline's clock times the call: an enclosing deadline passes when *its* clock
    // says so, which need not be ours (a deadline received on systemClock around a policy on a
    // simulator's VirtualClock).
    const shared = this.#shared;
    // A fixed duration on the system clock with no enclosing deadline (no clock read so far)
    // starts lazily: the call reads the clock when something asks for its deadline or signal, or
    // in the check phase of this event-loop turn if it is still running then (with every other
    // call started in the turn: one reading). A call that ends within the turn reads none. Its
    // timer thus starts at or after the call, never before: a timeout never fires early.
    const lazy = shared.lazyStart && remaining === Number.POSITIVE_INFINITY;
    const call = new TimeoutCall<T>(
      shared,
      ctx,
      ownBound ? undefined : enclosing,
      ms,
      lazy ? undefined : Number.isNaN(now) ? this.clock.now() : now,
      source,
      own,
    );
    return this.#run(call, fn, ctx);
  }

  /** Runs `fn` as `call`, made for `ctx` (a caller not aborted), and settles it. */
  #run<T>(call: TimeoutCall<T>, fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let result: T | PromiseLike<T>;
    try {
      result = fn(call);
    } catch (error) {
      call.release();
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      call.release();
      if (this.#adaptive !== undefined) {
        try {
          this.#adaptive.observeResult(result, this.clock.now() - call.start, ctx);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return Promise.resolve(result);
    }
    call.begin();
    const shared = this.#shared;
    if (!shared.aggressive) {
      // Cooperative: the call settles when the function does, so its promise is the function's,
      // followed (Promise.resolve returns a native one as is). The expiry only aborts its signal.
      return Promise.resolve(result.then(call.succeeded.bind(call), call.failed.bind(call)));
    }
    // Aggressive: a promise of its own, which the expiry or the caller's abort may settle first.
    // The executor is a closure written here rather than a shared function: the optimizing
    // compiler inlines a literal executor into `new Promise` and calls a shared one out of line.
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    // The caller (or an enclosing policy) giving up is not a timeout: reject at once with its
    // reason, no onTimeout. Nothing is registered when the context can never abort.
    if (ctx !== rootContext) call.unwatch = ctx.onAbort(() => call.callerAborted());
    // Both handlers stay attached after the call gave up: the abandoned execution's late
    // rejection is handled here, never reported as unhandled.
    // Bound methods rather than arrow functions: two small objects instead of two closures and
    // the context they share (measured faster on Node 20).
    result.then(call.resolveWith.bind(call), call.rejectWith.bind(call));
    return promise;
  }

  /** The rejection (failure path only): names the deadline that fired when it is not ours. */
  #timeoutError(ms: number, source: TimeoutSource, own: number): TimeoutError {
    return source === 'timeout' ? new TimeoutError(ms) : new TimeoutError(ms, { source, own });
  }

  #expired(ms: number, elapsed: number, ctx: ExecutionContext, error: TimeoutError): void {
    // Censoring: a timed-out attempt only says "latency >= timeout" (see adaptiveTimeout).
    if (error.source === 'timeout') this.#adaptive?.observeTimeout();
    if (this.#onTimeout.hasListeners) this.#onTimeout.emit({ timeout: ms, elapsed });
    if (telemetry.hasSubscribers) {
      // Which deadline fired (the error's source: timeout / deadline / ambient; bounded).
      const attributes = { source: error.source };
      publishEvent(this.#identity, ctx, 'timeout', this.clock.now(), error, attributes);
    }
  }

  describe(): PolicyDescription {
    return {
      name: KIND,
      options: {
        duration:
          this.#fixed ?? (this.#adaptive !== undefined ? this.#adaptive.describe() : 'custom'),
        strategy: this.strategy,
      },
    };
  }
}

/** What the calls of one {@link TimeoutPolicy} share, built once with the policy. */
interface Shared {
  readonly aggressive: boolean;
  readonly adaptive: AdaptiveTimeout | undefined;
  readonly clock: Clock;
  readonly timers: TimerQueue<TimeoutCall<unknown>>;
  /** Whether calls may start lazily (a fixed duration on `systemClock`, and `setImmediate`). */
  readonly lazyStart: boolean;
  /** Calls started lazily this turn that have not read the clock yet. */
  readonly pending: LinkedList<TimeoutCall<unknown>>;
  flushScheduled: boolean;
  /** Starts every pending call at one clock reading (run by `setImmediate`). */
  readonly flush: () => void;
  timeoutError(ms: number, source: TimeoutSource, own: number): TimeoutError;
  expired(ms: number, elapsed: number, ctx: ExecutionContext, error: TimeoutError): void;
}

// What happened to a call, packed in one number (the success path allocates one object per call),
// after LazyChildContext's own flags (CHILD_ABORTED: abort() aborted the function's context while
// the caller had not; CHILD_DISPOSED: the call is over).
/** The function settled, or (aggressive) the call's promise did. */
const SETTLED = CHILD_FREE_BIT;
/** Cooperative only: the timer fired, the function has not settled yet. */
const TIMED_OUT = CHILD_FREE_BIT << 1;
/** The call's deadline is the policy's own (created on first read, disposed with the call). */
const OWN_DEADLINE = CHILD_FREE_BIT << 2;
/** A timer of its own rather than an entry in the policy's queue. */
const OWN_TIMER = CHILD_FREE_BIT << 3;
// The call's source (see TimeoutSource): none of these bits is 'timeout'.
const FROM_DEADLINE = CHILD_FREE_BIT << 4;
const FROM_AMBIENT = CHILD_FREE_BIT << 5;
/** Started lazily and not started yet: no clock read, no timer (see `lazy` in executeInContext). */
const UNSTARTED = CHILD_FREE_BIT << 6;

/**
 * What a call needs only off the success path (an abort, a signal read, an `onAbort` subscriber),
 * created on first use: the success path builds one smaller object.
 */
class CallExtras {
  /**
   * The reason {@link TimeoutCall.abort} gave (when {@link CHILD_ABORTED}); cooperative, when
   * {@link TIMED_OUT}: the TimeoutError the call rejects with if the function does.
   */
  reason: unknown = undefined;
  /** The real cancellable context, created on demand (see {@link LazyChildContext}). */
  inner: CancellableContext | undefined = undefined;
  /** `onAbort` subscribers not yet called, while the caller can never abort. */
  listeners: (() => void) | Array<() => void> | undefined = undefined;

  unsubscribe(listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === listener) {
      this.listeners = undefined;
    } else if (listeners !== undefined && typeof listeners !== 'function') {
      const index = listeners.indexOf(listener);
      if (index >= 0) listeners.splice(index, 1);
    }
  }
}

/**
 * One call in flight, and the context its function runs in (one object: the success path
 * allocates as little as it can). An entry of the policy's `TimerQueue` (or the owner of a
 * timer of its own), settled by whichever comes first of the function, the timer and (aggressive)
 * the caller's abort.
 *
 * As a context it is a lighter `ctx.child(deadline)` (a {@link LazyChildContext}): the
 * {@link CancellableContext} behind its signal and `onAbort` is created only when somebody asks for
 * one, and its own deadline only when somebody reads `deadline`; on the success path nobody does.
 *
 * Its private helpers are static (`TimeoutCall.#fire(call)`): an instance private method costs
 * every instance a hidden brand field, and the rarely used state lives in {@link CallExtras}.
 */
class TimeoutCall<T> extends LazyChildContext implements TimerEntry {
  prev: this | undefined = undefined;
  next: this | undefined = undefined;
  due = 0;
  resolve: (value: T) => void = settleNothing;
  reject: (reason: unknown) => void = settleNothing;
  /** The timer of its own, when the queue could not take it. */
  cancel: (() => void) | undefined = undefined;
  unwatch: (() => void) | undefined = undefined;
  /** What only the other paths need (see {@link CallExtras}), created on first use. */
  #extras: CallExtras | undefined = undefined;
  /** The enclosing deadline, or the policy's own once read. */
  #deadline: Deadline | undefined;
  readonly #shared: Shared;
  readonly #ms: number;
  /**
   * The clock time the call started at; `undefined` while {@link UNSTARTED}. Never `NaN` for
   * "not yet": a field that only ever holds numbers is a double field, boxed in an object of its
   * own with every call, where one that may hold `undefined` costs nothing until a start is read.
   */
  #start: number | undefined;
  readonly #own: number;

  /** `enclosing`: the deadline when it bounds the call; `undefined` when the policy's own does. */
  constructor(
    shared: Shared,
    ctx: ExecutionContext,
    enclosing: Deadline | undefined,
    ms: number,
    start: number | undefined,
    source: TimeoutSource,
    own: number,
  ) {
    super();
    this.parent = ctx;
    this.flags =
      (enclosing === undefined
        ? OWN_DEADLINE
        : source === 'ambient'
          ? FROM_AMBIENT
          : source === 'deadline'
            ? FROM_DEADLINE
            : 0) | (start === undefined ? UNSTARTED : 0);
    this.#shared = shared;
    this.#deadline = enclosing;
    this.#ms = ms;
    this.#start = start;
    this.#own = own;
  }

  // The function's context: the caller's, with its own abort and deadline.

  get deadline(): Deadline {
    let deadline = this.#deadline;
    if (deadline === undefined) {
      if ((this.flags & UNSTARTED) !== 0) TimeoutCall.#startNow(this);
      deadline = Deadline.at((this.#start as number) + this.#own, this.#shared.clock);
      this.#deadline = deadline;
    }
    return deadline;
  }

  get attempt(): number {
    return this.parent.attempt;
  }

  /**
   * Under a caller that can never abort (the shared root context), only this call's own abort
   * can notify: its subscribers are kept here, with no CancellableContext and no watch on the
   * caller (a timeout nested in another, which subscribes on every call, costs an array slot).
   * Otherwise as `ctx.child().onAbort`.
   */
  override onAbort(listener: () => void): (() => void) | undefined {
    if (this.parent !== rootContext) return super.onAbort(listener);
    if ((this.flags & CHILD_ABORTED) !== 0) {
      listener();
      return unsubscribeNothing;
    }
    const extras = TimeoutCall.#more(this);
    const listeners = extras.listeners;
    if (listeners === undefined) extras.listeners = listener;
    else if (typeof listeners === 'function') extras.listeners = [listeners, listener];
    else listeners.push(listener);
    return () => extras.unsubscribe(listener);
  }

  static #more<U>(call: TimeoutCall<U>): CallExtras {
    let extras = call.#extras;
    if (extras === undefined) {
      extras = new CallExtras();
      call.#extras = extras;
    }
    return extras;
  }

  protected get ownReason(): unknown {
    return this.#extras?.reason;
  }

  protected get inner(): CancellableContext | undefined {
    return this.#extras?.inner;
  }

  protected set inner(inner: CancellableContext) {
    TimeoutCall.#more(this).inner = inner;
  }

  /**
   * Aborts the function's context (not the caller's) with `reason`, as
   * {@link CancellableContext.abort} does: when the caller has already aborted, its reason stands.
   */
  abort(reason: unknown): void {
    if ((this.flags & CHILD_ABORTED) !== 0) return;
    if (!this.parent.aborted) {
      this.flags |= CHILD_ABORTED;
      TimeoutCall.#more(this).reason = reason;
    }
    const extras = this.#extras;
    if (extras === undefined) return;
    // The signal first, then the subscribers, as CancellableContext does.
    extras.inner?.abort(reason);
    const listeners = extras.listeners;
    if (listeners !== undefined) {
      extras.listeners = undefined;
      if (typeof listeners === 'function') callListener(listeners);
      else for (const listener of listeners) callListener(listener);
    }
  }

  /** The call is over: unlinks what its context added to the caller's. */
  override dispose(): void {
    this.flags |= CHILD_DISPOSED;
    const extras = this.#extras;
    if (extras !== undefined) {
      extras.inner?.dispose();
      extras.listeners = undefined;
    }
  }

  // The call.

  /** The clock time the call started at (`NaN` while it waits for a lazy start). */
  get start(): number {
    return this.#start ?? Number.NaN;
  }

  /**
   * The function returned a promise: the call's timer starts (when it started lazily and nothing
   * read the clock yet, in this turn's check phase, with the other calls of the turn).
   */
  begin(): void {
    const flags = this.flags;
    const shared = this.#shared;
    if ((flags & UNSTARTED) !== 0) {
      shared.pending.push(this as TimeoutCall<unknown>);
      if (!shared.flushScheduled) {
        shared.flushScheduled = true;
        setImmediate(shared.flush);
      }
    } else if ((flags & OWN_DEADLINE) !== 0 || this.#deadline!.clock === shared.clock) {
      this.startAt(this.#start as number);
    } else {
      // Another clock's deadline: a timer of its own on that clock.
      const clock = this.#deadline!.clock;
      this.ownTimer(clock.now(), clock);
    }
  }

  /** A lazily started call reads the clock now (its deadline or signal is asked for). */
  static #startNow<U>(call: TimeoutCall<U>): void {
    const shared = call.#shared;
    const now = shared.clock.now();
    // In the pending list once executeInContext has put it there; its timer starts now too.
    if (shared.pending.remove(call as TimeoutCall<unknown>)) call.startAt(now);
    else {
      call.#start = now;
      call.flags &= ~UNSTARTED;
    }
  }

  /**
   * The call's timer starts at `start` on the policy's clock: an entry of the policy's queue, or
   * a timer of its own when the queue cannot take it (due before its last entry).
   */
  startAt(start: number): void {
    this.#start = start;
    this.flags &= ~UNSTARTED;
    if (!this.#shared.timers.tryAdd(this as TimeoutCall<unknown>, start + this.#ms, start)) {
      this.ownTimer(start, this.#shared.clock);
    }
  }

  /** The queue would not take the call: a timer of its own on `clock`, started at `start`. */
  ownTimer(start: number, clock: Clock): void {
    this.flags |= OWN_TIMER;
    this.cancel = clock.setTimer(this.#ms, () => TimeoutCall.#fire(this, clock.now() - start));
  }

  /** The queue's timer fired (`now` on the policy's clock). */
  expire(now: number): void {
    TimeoutCall.#fire(this, now - (this.#start as number));
  }

  static #source<U>(call: TimeoutCall<U>): TimeoutSource {
    const flags = call.flags;
    return (flags & FROM_AMBIENT) !== 0
      ? 'ambient'
      : (flags & FROM_DEADLINE) !== 0
        ? 'deadline'
        : 'timeout';
  }

  /** The timer fired, `elapsed` after it started. */
  static #fire<U>(call: TimeoutCall<U>, elapsed: number): void {
    if ((call.flags & (SETTLED | TIMED_OUT)) !== 0) return;
    call.cancel = undefined;
    const ctx = call.parent;
    const aggressive = call.#shared.aggressive;
    if (ctx.aborted) {
      // The caller's abort got here first (its listener has not run yet): not a timeout. An
      // aggressive timeout rejects with its reason; a cooperative one waits for the function.
      if (aggressive) {
        call.flags |= SETTLED;
        TimeoutCall.#stopWatching(call);
        call.release();
        call.reject(ctx.abortReason);
      }
      return;
    }
    const error = call.#shared.timeoutError(call.#ms, TimeoutCall.#source(call), call.#own);
    if (aggressive) {
      call.flags |= SETTLED;
      TimeoutCall.#stopWatching(call);
    } else {
      // The caller has not aborted (checked above): abort() keeps the error as ownReason.
      call.flags |= TIMED_OUT;
    }
    call.abort(error);
    call.#shared.expired(call.#ms, elapsed, ctx, error);
    // Aggressive: the function is abandoned; its late outcome is handled, never reported.
    if (aggressive) call.reject(error);
  }

  /** The caller (or an enclosing policy) aborted: aggressive timeouts only. */
  callerAborted(): void {
    if ((this.flags & SETTLED) !== 0) return;
    this.flags |= SETTLED;
    TimeoutCall.#stopTimer(this);
    TimeoutCall.#stopWatching(this);
    const reason = this.parent.abortReason;
    this.abort(reason);
    this.release();
    this.reject(reason);
  }

  /**
   * The function resolved: the value to resolve the call with. Throws an adaptive timeout's
   * classifier's error (the call then rejects with it and nothing is learned).
   */
  succeeded(value: T): T {
    const timedOut = TimeoutCall.#finish(this);
    // Cooperative: a value that arrives after the timeout is still the right answer, but says
    // nothing new about latency (the timeout was already observed).
    const adaptive = this.#shared.adaptive;
    if (adaptive !== undefined && timedOut === undefined) {
      adaptive.observeResult(
        value,
        this.#shared.clock.now() - (this.#start as number),
        this.parent,
      );
    }
    return value;
  }

  /** The function rejected: throws what the call rejects with. */
  failed(error: unknown): never {
    const timedOut = TimeoutCall.#finish(this);
    const ctx = this.parent;
    throw timedOut ?? (ctx.aborted ? ctx.abortReason : error);
  }

  /** Aggressive: settles the call with the function's value, unless it has already settled. */
  resolveWith(value: T): void {
    if ((this.flags & SETTLED) !== 0) return;
    let settled: T;
    try {
      settled = this.succeeded(value);
    } catch (error) {
      this.reject(error);
      return;
    }
    this.resolve(settled);
  }

  /** Aggressive: settles the call with the function's error, unless it has already settled. */
  rejectWith(error: unknown): void {
    if ((this.flags & SETTLED) !== 0) return;
    try {
      this.failed(error);
    } catch (reason) {
      this.reject(reason);
    }
  }

  /**
   * The call is over: unlink the context from its parent and, when the deadline is the policy's
   * own, clear the timer behind its `signal()` if the function asked for one (nobody else can).
   */
  release(): void {
    this.dispose();
    if ((this.flags & OWN_DEADLINE) !== 0) this.#deadline?.dispose();
  }

  /** The function settled: stops the timer and the watch, releases the context. */
  static #finish<U>(call: TimeoutCall<U>): TimeoutError | undefined {
    call.flags |= SETTLED;
    TimeoutCall.#stopTimer(call);
    TimeoutCall.#stopWatching(call);
    call.release();
    return (call.flags & TIMED_OUT) !== 0 ? (call.ownReason as TimeoutError) : undefined;
  }

  static #stopTimer<U>(call: TimeoutCall<U>): void {
    const cancel = call.cancel;
    if (cancel === undefined) {
      const flags = call.flags;
      if ((flags & UNSTARTED) !== 0) call.#shared.pending.remove(call as TimeoutCall<unknown>);
      else if ((flags & OWN_TIMER) === 0) call.#shared.timers.remove(call as TimeoutCall<unknown>);
    } else {
      call.cancel = undefined;
      cancel();
    }
  }

  static #stopWatching<U>(call: TimeoutCall<U>): void {
    const unwatch = call.unwatch;
    if (unwatch !== undefined) {
      call.unwatch = undefined;
      unwatch();
    }
  }
}

function settleNothing(): void {}

function unsubscribeNothing(): void {}

/** Calls an abort subscriber, reporting (not propagating) a throw so the others still run. */
function callListener(listener: () => void): void {
  try {
    listener();
  } catch (error) {
    reportListenerError(error);
  }
}

/**
 * A timeout policy. `duration` is milliseconds, a function `(ctx) => ms` evaluated per call, or an
 * {@link AdaptiveTimeout} learned from observed latencies (`adaptiveTimeout({...})`).
 *
 * ```ts
 * const perAttempt = timeout(2_000);                      // aggressive by default
 * const res = await perAttempt.execute(({ signal }) => fetch(url, { signal }));
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function timeout(duration: TimeoutDuration, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(duration, options);
}
