/** `lease.onAcquired`: a grant was obtained. */
export interface LeaseAcquiredEvent {
  readonly resource: string;
  readonly token: bigint;
  /** Ms from the call to `acquire` to the grant (the waiting for a holder included). */
  readonly waited: number;
}

/**
 * Why a held lease ended without the holder releasing it: `'lost'` (a renewal was refused: the
 * store expired it or another owner holds it), `'expired'` (the local validity ran out, e.g.
 * because renewals failed), `'paused'` (a process pause outlasted the local validity).
 */
export type LeaseLossReason = 'lost' | 'expired' | 'paused';

/** `lease.onLost`: a held lease ended without being released; its `signal` aborted with `error`. */
export interface LeaseLostEvent {
  readonly resource: string;
  readonly token: bigint;
  readonly reason: LeaseLossReason;
  /** The abort reason of the lease's signal (`LeaseLostError` or `LeaseExpiredError`). */
  readonly error: Error;
}

/** `lease.onReleased`: the holder released the lease. */
export interface LeaseReleasedEvent {
  readonly resource: string;
  readonly token: bigint;
}

/** `lease.onUnavailable`: `acquire` gave up because the lease stayed held elsewhere. */
export interface LeaseUnavailableEvent {
  readonly resource: string;
  /** The holder's remaining lease as the store last reported it (ms). */
  readonly retryAfter: number;
  readonly waited: number;
}

/** `lease.onStoreFailure`: a store call failed or timed out (the error is passed on too). */
export interface LeaseStoreFailureEvent {
  readonly resource: string;
  readonly operation: 'acquire' | 'renew' | 'release';
  readonly error: unknown;
}
