import { type CancellableContext, ExecutionContext } from '../context.js';

/** {@link LazyChildContext.flags}: this context was aborted on its own account. */
export const CHILD_ABORTED = 1;
/** {@link LazyChildContext.flags}: {@link LazyChildContext.dispose} was called. */
export const CHILD_DISPOSED = 2;
/** The lowest bit of {@link LazyChildContext.flags} free for a subclass's own flags. */
export const CHILD_FREE_BIT = 4;

/**
 * A lighter `ctx.child()` for an object a policy builds per call anyway (a timeout's call, a
 * hedged call's first attempt): the caller's context (`parent`) with an abort of its own. The
 * {@link CancellableContext} behind its `signal` and `onAbort` is created only when somebody asks
 * for one (on the success path nobody does), and then catches up with an abort or a dispose that
 * came before.
 *
 * The subclass gives `attempt`, `deadline` and `abort(reason)` (which sets {@link CHILD_ABORTED}
 * and aborts {@link inner}), and keeps the abort reason and the cancellable context where it likes
 * ({@link ownReason}, {@link inner}): a hedged call keeps them off its success-path object.
 */
export abstract class LazyChildContext extends ExecutionContext {
  // Set by the subclass's constructor: no constructor nor field initializer here, so that
  // `super()` costs nothing.
  /** {@link CHILD_ABORTED}, {@link CHILD_DISPOSED}; the subclass's from {@link CHILD_FREE_BIT}. */
  declare protected flags: number;
  /** The caller's context. */
  declare protected parent: ExecutionContext;

  /** The reason the context was aborted with (read only when {@link CHILD_ABORTED} is set). */
  protected abstract get ownReason(): unknown;

  /** The cancellable context once created (see {@link cancellable}). */
  protected abstract get inner(): CancellableContext | undefined;
  protected abstract set inner(inner: CancellableContext);

  get aborted(): boolean {
    return (this.flags & CHILD_ABORTED) !== 0 || this.parent.aborted;
  }

  get abortReason(): unknown {
    return (this.flags & CHILD_ABORTED) !== 0 ? this.ownReason : this.parent.abortReason;
  }

  override get pipeline(): string | undefined {
    return this.parent.pipeline;
  }

  override get operation(): string | undefined {
    return this.parent.operation;
  }

  get signal(): AbortSignal {
    return this.cancellable().signal;
  }

  override onAbort(listener: () => void): (() => void) | undefined {
    return this.cancellable().onAbort(listener);
  }

  /** The context is over: unlinks what it added to the caller's. */
  dispose(): void {
    this.flags |= CHILD_DISPOSED;
    this.inner?.dispose();
  }

  /** The real `parent.child(deadline)`, created on first use. */
  protected cancellable(): CancellableContext {
    let inner = this.inner;
    if (inner === undefined) {
      inner = this.parent.child(this.deadline);
      this.inner = inner;
      // Catch up with what happened before anybody asked.
      if ((this.flags & CHILD_ABORTED) !== 0) inner.abort(this.ownReason);
      if ((this.flags & CHILD_DISPOSED) !== 0) inner.dispose();
    }
    return inner;
  }
}
