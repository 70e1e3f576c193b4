import type { Clock } from '@faultline/clock';
import { BodyCapture } from './capture.js';

/**
 * The server's side of one execution: the fencing token its writes are compared against, and
 * the timers of its lock lease (renewal while the handler runs; the wait after the client left).
 * Hidden behind {@link ExecutionToken}: adapters hold the token, only the server core reaches
 * the lease.
 * @internal
 */
export class Lease {
  /**
   * The fencing token: an unguessable id written with the claim, which every later write of
   * this execution must present (a client must not be able to forge another owner's writes).
   */
  readonly owner: string = crypto.randomUUID();
  #finished = false;
  #renewing = false;
  #cancelRenewal: (() => void) | undefined;
  #cancelWait: (() => void) | undefined;

  /** Whether the execution was completed, released or interrupted. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Calls `renew` every `interval` ms until stopped. When it answers `false` (the lock was lost)
   * renewal stops and `lost()` is called; when it fails (store trouble) it keeps trying, and if
   * the trouble lasts the lock expires and the next write is fenced.
   */
  keepAlive(clock: Clock, interval: number, renew: () => Promise<boolean>, lost: () => void): void {
    const arm = (): void => {
      this.#cancelRenewal = clock.setTimer(interval, tick, { unref: true });
    };
    const tick = (): void => {
      this.#cancelRenewal = undefined;
      renew().then(
        (renewed) => {
          if (!this.#renewing) return;
          if (renewed) {
            arm();
          } else {
            this.#renewing = false;
            lost();
          }
        },
        () => {
          if (this.#renewing) arm();
        },
      );
    };
    this.#renewing = true;
    arm();
  }

  stopRenewal(): void {
    this.#renewing = false;
    this.#cancelRenewal?.();
    this.#cancelRenewal = undefined;
  }

  /** Runs `then` after `ms` unless the execution finishes first. Once: `false` if already set. */
  wait(clock: Clock, ms: number, then: () => void): boolean {
    if (this.#finished || this.#cancelWait !== undefined) return false;
    this.#cancelWait = clock.setTimer(
      ms,
      () => {
        this.#cancelWait = undefined;
        if (!this.#finished) then();
      },
      { unref: true },
    );
    return true;
  }

  /** Marks the execution finished and stops every timer; `false` if it already was. */
  finish(): boolean {
    if (this.#finished) return false;
    this.#finished = true;
    this.stopRenewal();
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    return true;
  }
}

let leaseOf: (token: ExecutionToken) => Lease;

/** An execution in progress: the adapter keeps it from `begin` to `complete`/`release`. */
export class ExecutionToken {
  /** The store key (hash of namespace, scope and client key). */
  readonly key: string;
  /** Largest body the record will keep. */
  readonly maxStoredBodyBytes: number;
  readonly #lease: Lease;

  static {
    leaseOf = (token) => token.#lease;
  }

  /** @internal */
  constructor(key: string, lease: Lease, maxStoredBodyBytes: number) {
    this.key = key;
    this.#lease = lease;
    this.maxStoredBodyBytes = maxStoredBodyBytes;
  }

  /** A body collector bounded by `maxStoredBodyBytes`, for adapters that see chunks. */
  capture(): BodyCapture {
    return new BodyCapture(this.maxStoredBodyBytes);
  }
}

/** The lease behind `token`. @internal */
export function leaseOfToken(token: ExecutionToken): Lease {
  return leaseOf(token);
}
