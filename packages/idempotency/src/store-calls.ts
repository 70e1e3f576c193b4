import type { Clock } from '@faultline/clock';
import {
  type EventChannel,
  formatValue,
  type PolicyIdentity,
  publishEvent,
  type TelemetryAttributes,
  telemetry,
} from '@faultline/core';
import { raceTimer } from '@faultline/core/internal';
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
    this.#failures = failures;
    this.#warn = warn;
    this.#whileDown = failClosed
      ? 'get 503 STORE_UNAVAILABLE'
      : 'run without protection (fail-open)';
  }

  /** Runs one store call that serves a request; a failure rejects (after being reported). */
  run<T>(
    operation: StoreFailureEvent['operation'],
    key: string,
    call: () => Promise<T>,
  ): Promise<T> {
    return raceTimer(this.#clock, this.#timeout, call, () => this.#timedOut(operation)).then(
      (value) => {
        if (this.#failing) this.#recovered();
        return value;
      },
      (error: unknown) => {
        this.#report(operation, key, error);
        if (!this.#failing) this.#failed(operation, error);
        throw error;
      },
    );
  }

  /**
   * Runs a background clean-up (the release after a failed claim). It says nothing about whether
   * requests are served, so it never moves the health state: a store that only fails claims
   * would otherwise flap between failing and recovered.
   */
  cleanUp(operation: StoreFailureEvent['operation'], key: string, call: () => Promise<unknown>) {
    raceTimer(this.#clock, this.#timeout, call, () => this.#timedOut(operation)).catch(
      (error: unknown) => {
        this.#report(operation, key, error);
      },
    );
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
