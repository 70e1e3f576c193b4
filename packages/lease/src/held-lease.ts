import { checkOptions, formatValue, optionalNumber } from '@faultline/core';
import { formatMs } from '@faultline/core/internal';
import { LeaseExpiredError, LeaseLostError, LeaseReleasedError } from './lease-errors.js';
import type { LeaseLossReason } from './lease-events.js';
import type { ResolvedLeaseOptions } from './lease-options.js';

/** A store operation a held lease makes. */
export type HeldLeaseOperation = 'renew' | 'release';

/**
 * What a {@link HeldLease} needs from the lease that granted it (implemented by `Lease`; kept as an
 * interface so that this file does not import the lease's).
 * @internal
 */
export interface LeaseHost {
  readonly options: ResolvedLeaseOptions;
  /** A store call bounded by `timeout` ms (at most the lease's `storeTimeout`). */
  call<T>(operation: HeldLeaseOperation, run: () => Promise<T>, timeout: number): Promise<T>;
  /**
   * The lease ended: it leaves the pause watch and the events and telemetry are sent. `error` is
   * the abort reason, `undefined` for a release.
   */
  ended(held: HeldLease, reason: LeaseLossReason | 'released', error: Error | undefined): void;
}

/** Options of {@link HeldLease.keepAlive}. */
export interface KeepAliveOptions {
  /**
   * Ms between renewals (> 0, less than the local validity). Default `ttl / 3`, or half the local
   * validity when that is shorter (a large `safetyMargin`).
   */
  readonly every?: number;
}

/** Called by the lease's pause watcher. @internal */
export const checkAfterPause: unique symbol = Symbol('checkAfterPause');

const errorConstructor = Error as { stackTraceLimit?: number };

/**
 * A release's abort reason, built without a stack trace: the holder called `release()`, so a stack
 * says nothing, and capturing one cost most of a `lease.run` that reads `held.signal`
 * (`Error.stackTraceLimit` is V8's; other engines ignore it and capture as usual).
 */
function releasedError(resource: string, token: bigint): LeaseReleasedError {
  const limit = errorConstructor.stackTraceLimit;
  if (limit === undefined) return new LeaseReleasedError(resource, token);
  errorConstructor.stackTraceLimit = 0;
  try {
    return new LeaseReleasedError(resource, token);
  } finally {
    errorConstructor.stackTraceLimit = limit;
  }
}

/** Below this lateness (ms) an expiry timer firing late is a slow event loop, not a pause. */
const PAUSE_LATENESS = 100;

/**
 * A lease this process holds: its fencing `token`, its conservative local validity
 * (`remaining()`), and a `signal` that aborts the moment the holder must stop (validity ended,
 * lease lost, released). Made by `lease.acquire()`.
 *
 * Carry `token` with every access to the guarded resource and have the resource reject lower
 * tokens (`fenceGuard`, `fencedSet`, `fencedTransaction`): the local checks alone cannot stop a
 * holder that pauses between its check and its write.
 */
export class HeldLease {
  /** The fencing token of this grant: strictly greater than every earlier grant's. */
  readonly token: bigint;
  readonly resource: string;
  readonly owner: string;
  readonly #host: LeaseHost;
  // Made on the first read of `signal`: acquire + release without it allocates no controller,
  // no event and (for a release) no error, which were most of the lease's own cost.
  #controller: AbortController | undefined;
  /** Why the lease ended; `undefined` while it is held, or after a release nobody watched. */
  #error: Error | undefined;
  /** Clock time at which the local validity ends. */
  #validUntil: number;
  #cancelExpiry: (() => void) | undefined;
  #stopKeepAlive: (() => void) | undefined;
  #ended = false;
  #release: Promise<boolean> | undefined;

  /** @internal Made by `Lease.acquire`. */
  constructor(host: LeaseHost, token: bigint, validUntil: number) {
    this.#host = host;
    this.token = token;
    this.resource = host.options.resource;
    this.owner = host.options.owner;
    this.#validUntil = validUntil;
    this.#armExpiry();
  }

  /**
   * Ms of local validity left: `ttl·(1 − maxDrift) − safetyMargin` after the (last successful)
   * acquire or renew request was *sent*, minus the time since, never more than the store's own
   * lease; 0 once it ended, was lost or released. Reading it after a pause that outlasted the
   * validity aborts {@link signal} at once.
   */
  remaining(): number {
    if (this.#ended) return 0;
    const left = this.#validUntil - this.#host.options.clock.now();
    if (left > 0) return left;
    this.#expire(-left);
    return 0;
  }

  /**
   * Aborts when the holder must stop: the local validity ended (`LeaseExpiredError`), a renewal
   * was refused (`LeaseLostError`), or the lease was released (`LeaseReleasedError`). Reading it
   * checks the validity first, so code that resumes after a pause sees it aborted.
   */
  get signal(): AbortSignal {
    if (!this.#ended) this.remaining();
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      if (this.#ended) controller.abort(this.#reason());
    }
    return controller.signal;
  }

  /** Whether the lease is still locally valid (same check as `remaining() > 0`). */
  get valid(): boolean {
    return this.remaining() > 0;
  }

  /**
   * Extends the lease by `ttl` on the store (compare-and-set on owner and token). Rejects with
   * `LeaseLostError` (and aborts the signal) when the store refuses; with the store's error or
   * `LeaseStoreTimeoutError` when it fails (the lease stays valid until its local validity ends);
   * with the signal's reason when the lease had already ended. The new validity counts from the
   * moment this request was sent, and a renewal that answers after the local validity ended does
   * not revive it.
   */
  async renew(): Promise<void> {
    const left = this.remaining();
    if (left === 0) throw this.#reason();
    const { clock, store, resource, owner, ttl, storeTimeout } = this.#host.options;
    const sentAt = clock.now();
    // An answer after the local validity ended is of no use: wait no longer than that.
    let renewed: boolean;
    try {
      renewed = await this.#host.call(
        'renew',
        () => store.renew(resource, owner, this.token, ttl),
        Math.min(storeTimeout, left),
      );
    } catch (error) {
      // The lease ending meanwhile says more than the store's failure (which was reported).
      if (this.#ended) throw this.#reason();
      throw error;
    }
    if (this.#ended) throw this.#reason();
    // Against the current end (another renewal may have moved it meanwhile): if the validity ran
    // out while this one was on its way (a pause, a slow store), it stays ended, even though the
    // store renewed.
    const lapsed = clock.now() - this.#validUntil;
    if (lapsed >= 0) {
      this.#expire(lapsed);
      throw this.#reason();
    }
    if (!renewed) {
      this.#end('lost', new LeaseLostError(resource, this.token));
      throw this.#reason();
    }
    const until = sentAt + this.#host.options.validity;
    if (until > this.#validUntil) {
      this.#validUntil = until;
      this.#armExpiry();
    }
  }

  /**
   * Ends the lease: stops {@link keepAlive}, aborts the signal (`LeaseReleasedError`) and releases
   * it on the store so another owner can take it at once. Resolves to the store's answer (`false`:
   * it had already expired or been taken over there). Idempotent: later calls return the first
   * call's promise. A store failure rejects, but the lease is over locally either way (and expires
   * on the store after its ttl).
   */
  release(): Promise<boolean> {
    if (this.#release !== undefined) return this.#release;
    this.#end('released', undefined);
    const { store, resource, owner, storeTimeout } = this.#host.options;
    this.#release = this.#host.call(
      'release',
      () => store.release(resource, owner, this.token),
      storeTimeout,
    );
    return this.#release;
  }

  /**
   * Renews every `every` ms in the background (an unref'd timer) until the lease ends or the
   * returned `stop()` is called. A renewal that fails is retried sooner (at half the remaining
   * validity); if none succeeds, the signal aborts with `LeaseExpiredError` when the local
   * validity ends, never later. A refused renewal aborts it with `LeaseLostError`. Calling it again
   * replaces the previous schedule.
   */
  keepAlive(options?: KeepAliveOptions): () => void {
    const owner = 'HeldLease.keepAlive';
    const opts = checkOptions<KeepAliveOptions>(owner, options);
    const { ttl, validity, clock } = this.#host.options;
    const every = optionalNumber(owner, 'every', opts.every, Math.min(ttl / 3, validity / 2), {
      min: 0,
      minExclusive: true,
    });
    if (every >= validity) {
      throw new RangeError(
        `${owner}: option "every" must be less than the local validity ${formatMs(validity)} ms (renewals would come after the lease ended), received ${formatValue(every)}`,
      );
    }
    this.#stopKeepAlive?.();
    if (this.#ended) return () => {};
    let cancel: (() => void) | undefined;
    let stopped = false;
    const schedule = (delay: number): void => {
      if (stopped || this.#ended) return;
      cancel = clock.setTimer(delay, tick, { unref: true });
    };
    const tick = (): void => {
      cancel = undefined;
      this.renew().then(
        () => schedule(every),
        () => schedule(Math.max(1, Math.min(every, this.remaining() / 2))),
      );
    };
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      cancel?.();
      cancel = undefined;
      if (this.#stopKeepAlive === stop) this.#stopKeepAlive = undefined;
    };
    this.#stopKeepAlive = stop;
    schedule(every);
    return stop;
  }

  /** @internal The lease's pause watcher saw a pause of `duration` ms. */
  [checkAfterPause](duration: number): void {
    if (this.#ended) return;
    const late = this.#host.options.clock.now() - this.#validUntil;
    if (late >= 0) this.#expire(Math.max(late, duration));
  }

  #armExpiry(): void {
    this.#cancelExpiry?.();
    const { clock } = this.#host.options;
    this.#cancelExpiry = clock.setTimer(
      this.#validUntil - clock.now(),
      () => {
        this.#cancelExpiry = undefined;
        // A platform timer may fire a fraction of a millisecond early: arm it again then.
        if (!this.#ended && this.remaining() > 0) this.#armExpiry();
      },
      { unref: true },
    );
  }

  /** The local validity ended `late` ms ago (seen late: a pause, when it is large). */
  #expire(late: number): void {
    const paused = late >= PAUSE_LATENESS;
    const detail = paused
      ? `a process pause outlasted its local validity (seen ${formatMs(late)} ms after it ended)`
      : 'its local validity ended';
    this.#end(
      paused ? 'paused' : 'expired',
      new LeaseExpiredError(this.resource, this.token, detail),
    );
  }

  #end(reason: LeaseLossReason | 'released', error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#cancelExpiry?.();
    this.#cancelExpiry = undefined;
    this.#stopKeepAlive?.();
    this.#host.ended(this, reason, error);
    this.#controller?.abort(this.#reason());
  }

  /** The abort reason of an ended lease (a release's `LeaseReleasedError` is built on demand). */
  #reason(): Error {
    if (this.#error === undefined) this.#error = releasedError(this.resource, this.token);
    return this.#error;
  }
}
