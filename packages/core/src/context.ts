import { Deadline, neverAbortedSignal } from '@faultline/clock';

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

  /** A context for attempt `attempt` with the same signal and (unless given) the same deadline. */
  withAttempt(attempt: number, deadline: Deadline = this.deadline): ExecutionContext {
    return new AttemptContext(this, attempt, deadline);
  }

  /** A child that can be aborted on its own (by a timeout or a hedge) and follows this one. */
  child(deadline: Deadline = this.deadline): CancellableContext {
    return new CancellableContext(this, deadline);
  }
}

/** The outermost context: the caller's signal (or none), attempt 1, no deadline. */
export class RootContext extends ExecutionContext {
  readonly signal: AbortSignal;
  readonly deadline: Deadline;
  get attempt(): number {
    return 1;
  }

  constructor(signal: AbortSignal = neverAbortedSignal, deadline: Deadline = Deadline.never) {
    super();
    this.signal = signal;
    this.deadline = deadline;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get abortReason(): unknown {
    return this.signal.aborted ? this.signal.reason : undefined;
  }
}

/** The context used when the caller passes no signal: shared, immutable, allocation-free. */
export const rootContext: ExecutionContext = new RootContext();

/** Creates the context for `policy.execute(fn, signal)`. */
export function contextFor(signal: AbortSignal | undefined): ExecutionContext {
  return signal === undefined || signal === neverAbortedSignal
    ? rootContext
    : new RootContext(signal);
}

class AttemptContext extends ExecutionContext {
  readonly #parent: ExecutionContext;
  readonly attempt: number;
  readonly deadline: Deadline;

  constructor(parent: ExecutionContext, attempt: number, deadline: Deadline) {
    super();
    this.#parent = parent;
    this.attempt = attempt;
    this.deadline = deadline;
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
}

/**
 * A context with its own abort: its signal aborts when the parent's does or when {@link abort} is
 * called. The AbortController and the link to the parent are created only if somebody reads
 * `signal`; {@link dispose} removes the link (call it in `finally`).
 */
export class CancellableContext extends ExecutionContext {
  readonly #parent: ExecutionContext;
  readonly deadline: Deadline;
  #controller: AbortController | undefined;
  #ownReason: unknown;
  #ownAborted = false;
  #parentSignal: AbortSignal | undefined;
  #onParentAbort: (() => void) | undefined;
  #disposed = false;

  constructor(parent: ExecutionContext, deadline: Deadline) {
    super();
    this.#parent = parent;
    this.deadline = deadline;
  }

  get attempt(): number {
    return this.#parent.attempt;
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
        // Linked by hand (one listener, removed in dispose): AbortSignal.any is slow and leaks
        // with long-lived parents.
        const onParentAbort = (): void => {
          this.#unlink();
          controller.abort(parentSignal.reason);
        };
        this.#parentSignal = parentSignal;
        this.#onParentAbort = onParentAbort;
        parentSignal.addEventListener('abort', onParentAbort);
      }
    }
    return controller.signal;
  }

  /** Aborts this context (not its parent) with `reason`. Idempotent. */
  abort(reason: unknown): void {
    if (this.#ownAborted || this.#parent.aborted) return;
    this.#ownAborted = true;
    this.#ownReason = reason;
    const controller = this.#controller;
    if (controller !== undefined) {
      this.#unlink();
      controller.abort(reason);
    }
  }

  /**
   * Removes the listener this context added to its parent's signal, if any. A signal first read
   * after `dispose()` is not linked to the parent (it still aborts on {@link abort}).
   */
  dispose(): void {
    this.#disposed = true;
    this.#unlink();
  }

  #unlink(): void {
    const parentSignal = this.#parentSignal;
    if (parentSignal === undefined) return;
    parentSignal.removeEventListener('abort', this.#onParentAbort!);
    this.#parentSignal = undefined;
    this.#onParentAbort = undefined;
  }
}
