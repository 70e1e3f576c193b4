import { type Clock, type PauseEvent, watchPauses } from '@faultline/clock';
import {
  checkFunction,
  checkOptions,
  EventChannel,
  formatValue,
  type Listener,
  optionalNumber,
  type PolicyIdentity,
  publishEvent,
  telemetry,
} from '@faultline/core';
import {
  checkAfterPause,
  HeldLease,
  type HeldLeaseOperation,
  type KeepAliveOptions,
  type LeaseHost,
} from './held-lease.js';
import {
  LeaseExpiredError,
  LeaseStoreTimeoutError,
  LeaseUnavailableError,
} from './lease-errors.js';
import type {
  LeaseAcquiredEvent,
  LeaseLossReason,
  LeaseLostEvent,
  LeaseReleasedEvent,
  LeaseStoreFailureEvent,
  LeaseUnavailableEvent,
} from './lease-events.js';
import {
  type LeaseOptions,
  localValidity,
  type ResolvedLeaseOptions,
  resolveLeaseOptions,
} from './lease-options.js';
import { isLeaseGrant, type LeaseAcquireResult } from './lease-store.js';
import { callStore } from './store-call.js';

/** Options of {@link Lease.acquire}. */
export interface AcquireOptions {
  /** Gives up waiting (and releases a grant that arrives after it): rejects with its reason. */
  readonly signal?: AbortSignal;
  /**
   * Ms to wait for a lease held elsewhere to be freed (≥ 0, `Infinity` to wait until it is).
   * Default 0: try once. Past it, `acquire` rejects with `LeaseUnavailableError`.
   */
  readonly wait?: number;
}

/** Options of {@link Lease.run}. */
export interface RunOptions extends AcquireOptions {
  /** How the lease is kept alive while the function runs (see {@link HeldLease.keepAlive}). */
  readonly keepAlive?: KeepAliveOptions;
}

/** Whether a lease holds a grant now, as its telemetry gauge reports it. */
export type LeaseState = 'free' | 'held';
const LEASE_STATES: readonly LeaseState[] = Object.freeze(['free', 'held']);

/** The kind and the watch settings of the pause watcher (see `@faultline/clock` `watchPauses`). */
const PAUSE_WATCH = Object.freeze({ interval: 100, threshold: 100 });

function ignore(): void {}

/**
 * A lease on one resource, arbitrated by a {@link LeaseStore}; build it with {@link createLease}.
 * `acquire()` gives a {@link HeldLease} with a fencing token; `run(fn)` acquires, keeps alive and
 * releases around `fn`.
 *
 * Why the token: a lease alone cannot give mutual exclusion, because its holder can pause (a GC, a
 * VM suspension, a slow disk) past its expiry and then act as if it still held it (Kleppmann,
 * "How to do distributed locking", 2016; DDIA ch. 8). The token increases with every grant, so
 * the resource can refuse the paused holder's late write.
 */
export class Lease {
  readonly name: string;
  readonly resource: string;
  /** This holder's id on the store. */
  readonly owner: string;
  readonly ttl: number;
  /** The longest pause between two tries while waiting (see `retryInterval`). */
  readonly retryInterval: number;
  readonly clock: Clock;
  readonly #options: ResolvedLeaseOptions;
  readonly #identity: PolicyIdentity;
  readonly #host: LeaseHost;
  readonly #active = new Set<HeldLease>();
  #stopPauses: (() => void) | undefined;
  readonly #onAcquired = new EventChannel<LeaseAcquiredEvent>();
  readonly #onLost = new EventChannel<LeaseLostEvent>();
  readonly #onReleased = new EventChannel<LeaseReleasedEvent>();
  readonly #onUnavailable = new EventChannel<LeaseUnavailableEvent>();
  readonly #onStoreFailure = new EventChannel<LeaseStoreFailureEvent>();

  constructor(options: LeaseOptions) {
    const resolved = resolveLeaseOptions(options);
    this.#options = resolved;
    this.#identity = resolved.identity;
    this.name = resolved.identity.name;
    this.resource = resolved.resource;
    this.owner = resolved.owner;
    this.ttl = resolved.ttl;
    this.retryInterval = resolved.retryInterval;
    this.clock = resolved.clock;
    telemetry.trackState(this, this.#identity, LEASE_STATES, Lease.#peek);
    this.#host = {
      options: resolved,
      call: (operation, run, timeout) => this.#call(operation, run, timeout, undefined, undefined),
      ended: (held, reason, error) => this.#ended(held, reason, error),
    };
  }

  /** `'held'` while this lease holds a grant (locally valid), else `'free'`. */
  get state(): LeaseState {
    return Lease.#peek(this);
  }

  static #peek(lease: Lease): LeaseState {
    return lease.#active.size > 0 ? 'held' : 'free';
  }

  /** The local validity of a fresh grant (ms): `ttl·(1 − maxDrift) − safetyMargin`. */
  get validity(): number {
    return this.#options.validity;
  }

  /**
   * Acquires the lease. Resolves to the {@link HeldLease} as soon as the store grants it; while
   * another owner holds it, tries again (pauses jittered up to `retryInterval`, never past the
   * holder's `retryAfter`) until `wait` ms have passed, then rejects with
   * `LeaseUnavailableError` (with `retryAfter`). Rejects with the signal's reason when it aborts,
   * with `LeaseStoreTimeoutError` when the store does not answer within `storeTimeout`, with the
   * store's own error when it fails, and with `LeaseExpiredError` when a grant arrives too late to
   * be valid (it is released).
   */
  async acquire(options?: AcquireOptions): Promise<HeldLease> {
    const opts = checkOptions<AcquireOptions>('Lease.acquire', options);
    const signal = checkSignal('Lease.acquire', opts.signal);
    const wait = checkWait('Lease.acquire', opts.wait);
    if (signal?.aborted) throw signal.reason;
    const o = this.#options;
    const { clock, store, resource, owner, ttl } = o;
    const start = clock.now();
    const deadline = start + wait;
    for (;;) {
      // Read before the request is sent: the store's lease starts no earlier than this.
      const sentAt = clock.now();
      const result: LeaseAcquireResult = await this.#call(
        'acquire',
        () => store.acquire(resource, owner, ttl),
        o.storeTimeout,
        signal,
        (late) => {
          if (isLeaseGrant(late)) store.release(resource, owner, late.token).catch(ignore);
        },
      );
      const now = clock.now();
      if (isLeaseGrant(result)) {
        // A store may grant less than asked (never more counts): the shorter lease rules.
        const granted = result.ttl < ttl ? result.ttl : ttl;
        const validUntil = sentAt + localValidity(granted, o.maxDrift, o.safetyMargin);
        if (now >= validUntil || signal?.aborted) {
          store.release(resource, owner, result.token).catch(ignore);
          if (signal?.aborted) throw signal.reason;
          throw new LeaseExpiredError(
            resource,
            result.token,
            'the grant arrived after its local validity ended',
          );
        }
        const held = new HeldLease(this.#host, result.token, validUntil);
        this.#started(held, now - start);
        return held;
      }
      const left = deadline - now;
      if (left <= 0) {
        const retryAfter = result.retryAfter;
        if (this.#onUnavailable.hasListeners) {
          this.#onUnavailable.emit({ resource, retryAfter, waited: now - start });
        }
        if (telemetry.hasSubscribers) {
          publishEvent(this.#identity, undefined, 'lease-unavailable', now);
        }
        throw new LeaseUnavailableError(resource, retryAfter, now - start);
      }
      // Jittered in [½, 1]× retryInterval (so that waiters do not poll in step), never beyond the
      // holder's remaining lease, never a busy loop, and a last try at the deadline.
      let pause = o.retryInterval * (0.5 + 0.5 * o.random());
      if (result.retryAfter < pause) pause = result.retryAfter;
      if (pause < 1) pause = 1;
      if (pause > left) pause = left;
      await clock.sleep(pause, signal);
    }
  }

  /**
   * Acquires the lease (`wait`, `signal` as for {@link acquire}), keeps it alive while
   * `fn(held)` runs, then releases it; resolves or rejects as `fn` does. `fn` must watch
   * `held.signal` and carry `held.token` to the resource: the lease may end while it runs. A
   * release that fails is reported (`onStoreFailure`, telemetry `store-failure`), not thrown: the
   * lease then expires on the store after its ttl.
   */
  async run<T>(fn: (held: HeldLease) => T | PromiseLike<T>, options?: RunOptions): Promise<T> {
    checkFunction('Lease.run', 'fn', fn, false);
    const opts = checkOptions<RunOptions>('Lease.run', options);
    const held = await this.acquire(opts);
    let stop: (() => void) | undefined;
    try {
      stop = held.keepAlive(opts.keepAlive);
      return await fn(held);
    } finally {
      stop?.();
      await held.release().catch(ignore);
    }
  }

  /** Calls `listener` with every grant. Returns the unsubscribe function. */
  onAcquired(listener: Listener<LeaseAcquiredEvent>): () => void {
    return this.#onAcquired.subscribe(listener);
  }

  /** Calls `listener` when a held lease ends without a release (lost, expired, paused). */
  onLost(listener: Listener<LeaseLostEvent>): () => void {
    return this.#onLost.subscribe(listener);
  }

  /** Calls `listener` when a held lease is released. */
  onReleased(listener: Listener<LeaseReleasedEvent>): () => void {
    return this.#onReleased.subscribe(listener);
  }

  /** Calls `listener` when `acquire` gives up on a lease held elsewhere. */
  onUnavailable(listener: Listener<LeaseUnavailableEvent>): () => void {
    return this.#onUnavailable.subscribe(listener);
  }

  /** Calls `listener` when a store call fails or times out. */
  onStoreFailure(listener: Listener<LeaseStoreFailureEvent>): () => void {
    return this.#onStoreFailure.subscribe(listener);
  }

  /** `{ name: 'lease', options }` as plain data. */
  describe(): { name: 'lease'; options: Record<string, number | string> } {
    const o = this.#options;
    return {
      name: 'lease',
      options: {
        name: this.name,
        resource: o.resource,
        ttl: o.ttl,
        maxDrift: o.maxDrift,
        safetyMargin: o.safetyMargin,
        storeTimeout: o.storeTimeout,
        retryInterval: o.retryInterval,
      },
    };
  }

  #call<T>(
    operation: HeldLeaseOperation | 'acquire',
    run: () => Promise<T>,
    timeout: number,
    signal: AbortSignal | undefined,
    onLate: ((value: T) => void) | undefined,
  ): Promise<T> {
    const { clock, resource } = this.#options;
    const pending = callStore(
      clock,
      timeout,
      run,
      () => new LeaseStoreTimeoutError(resource, operation, timeout),
      signal,
      onLate,
    );
    if (!this.#onStoreFailure.hasListeners && !telemetry.hasSubscribers) return pending;
    return pending.catch((error: unknown) => {
      // The caller's abort is not the store's failure.
      if (!(signal?.aborted && error === signal.reason)) this.#storeFailed(operation, error);
      throw error;
    });
  }

  #storeFailed(operation: HeldLeaseOperation | 'acquire', error: unknown): void {
    if (this.#onStoreFailure.hasListeners) {
      this.#onStoreFailure.emit({ resource: this.resource, operation, error });
    }
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, undefined, 'store-failure', this.#options.clock.now(), error, {
        operation,
      });
    }
  }

  #started(held: HeldLease, waited: number): void {
    this.#active.add(held);
    if (this.#stopPauses === undefined) {
      this.#stopPauses = watchPauses({
        clock: this.#options.clock,
        interval: PAUSE_WATCH.interval,
        threshold: PAUSE_WATCH.threshold,
        onPause: (event) => this.#paused(event),
      });
    }
    if (this.#onAcquired.hasListeners) {
      this.#onAcquired.emit({ resource: this.resource, token: held.token, waited });
    }
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, undefined, 'lease-acquired', this.#options.clock.now());
    }
  }

  #paused(event: PauseEvent): void {
    for (const held of [...this.#active]) held[checkAfterPause](event.duration);
  }

  #ended(held: HeldLease, reason: LeaseLossReason | 'released', error: Error | undefined): void {
    this.#active.delete(held);
    if (this.#active.size === 0 && this.#stopPauses !== undefined) {
      this.#stopPauses();
      this.#stopPauses = undefined;
    }
    const now = this.#options.clock.now();
    if (reason === 'released') {
      if (this.#onReleased.hasListeners) {
        this.#onReleased.emit({ resource: this.resource, token: held.token });
      }
      if (telemetry.hasSubscribers) publishEvent(this.#identity, undefined, 'lease-released', now);
      return;
    }
    if (this.#onLost.hasListeners) {
      this.#onLost.emit({ resource: this.resource, token: held.token, reason, error: error! });
    }
    if (telemetry.hasSubscribers) {
      publishEvent(
        this.#identity,
        undefined,
        reason === 'lost' ? 'lease-lost' : 'lease-expired',
        now,
        error,
        { reason },
      );
    }
  }
}

/** Builds a {@link Lease}: `new Lease(options)`, validating every option. */
export function createLease(options: LeaseOptions): Lease {
  return new Lease(options);
}

function checkSignal(owner: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<AbortSignal>).addEventListener !== 'function' ||
    typeof (value as Partial<AbortSignal>).aborted !== 'boolean'
  ) {
    throw new TypeError(
      `${owner}: option "signal" must be an AbortSignal, received ${formatValue(value)}`,
    );
  }
  return value as AbortSignal;
}

function checkWait(owner: string, value: unknown): number {
  return optionalNumber(owner, 'wait', value, 0, { min: 0, allowInfinity: true });
}
