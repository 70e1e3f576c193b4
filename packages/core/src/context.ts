import { Deadline, neverAbortedSignal } from '@faultline/clock';
import { reportListenerError } from '@faultline/clock/internal';
import { LinkedList, ListNode } from './internal/linked-list.js';

/** What a wrapped function learns about the execution it runs in. */
export interface Context {
  /** Aborts when the caller aborts or an enclosing timeout fires. Created lazily on first read. */
  readonly signal: AbortSignal;
  /** 1-based attempt number, set by retry and hedge; 1 otherwise. */
  readonly attempt: number;
  /** The earliest deadline of the enclosing timeouts; `Deadline.never` if there is none. */
  readonly deadline: Deadline;
}

/**
 * The context policies pass to each other. Besides the public {@link Context} it can say whether
 * it is aborted *without* creating an AbortSignal, which keeps the success path allocation-free.
 * Exported for policy authors; applications only ever see {@link Context}.
 */
export abstract class ExecutionContext implements Context {
  abstract readonly signal: AbortSignal;
  abstract readonly attempt: number;
  abstract readonly deadline: Deadline;
  /** Whether this context is aborted (by the caller or an enclosing policy). Never allocates. */
  abstract readonly aborted: boolean;
  /** The abort reason when {@link aborted}; `undefined` otherwise. */
  abstract readonly abortReason: unknown;

  /**
   * The name of the innermost named pipeline (`named(name, policy)`) this call runs in, for
   * telemetry. Read only when telemetry has subscribers.
   */
  get pipeline(): string | undefined {
    return undefined;
  }

  /** The per-call operation label given to `execute(fn, { operation })`, for telemetry. */
  get operation(): string | undefined {
    return undefined;
  }

  /**
   * A context for attempt `attempt` with the same signal and (unless given) the same deadline.
   * This context's deadline is read when the attempt's is, not here: a lazily started timeout
   * (packages/timeout) makes its deadline, and starts, on first read, and a retry inside it
   * builds an attempt context that the function may never ask for a deadline.
   */
  withAttempt(attempt: number, deadline?: Deadline): ExecutionContext {
    return new AttemptContext(this, attempt, deadline);
  }

  /** A child that can be aborted on its own (by a timeout or a hedge) and follows this one. */
  child(deadline: Deadline = this.deadline): CancellableContext {
    return new CancellableContext(this, deadline);
  }

  /**
   * Calls `listener` once when this context aborts (the caller's signal, or an enclosing policy),
   * at once (synchronously) if it already has. Returns the unsubscribe function, or `undefined`
   * when this context can never abort (then nothing was registered).
   *
   * Unlike listening to {@link signal}, this never creates an AbortSignal: on Node 20 reading a
   * lazily created signal costs an AbortController (~1.8 µs), and a listener on it more. It costs
   * nothing for the shared root context, a slot in the caller signal's one shared listener for a
   * root context, and an array slot for a {@link CancellableContext}. Policies use it to watch a
   * context during a wait (a backoff sleep, a queue, a timer race). A listener that throws is
   * reported like an EventTarget listener's error and does not stop the others.
   *
   * This base implementation listens to {@link signal} (for a {@link RootContext}, the caller's
   * own); the other contexts of this module override it without reading their signal.
   */
  onAbort(listener: () => void): (() => void) | undefined {
    if (this.aborted) {
      listener();
      return unsubscribeNothing;
    }
    return subscribe(this.signal, listener);
  }
}

function unsubscribeNothing(): void {}

/** The outermost context: the caller's signal (or none), attempt 1, no deadline. */
export class RootContext extends ExecutionContext {
  readonly signal: AbortSignal;
  readonly deadline: Deadline;
  readonly #operation: string | undefined;
  get attempt(): number {
    return 1;
  }
  override get operation(): string | undefined {
    return this.#operation;
  }

  constructor(
    signal: AbortSignal = neverAbortedSignal,
    deadline: Deadline = Deadline.never,
    operation?: string,
  ) {
    super();
    this.signal = signal;
    this.deadline = deadline;
    this.#operation = operation;
  }

  get aborted(): boolean {
    const signal = this.signal;
    // Without reading the platform getter in the common case of no signal.
    return signal !== neverAbortedSignal && signal.aborted;
  }

  get abortReason(): unknown {
    return this.signal.aborted ? this.signal.reason : undefined;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    const signal = this.signal;
    // First, and without reading `aborted` (a platform getter): the common case of no signal.
    if (signal === neverAbortedSignal) return undefined;
    if (signal.aborted) {
      listener();
      return unsubscribeNothing;
    }
    return subscribe(signal, listener);
  }
}

/** The context used when the caller passes no signal: shared, immutable, allocation-free. */
export const rootContext: ExecutionContext = new RootContext();

/** Creates the context for `policy.execute(fn, signal)` or `execute(fn, { signal, operation })`. */
export function contextFor(signal: AbortSignal | undefined, operation?: string): ExecutionContext {
  if (operation !== undefined) return new RootContext(signal, Deadline.never, operation);
  return signal === undefined || signal === neverAbortedSignal
    ? rootContext
    : new RootContext(signal);
}

class AttemptContext extends ExecutionContext {
  readonly #parent: ExecutionContext;
  readonly attempt: number;
  /** The deadline given to withAttempt; `undefined`: the parent's, read when this one is. */
  readonly #deadline: Deadline | undefined;

  constructor(parent: ExecutionContext, attempt: number, deadline: Deadline | undefined) {
    super();
    this.#parent = parent;
    this.attempt = attempt;
    this.#deadline = deadline;
  }

  get deadline(): Deadline {
    return this.#deadline ?? this.#parent.deadline;
  }

  get signal(): AbortSignal {
    return this.#parent.signal;
  }

  get aborted(): boolean {
    return this.#parent.aborted;
  }

  get abortReason(): unknown {
    return this.#parent.abortReason;
  }

  override get pipeline(): string | undefined {
    return this.#parent.pipeline;
  }

  override get operation(): string | undefined {
    return this.#parent.operation;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    return this.#parent.onAbort(listener);
  }
}

/**
 * The context inside a named pipeline: everything from the parent, and the pipeline's name for
 * telemetry. Built only while telemetry has subscribers.
 */
export class LabelledContext extends ExecutionContext {
  readonly #parent: ExecutionContext;
  readonly #pipeline: string;

  constructor(parent: ExecutionContext, pipeline: string) {
    super();
    this.#parent = parent;
    this.#pipeline = pipeline;
  }

  override get pipeline(): string {
    return this.#pipeline;
  }

  get signal(): AbortSignal {
    return this.#parent.signal;
  }

  get attempt(): number {
    return this.#parent.attempt;
  }

  get deadline(): Deadline {
    return this.#parent.deadline;
  }

  get aborted(): boolean {
    return this.#parent.aborted;
  }

  get abortReason(): unknown {
    return this.#parent.abortReason;
  }

  override get operation(): string | undefined {
    return this.#parent.operation;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    return this.#parent.onAbort(listener);
  }
}

/**
 * The context a foreign policy (one that only speaks `execute(fn, signal)`) hands to the function
 * it runs, made whole again for the faultline policies inside it. Foreign policies pass whatever
 * they like (cockatiel passes `{ signal }`), so anything missing is taken from `outer`, the
 * context the foreign policy itself ran in.
 */
export function adoptContext(given: unknown, outer: ExecutionContext): ExecutionContext {
  if (given instanceof ExecutionContext) return given;
  const partial = (typeof given === 'object' && given !== null ? given : {}) as Partial<Context>;
  const signal = partial.signal;
  const attempt = partial.attempt;
  const deadline = partial.deadline;
  return new AdoptedContext(
    outer,
    signal instanceof AbortSignal ? signal : undefined,
    typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1
      ? attempt
      : outer.attempt,
    deadline instanceof Deadline ? deadline : outer.deadline,
  );
}

class AdoptedContext extends ExecutionContext {
  readonly #outer: ExecutionContext;
  readonly #signal: AbortSignal | undefined;
  readonly attempt: number;
  readonly deadline: Deadline;

  constructor(
    outer: ExecutionContext,
    signal: AbortSignal | undefined,
    attempt: number,
    deadline: Deadline,
  ) {
    super();
    this.#outer = outer;
    this.#signal = signal;
    this.attempt = attempt;
    this.deadline = deadline;
  }

  get signal(): AbortSignal {
    return this.#signal ?? this.#outer.signal;
  }

  override get pipeline(): string | undefined {
    return this.#outer.pipeline;
  }

  override get operation(): string | undefined {
    return this.#outer.operation;
  }

  // The foreign policy's signal (if it gave one) normally follows the outer one; checking both
  // also covers a foreign policy that made a signal of its own without linking it.
  get aborted(): boolean {
    return this.#signal?.aborted === true || this.#outer.aborted;
  }

  get abortReason(): unknown {
    if (this.#signal?.aborted === true) return this.#signal.reason;
    return this.#outer.abortReason;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    if (this.aborted) {
      listener();
      return unsubscribeNothing;
    }
    const own = this.#signal;
    if (own === undefined) return this.#outer.onAbort(listener);
    // Either one aborting aborts this context: listen to both, call back once.
    let done = false;
    let fromOwn: (() => void) | undefined;
    let fromOuter: (() => void) | undefined;
    const unsubscribe = (): void => {
      done = true;
      if (fromOwn !== undefined) fromOwn();
      if (fromOuter !== undefined) fromOuter();
    };
    const once = (): void => {
      if (done) return;
      unsubscribe();
      listener();
    };
    fromOwn = subscribe(own, once);
    fromOuter = this.#outer.onAbort(once);
    return fromOwn === undefined && fromOuter === undefined ? undefined : unsubscribe;
  }
}

/**
 * A context with its own abort: its signal aborts when the parent's does or when {@link abort} is
 * called. The AbortController and the link to the parent are created only if somebody reads
 * `signal`; {@link onAbort} subscribers are kept in an array, and the parent is watched for them
 * only while there are some. {@link dispose} removes both links (call it in `finally`).
 */
export class CancellableContext extends ExecutionContext {
  readonly #parent: ExecutionContext;
  readonly deadline: Deadline;
  #controller: AbortController | undefined;
  #ownReason: unknown;
  #ownAborted = false;
  #link: Link | undefined;
  #disposed = false;
  /** {@link onAbort} subscribers not yet called. */
  #listeners: Array<() => void> | undefined;
  /** Whether this context subscribed to its parent's abort for them (at most once). */
  #watching = false;
  #unwatchParent: (() => void) | undefined;

  constructor(parent: ExecutionContext, deadline: Deadline) {
    super();
    this.#parent = parent;
    this.deadline = deadline;
  }

  get attempt(): number {
    return this.#parent.attempt;
  }

  override get pipeline(): string | undefined {
    return this.#parent.pipeline;
  }

  override get operation(): string | undefined {
    return this.#parent.operation;
  }

  /** Whether {@link abort} was called (as opposed to the parent aborting). */
  get abortedHere(): boolean {
    return this.#ownAborted;
  }

  /** Whether anybody read {@link signal} (so the wrapped function may be listening). */
  get signalRead(): boolean {
    return this.#controller !== undefined;
  }

  get aborted(): boolean {
    return this.#ownAborted || this.#parent.aborted;
  }

  get abortReason(): unknown {
    if (this.#ownAborted) return this.#ownReason;
    return this.#parent.abortReason;
  }

  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    if (this.#ownAborted) {
      controller.abort(this.#ownReason);
    } else if (this.#parent.aborted) {
      controller.abort(this.#parent.abortReason);
    } else if (!this.#disposed) {
      // After dispose() the execution is over: a late reader (say, work an aggressive timeout
      // abandoned) gets a signal of its own rather than a listener that would outlive the call.
      const parentSignal = this.#parent.signal;
      if (parentSignal !== neverAbortedSignal) {
        // Linked by hand (removed in dispose): AbortSignal.any is slow and leaks with long-lived
        // parents.
        this.#link = link(parentSignal, controller);
      }
    }
    return controller.signal;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    if (this.aborted) {
      listener();
      return unsubscribeNothing;
    }
    let listeners = this.#listeners;
    if (listeners === undefined) {
      listeners = [];
      this.#listeners = listeners;
    }
    listeners.push(listener);
    if (!this.#watching && !this.#disposed) {
      // Watched once per context, through the parent's own onAbort: no signal anywhere up the
      // chain unless somebody read one. After dispose() only abort() can notify.
      this.#watching = true;
      this.#unwatchParent = this.#parent.onAbort(() => {
        this.#unwatchParent = undefined;
        this.#notify();
      });
    }
    return () => {
      const current = this.#listeners;
      if (current === undefined) return;
      const index = current.indexOf(listener);
      if (index >= 0) current.splice(index, 1);
    };
  }

  /**
   * Aborts this context (not its parent) with `reason`. Idempotent. When the parent has already
   * aborted, its reason stands, and {@link onAbort} subscribers not yet told are told now.
   */
  abort(reason: unknown): void {
    if (this.#ownAborted) return;
    if (this.#parent.aborted) {
      // Already aborted through the parent, but our watcher on it may not have run yet: it comes
      // after every listener registered on the parent before it (a timeout's caller-abort
      // handler calls abort() then dispose() from there). Notify now, or never.
      this.#followParent();
      this.#notify();
      return;
    }
    this.#ownAborted = true;
    this.#ownReason = reason;
    const controller = this.#controller;
    if (controller !== undefined) {
      this.#unlink();
      controller.abort(reason);
    }
    this.#notify();
  }

  /**
   * Removes what this context added to its parent (the signal's link, the abort subscription) and
   * drops its subscribers. A signal first read after `dispose()` is not linked to the parent (it
   * still aborts on {@link abort}).
   */
  dispose(): void {
    this.#disposed = true;
    // Nobody read the signal and nobody subscribed: nothing was linked, nothing is to undo (a
    // timeout's success path around a function that ignores its signal).
    if (this.#controller === undefined && this.#listeners === undefined) return;
    // Same race for the signal: its link may still be waiting in the parent's dispatch, and
    // unlinking it now would leave a signal read after the parent's listener (say, by a fetch
    // started after an await) never aborted.
    if (this.#parent.aborted) this.#followParent();
    this.#unlink();
    // Disposed while the parent's abort is still being dispatched (our watcher not yet called):
    // the subscribers are told rather than dropped, so no wait inside outlives the call.
    if (this.#listeners !== undefined && this.#parent.aborted) this.#notify();
    this.#stopWatching();
    this.#listeners = undefined;
  }

  /** Aborts a signal already handed out with the parent's reason, if the parent's link has not. */
  #followParent(): void {
    const controller = this.#controller;
    if (controller === undefined || controller.signal.aborted) return;
    this.#unlink();
    controller.abort(this.#parent.abortReason);
  }

  #unlink(): void {
    const current = this.#link;
    if (current === undefined) return;
    this.#link = undefined;
    current.links.remove(current);
  }

  #stopWatching(): void {
    const unwatch = this.#unwatchParent;
    if (unwatch === undefined) return;
    this.#unwatchParent = undefined;
    unwatch();
  }

  #notify(): void {
    this.#stopWatching();
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    this.#listeners = undefined;
    callAll(listeners);
  }
}

/** Calls every listener, reporting (not propagating) a throw so the others still run. */
function callAll(listeners: ReadonlyArray<() => void>): void {
  for (const listener of listeners) {
    try {
      listener();
    } catch (error) {
      reportListenerError(error);
    }
  }
}

/** One subscriber of a signal's shared abort listener. */
class Link extends ListNode {
  constructor(
    readonly links: SignalLinks,
    /** A child context's controller to abort, or a listener to call. */
    readonly target: AbortController | (() => void),
  ) {
    super();
  }
}

/**
 * Everything that follows one parent signal (child controllers and {@link ExecutionContext.onAbort}
 * listeners), sharing a single abort listener (this object, via `handleEvent`). Concurrent calls
 * under one long-lived caller signal would otherwise add a listener each, and past 10 Node prints
 * a MaxListenersExceeded "possible memory leak" warning. The listener is removed as soon as the
 * last subscriber leaves.
 */
class SignalLinks {
  readonly #links = new LinkedList<Link>();

  constructor(readonly signal: AbortSignal) {}

  get empty(): boolean {
    return this.#links.size === 0;
  }

  handleEvent(): void {
    const reason = this.signal.reason;
    for (let current = this.#links.head; current !== undefined; current = this.#links.head) {
      this.remove(current);
      const target = current.target;
      if (typeof target === 'function') {
        try {
          target();
        } catch (error) {
          reportListenerError(error);
        }
      } else {
        target.abort(reason);
      }
    }
  }

  add(current: Link): void {
    this.#links.push(current);
  }

  /** Unlinks `current` (a no-op if it already left); the last one out removes the listener. */
  remove(current: Link): void {
    if (!this.#links.remove(current)) return;
    if (this.#links.size === 0) this.signal.removeEventListener('abort', this);
  }
}

/**
 * The links of each signal that ever had a subscriber. An entry outlives its last subscriber (only
 * the abort listener is removed then), so a long-lived caller signal that sees one call at a time
 * does not rebuild it per call; the map holds it weakly, so it goes with its signal.
 */
const linksBySignal = new WeakMap<AbortSignal, SignalLinks>();

function link(signal: AbortSignal, target: AbortController | (() => void)): Link {
  let links = linksBySignal.get(signal);
  if (links === undefined) {
    links = new SignalLinks(signal);
    linksBySignal.set(signal, links);
  }
  if (links.empty) signal.addEventListener('abort', links);
  const current = new Link(links, target);
  links.add(current);
  return current;
}

/**
 * Subscribes `listener` to a (not yet aborted) signal's shared abort listener; `undefined` for the
 * never-aborting signal.
 */
function subscribe(signal: AbortSignal, listener: () => void): (() => void) | undefined {
  if (signal === neverAbortedSignal) return undefined;
  const current = link(signal, listener);
  return () => current.links.remove(current);
}
