import type { Clock } from '@faultline/clock';
import {
  type EventChannel,
  formatValue,
  type PolicyIdentity,
  publishEvent,
  type TelemetryAttributes,
  telemetry,
} from '@faultline/core';
import { isThenable } from '@faultline/core/internal';
import { Deadline, DeadlineQueue } from './deadline-queue.js';
import { StoreTimeoutError } from './errors.js';
import type { IdempotencyWarning, StoreFailureEvent } from './events.js';

/**
 * Every call the server core makes to its store: bounded by `storeTimeout` (the timer always
 * cleared), each failure reported on `onStoreFailure`, and the store's health tracked so that an
 * outage is visible without subscribing to anything: the first failure and every change of state
 * are logged once (a down store otherwise shows only as 503s, with the cause, e.g. a PostgreSQL
 * authentication error, hidden).
 * @internal
 */
export class StoreCalls {
  readonly #clock: Clock;
  readonly #timeout: number;
  readonly #failures: EventChannel<StoreFailureEvent>;
  readonly #warn: (warning: IdempotencyWarning) => void;
  readonly #whileDown: string;
  readonly #identity: PolicyIdentity;
  /** Calls in flight, oldest first, each expiring `timeout` after it started. */
  readonly #pending: DeadlineQueue<PendingCall>;
  #failing = false;

  constructor(
    clock: Clock,
    timeout: number,
    failures: EventChannel<StoreFailureEvent>,
    warn: (warning: IdempotencyWarning) => void,
    failClosed: boolean,
    identity: PolicyIdentity,
  ) {
    this.#identity = identity;
    this.#clock = clock;
    this.#timeout = timeout;
    this.#pending = new DeadlineQueue(clock, timeout, false);
    this.#failures = failures;
    this.#warn = warn;
    this.#whileDown = failClosed
      ? 'get 503 STORE_UNAVAILABLE'
      : 'run without protection (fail-open)';
  }

  /**
   * Runs one store call that serves a request; a failure rejects (after being reported). The
   * `storeTimeout` of every call in flight is kept by one timer (see {@link DeadlineQueue}),
   * not one per call: a request makes two or three store calls.
   */
  run<T>(
    operation: StoreFailureEvent['operation'],
    key: string,
    call: () => Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#start(
        new PendingCall(this, operation, key, true, resolve as (value: unknown) => void, reject),
        call,
      );
    });
  }

  /**
   * Runs a background clean-up (the release after a failed claim). It says nothing about whether
   * requests are served, so it never moves the health state: a store that only fails claims
   * would otherwise flap between failing and recovered.
   */
  cleanUp(operation: StoreFailureEvent['operation'], key: string, call: () => Promise<unknown>) {
    this.#start(new PendingCall(this, operation, key, false, ignore, ignore), call);
  }

  #start(pending: PendingCall, call: () => Promise<unknown>): void {
    this.#pending.add(pending);
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      pending.failed(error);
      return;
    }
    if (isThenable(result)) result.then(pending.succeeded, pending.failed);
    else pending.succeeded(result);
  }

  /**
   * A call that serves a request was answered: the store is healthy (again). Called directly
   * for a synchronous call of an in-process store (see `SyncStore`).
   */
  answeredNow(): void {
    if (this.#failing) this.#recovered();
  }

  /**
   * A call that serves a request failed: reported, and the store is failing. Called directly
   * for a synchronous call of an in-process store that threw.
   */
  failedNow(operation: StoreFailureEvent['operation'], key: string, error: unknown): void {
    this.#report(operation, key, error);
    if (!this.#failing) this.#failed(operation, error);
  }

  /** @internal The call behind `pending` answered in time. */
  settled(pending: PendingCall): boolean {
    if (!this.#pending.remove(pending)) return false;
    if (pending.serving) this.answeredNow();
    return true;
  }

  /** @internal The call behind `pending` failed in time, or its time ran out (`expired`). */
  failedCall(pending: PendingCall, error: unknown, expired: boolean): boolean {
    if (!expired && !this.#pending.remove(pending)) return false;
    const failure = expired ? this.#timedOut(pending.operation) : error;
    // A background clean-up is reported but never moves the health state (see `cleanUp`).
    if (pending.serving) this.failedNow(pending.operation, pending.key, failure);
    else this.#report(pending.operation, pending.key, failure);
    pending.reject(failure);
    return true;
  }

  /** One failed call: `onStoreFailure`, and a `store-failure` record (never the key). */
  #report(operation: StoreFailureEvent['operation'], key: string, error: unknown): void {
    if (this.#failures.hasListeners) this.#failures.emit({ key, operation, error });
    if (telemetry.hasSubscribers) {
      publishEvent(
        this.#identity,
        undefined,
        'store-failure',
        this.#clock.now(),
        error,
        OPERATION_ATTRIBUTES[operation],
      );
    }
  }

  #timedOut(operation: string): StoreTimeoutError {
    return new StoreTimeoutError(operation, this.#timeout);
  }

  #failed(operation: string, error: unknown): void {
    this.#failing = true;
    this.#warn({
      code: 'STORE_FAILING',
      message: `the idempotency store is failing (${operation}: ${describeError(error)}); keyed requests ${this.#whileDown} until it answers again`,
    });
  }

  #recovered(): void {
    this.#failing = false;
    this.#warn({ code: 'STORE_RECOVERED', message: 'the idempotency store recovered' });
  }
}

const ignore = (): void => {};

/**
 * One store call in flight: settled by the store's answer or by its deadline, whichever comes
 * first (what comes second is ignored; a late rejection is handled).
 * @internal
 */
class PendingCall extends Deadline {
  readonly #calls: StoreCalls;
  readonly operation: StoreFailureEvent['operation'];
  readonly key: string;
  /** Serves a request (moves the health state), or a background clean-up (does not). */
  readonly serving: boolean;
  readonly #resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;

  constructor(
    calls: StoreCalls,
    operation: StoreFailureEvent['operation'],
    key: string,
    serving: boolean,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    super();
    this.#calls = calls;
    this.operation = operation;
    this.key = key;
    this.serving = serving;
    this.#resolve = resolve;
    this.reject = reject;
  }

  readonly succeeded = (value: unknown): void => {
    if (this.#calls.settled(this)) this.#resolve(value);
  };

  readonly failed = (error: unknown): void => {
    this.#calls.failedCall(this, error, false);
  };

  expire(): void {
    this.#calls.failedCall(this, undefined, true);
  }
}

/** The attributes of a `store-failure` record, one frozen object per operation. */
const OPERATION_ATTRIBUTES: Readonly<Record<StoreFailureEvent['operation'], TelemetryAttributes>> =
  Object.freeze({
    claim: Object.freeze({ operation: 'claim' }),
    get: Object.freeze({ operation: 'get' }),
    complete: Object.freeze({ operation: 'complete' }),
    renew: Object.freeze({ operation: 'renew' }),
    release: Object.freeze({ operation: 'release' }),
  });

/** An error for a log line: name, message and code (e.g. a PostgreSQL SQLSTATE), no stack. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = `${error.name}: ${error.message}`;
    return typeof code === 'string' || typeof code === 'number' ? `${text} (code ${code})` : text;
  }
  return formatValue(error);
}
