import type { Clock } from '@faultline/clock';
import {
  EventChannel,
  type Listener,
  type PolicyIdentity,
  publishEvent,
  type TelemetryAttributes,
  telemetry,
} from '@faultline/core';
import { raceTimer } from '@faultline/core/internal';
import { FleetStoreTimeoutError } from './store-errors.js';
import type { FleetOperation, FleetRejoinEvent, FleetStoreFailureEvent } from './store-events.js';

const ATTRIBUTES: Readonly<Record<FleetOperation, TelemetryAttributes>> = Object.freeze({
  sync: Object.freeze({ operation: 'sync' }),
  probe: Object.freeze({ operation: 'probe' }),
  report: Object.freeze({ operation: 'report' }),
  close: Object.freeze({ operation: 'close' }),
});

/**
 * The background reconciliation every fleet policy shares: one store step every `period` ms on
 * an unref'd timer (never more than one in flight), or sooner on {@link kick}; each step raced
 * against `timeout`. A failed step switches the owner to its local state (`failing`), reports
 * `store-failure`, and the first step that succeeds again reports the rejoin. The call path
 * never waits on any of it.
 */
export class FleetSync {
  readonly #clock: Clock;
  readonly #period: number;
  readonly #timeout: number;
  readonly #identity: PolicyIdentity;
  readonly #step: () => Promise<void>;
  readonly #minKickGap: number;
  readonly failures = new EventChannel<FleetStoreFailureEvent>();
  readonly rejoins = new EventChannel<FleetRejoinEvent>();
  #cancel: (() => void) | undefined;
  #inFlight = false;
  #closed = false;
  #failingSince = Number.NaN;
  #lastKick = Number.NEGATIVE_INFINITY;

  constructor(
    clock: Clock,
    period: number,
    timeout: number,
    identity: PolicyIdentity,
    step: () => Promise<void>,
  ) {
    this.#clock = clock;
    this.#period = period;
    this.#timeout = timeout;
    this.#identity = identity;
    this.#step = step;
    // A burst of kicks (every denied retry, every rejected half-open call) costs at most ten
    // steps per period.
    this.#minKickGap = period / 10;
    this.#schedule(0);
  }

  /** Whether the last step failed (the owner runs on local state). */
  get failing(): boolean {
    return !Number.isNaN(this.#failingSince);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a step now unless one is in flight or the last kick was less than period/10 ago. */
  kick(): void {
    if (this.#inFlight || this.#closed) return;
    const now = this.#clock.now();
    if (now - this.#lastKick < this.#minKickGap) return;
    this.#lastKick = now;
    this.#run();
  }

  /**
   * Runs `call` (a one-off step such as a probe report) with the same timeout and failure
   * handling; resolves `true` when it succeeded.
   */
  async once(operation: FleetOperation, call: () => Promise<void>): Promise<boolean> {
    try {
      await raceTimer(
        this.#clock,
        this.#timeout,
        call,
        () => new FleetStoreTimeoutError(operation, this.#timeout),
      );
      this.#succeeded();
      return true;
    } catch (error) {
      this.#failed(operation, error);
      return false;
    }
  }

  /** Stops the timer; a step in flight finishes but schedules nothing. */
  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  onStoreFailure(listener: Listener<FleetStoreFailureEvent>): () => void {
    return this.failures.subscribe(listener);
  }

  onRejoin(listener: Listener<FleetRejoinEvent>): () => void {
    return this.rejoins.subscribe(listener);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#cancel?.();
    this.#cancel = this.#clock.setTimer(ms, () => this.#run(), { unref: true });
  }

  #run(): void {
    if (this.#inFlight || this.#closed) return;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#inFlight = true;
    const started = this.#clock.now();
    void this.once('sync', this.#step).then(() => {
      this.#inFlight = false;
      // Fixed rate: a step that took long (a store timing out) does not stretch the period, so
      // a store that comes back is seen within one period.
      this.#schedule(Math.max(0, this.#period - (this.#clock.now() - started)));
    });
  }

  #succeeded(): void {
    if (Number.isNaN(this.#failingSince)) return;
    const downtime = this.#clock.now() - this.#failingSince;
    this.#failingSince = Number.NaN;
    if (this.rejoins.hasListeners) this.rejoins.emit({ downtime });
    if (telemetry.hasSubscribers) {
      publishEvent(this.#identity, undefined, 'store-recovered', this.#clock.now());
    }
  }

  #failed(operation: FleetOperation, error: unknown): void {
    if (Number.isNaN(this.#failingSince)) this.#failingSince = this.#clock.now();
    if (this.failures.hasListeners) this.failures.emit({ error, operation });
    if (telemetry.hasSubscribers) {
      publishEvent(
        this.#identity,
        undefined,
        'store-failure',
        this.#clock.now(),
        error,
        ATTRIBUTES[operation],
      );
    }
  }
}
