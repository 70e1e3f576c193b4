import { checkPermitDuration } from '@faultline/breaker/internal';

/**
 * Permission for one call from `fleetBreaker.tryAcquire()` (as `CircuitPermit` for
 * `circuitBreaker`). Report how the call went exactly once: `success(durationMs)`,
 * `failure(durationMs)` (a handled failure) or `ignore()` (count nothing; a probe's permit then
 * serves the next call). Later reports are ignored. Durations feed the slow-call rule.
 */
export class FleetCircuitPermit {
  readonly #settle: (generation: number, outcome: 0 | 1 | 2, duration: number) => void;
  readonly #generation: number;
  #done = false;

  /** @internal Created by the breaker. */
  constructor(
    settle: (generation: number, outcome: 0 | 1 | 2, duration: number) => void,
    generation: number,
  ) {
    this.#settle = settle;
    this.#generation = generation;
  }

  /** The call succeeded after `durationMs` (default 0). */
  success(durationMs = 0): void {
    this.#report(0, durationMs);
  }

  /** The call failed (a failure the breaker should count) after `durationMs` (default 0). */
  failure(durationMs = 0): void {
    this.#report(1, durationMs);
  }

  /** The call ended without an outcome worth counting. */
  ignore(): void {
    this.#report(2, 0);
  }

  #report(outcome: 0 | 1 | 2, durationMs: number): void {
    checkPermitDuration('FleetCircuitPermit', durationMs);
    if (this.#done) return;
    this.#done = true;
    this.#settle(this.#generation, outcome, durationMs);
  }
}
