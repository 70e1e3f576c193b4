import { ExecutionRejectedError } from '@faultline/core';
import { formatMs } from '@faultline/core/internal';

/**
 * `lease.acquire()` could not get the lease within its `wait`: another owner holds it. Code
 * `LEASE_UNAVAILABLE`; `retryAfter` is the holder's remaining lease as the store last reported it
 * (ms), when known.
 */
export class LeaseUnavailableError extends ExecutionRejectedError {
  override name = 'LeaseUnavailableError';
  /** The resource asked for. */
  readonly resource: string;

  constructor(resource: string, retryAfter: number | undefined, waited: number) {
    const held =
      retryAfter === undefined ? '' : `; the holder's lease ends in ${formatMs(retryAfter)} ms`;
    super(
      `lease on ${JSON.stringify(resource)} is held by another owner (waited ${formatMs(waited)} ms)${held}`,
      { code: 'LEASE_UNAVAILABLE', retryAfter },
    );
    this.resource = resource;
  }
}

/**
 * What the errors about one held lease share: the resource and fencing token, and a message
 * `lease on "<resource>" (token <token>) <what>`. Not exported from the package: catch the
 * concrete errors (or `ExecutionRejectedError` and its `code`).
 */
export abstract class LeaseTokenError extends ExecutionRejectedError {
  readonly resource: string;
  readonly token: bigint;

  protected constructor(resource: string, token: bigint, what: string, code: string) {
    super(`lease on ${JSON.stringify(resource)} (token ${token}) ${what}`, { code });
    this.resource = resource;
    this.token = token;
  }
}

/**
 * A lease's local validity ended (the clock passed `ttl·(1 − maxDrift) − safetyMargin` after the
 * request that granted or last renewed it was sent, a process pause included). The abort reason
 * of `held.signal`; `acquire` also rejects with it when the grant arrived too late to be of use.
 * Code `LEASE_EXPIRED`. The holder must stop acting on the resource: another owner may hold it.
 */
export class LeaseExpiredError extends LeaseTokenError {
  override name = 'LeaseExpiredError';

  constructor(resource: string, token: bigint, detail = 'its local validity ended') {
    super(resource, token, `expired: ${detail}`, 'LEASE_EXPIRED');
  }
}

/**
 * The store refused to renew the lease: it expired there or another owner took it over. The abort
 * reason of `held.signal`, and what `held.renew()` rejects with. Code `LEASE_LOST`.
 */
export class LeaseLostError extends LeaseTokenError {
  override name = 'LeaseLostError';

  constructor(resource: string, token: bigint) {
    super(resource, token, 'was lost: the store no longer has it for this owner', 'LEASE_LOST');
  }
}

/**
 * The holder released the lease: the abort reason of `held.signal` afterwards (work still running
 * under it must stop). Code `LEASE_RELEASED`.
 */
export class LeaseReleasedError extends LeaseTokenError {
  override name = 'LeaseReleasedError';

  constructor(resource: string, token: bigint) {
    super(resource, token, 'was released', 'LEASE_RELEASED');
  }
}

/**
 * A lease store call took longer than the lease's `storeTimeout`. Code `LEASE_STORE_TIMEOUT`. A
 * grant that arrives after it is released again (best effort), never used.
 */
export class LeaseStoreTimeoutError extends ExecutionRejectedError {
  override name = 'LeaseStoreTimeoutError';
  readonly resource: string;
  /** The store operation that timed out. */
  readonly operation: 'acquire' | 'renew' | 'release';

  constructor(resource: string, operation: 'acquire' | 'renew' | 'release', timeout: number) {
    super(
      `lease store ${operation} for ${JSON.stringify(resource)} did not answer within storeTimeout ${formatMs(timeout)} ms`,
      { code: 'LEASE_STORE_TIMEOUT' },
    );
    this.resource = resource;
    this.operation = operation;
  }
}

/**
 * A fence refused an operation: its fencing token is lower than the highest token the resource has
 * already seen, so a newer lease holder has acted since (Kleppmann 2016). Code `FENCED_OUT`.
 */
export class FencedOutError extends ExecutionRejectedError {
  override name = 'FencedOutError';
  /** The token the rejected operation carried. */
  readonly token: bigint;
  /** The highest token the fence had seen. */
  readonly highest: bigint;

  constructor(token: bigint, highest: bigint, operation = 'operation') {
    super(
      `${operation} with fencing token ${token} rejected: the resource has already seen token ${highest}`,
      { code: 'FENCED_OUT' },
    );
    this.token = token;
    this.highest = highest;
  }
}
