/** How a permit's request ended, as reported to the throttle (internal; not exported). */
export type ThrottlePermitOutcome = 'accepted' | 'rejected' | 'ignored';

/**
 * Permission for one request from `throttle.tryAcquire()`: report `accepted()` when the backend
 * took it, `rejected()` when it refused it for overload, or `ignore()` to take the request back
 * (e.g. the caller aborted before sending). Only the first report counts.
 */
export class ThrottlePermit {
  readonly #settle: (outcome: ThrottlePermitOutcome) => void;
  #done = false;

  /** @internal Created by the throttle. */
  constructor(settle: (outcome: ThrottlePermitOutcome) => void) {
    this.#settle = settle;
  }

  /** The backend accepted the request (any outcome other than an overload rejection). */
  accepted(): void {
    this.#report('accepted');
  }

  /** The backend rejected the request for overload (429, 503, …). */
  rejected(): void {
    this.#report('rejected');
  }

  /** The request says nothing about the backend: it counts as neither a request nor an accept. */
  ignore(): void {
    this.#report('ignored');
  }

  #report(outcome: ThrottlePermitOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle(outcome);
  }
}
