import type { Clock } from '@faultline/clock';
import { BodyCapture } from './capture.js';
import { Deadline, type DeadlineQueue } from './deadline-queue.js';

/**
 * What renews the leases of one server: the queue that times every renewal (one timer for all,
 * each lease due `lockTtl / 3` after its claim or last renewal), the store call, and what to do
 * when the lock turns out lost.
 * @internal
 */
export interface Renewer {
  readonly queue: DeadlineQueue<Lease>;
  renew(lease: Lease): Promise<boolean>;
  lost(lease: Lease): void;
}

/**
 * The server's side of one execution: the fencing token its writes are compared against, and
 * the timers of its lock lease (renewal while the handler runs; the wait after the client left).
 * Hidden behind {@link ExecutionToken}: adapters hold the token, only the server core reaches
 * the lease. A lease is its own entry in the renewal queue, so keeping it alive allocates
 * nothing per request.
 * @internal
 */
export class Lease extends Deadline {
  /** The store key the lease is on. */
  readonly key: string;
  /**
   * The fencing token: an unguessable id written with the claim, which every later write of
   * this execution must present (a client must not be able to forge another owner's writes).
   */
  readonly owner: string = ownerToken();
  #finished = false;
  #renewer: Renewer | undefined;
  #cancelWait: (() => void) | undefined;

  constructor(key: string) {
    super();
    this.key = key;
  }

  /** Whether the execution was completed, released or interrupted. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Renews the lease through `renewer` every `lockTtl / 3` until stopped. When a renewal answers
   * `false` (the lock was lost) renewal stops and `renewer.lost` is called; when it fails (store
   * trouble) it keeps trying, and if the trouble lasts the lock expires and the next write is
   * fenced.
   */
  keepAlive(renewer: Renewer): void {
    this.#renewer = renewer;
    renewer.queue.add(this);
  }

  /** The renewal is due (called by the renewal queue). */
  expire(): void {
    const renewer = this.#renewer;
    if (renewer === undefined) return;
    renewer.renew(this).then(
      (renewed) => {
        if (this.#renewer !== renewer) return;
        if (renewed) {
          renewer.queue.add(this);
        } else {
          this.#renewer = undefined;
          renewer.lost(this);
        }
      },
      () => {
        if (this.#renewer === renewer) renewer.queue.add(this);
      },
    );
  }

  stopRenewal(): void {
    const renewer = this.#renewer;
    if (renewer === undefined) return;
    this.#renewer = undefined;
    renewer.queue.remove(this);
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

/**
 * `crypto.randomUUID()` as a flat string. Node builds it by concatenating hex pieces (a rope of
 * ~470 bytes of heap); reading one character makes V8 flatten it in place (~50 bytes). The memory
 * store keeps the owner of every record for `recordTtl`, so this was half of a small record.
 */
function flatUuid(): string {
  const id = crypto.randomUUID();
  void id.charCodeAt(0);
  return id;
}

let ownerToken: () => string = flatUuid;

/**
 * Replaces how fencing tokens are made. The Node adapters install one that hex-encodes 16 bytes
 * of a pool filled by `node:crypto` (as unguessable as `randomUUID`, which draws from a pool the
 * same way, without its string building); this browser-safe module keeps `randomUUID`. Tokens
 * are opaque to every store, so the two kinds can meet in one store.
 * @internal
 */
export function installOwnerToken(make: () => string): void {
  ownerToken = make;
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
