/** The events the server core reports (`onWarning`, `onFenced`, …): plain data. */

/** Warnings worth logging. */
export interface IdempotencyWarning {
  readonly code:
    | 'NO_SCOPE'
    | 'FAIL_OPEN'
    | 'UNREADABLE_RECORD'
    /** A store call failed after the store had been answering (or on the first call). */
    | 'STORE_FAILING'
    /** A store call succeeded after failures. */
    | 'STORE_RECOVERED';
  readonly message: string;
  readonly key?: string;
}

/** A write refused because its owner had lost the lock (fencing). */
export interface FencedEvent {
  readonly key: string;
  readonly operation: 'complete' | 'renew' | 'release';
}

/** A store call that failed or timed out. */
export interface StoreFailureEvent {
  readonly key: string;
  readonly operation: 'claim' | 'get' | 'complete' | 'renew' | 'release';
  readonly error: unknown;
}

/** A response replayed from the store. */
export interface ReplayEvent {
  readonly key: string;
  readonly status: number;
}

/** An expired lock taken over (the previous owner crashed or hung). */
export interface TakeoverEvent {
  readonly key: string;
}
