/** A store step failed or timed out: the instance runs on its local state until one succeeds. */
export interface FleetStoreFailureEvent {
  /** The store's error, or a `FleetStoreTimeoutError` after `storeTimeout`. */
  readonly error: unknown;
  /** The step: `'sync'` (the background reconciliation) or a permit/report of a probe. */
  readonly operation: FleetOperation;
}

/** A store step succeeded after failures: the instance rejoined the fleet's shared state. */
export interface FleetRejoinEvent {
  /** Ms from the first failed step to this success. */
  readonly downtime: number;
}

/** What an instance asked the store. */
export type FleetOperation = 'sync' | 'probe' | 'report' | 'close';
