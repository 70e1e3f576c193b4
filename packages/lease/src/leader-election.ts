import { reportListenerError } from '@faultline/clock/internal';
import {
  checkOptions,
  formatValue,
  identify,
  optionalFunction,
  type PolicyIdentity,
  publishEvent,
  telemetry,
} from '@faultline/core';
import type { HeldLease, KeepAliveOptions } from './held-lease.js';
import { Lease } from './lease.js';
import { LeaseExpiredError, LeaseLostError, LeaseReleasedError } from './lease-errors.js';

/** Options of {@link leaderElection}. */
export interface LeaderElectionOptions {
  /** The lease whose holder is the leader (one `createLease` per candidate process). Required. */
  readonly lease: Lease;
  /**
   * Called when this candidate becomes the leader, with the held lease: lead while `held.signal`
   * is not aborted, and carry `held.token` to every resource you touch. An error it throws is
   * reported (as an event listener's would), and leadership continues.
   */
  readonly onElected?: (held: HeldLease) => void;
  /**
   * Called when leadership ends, with the reason: `LeaseLostError`, `LeaseExpiredError` (a failed
   * renewal or a pause), or `LeaseReleasedError` after `stop()`. An error it throws is reported.
   */
  readonly onDemoted?: (reason: unknown) => void;
  /** How the leader renews its lease. Default `held.keepAlive()`'s (every ttl / 3). */
  readonly keepAlive?: KeepAliveOptions;
  /** Names the election in telemetry. Default `'leader-election'`. */
  readonly name?: string;
}

/** A candidate's state, as its telemetry gauge reports it. */
export type LeaderElectionState = 'stopped' | 'follower' | 'leader';
const ELECTION_STATES: readonly LeaderElectionState[] = Object.freeze([
  'stopped',
  'follower',
  'leader',
]);

function noop(): void {}

function reasonOf(error: unknown): 'lost' | 'expired' | 'released' | 'other' {
  if (error instanceof LeaseLostError) return 'lost';
  if (error instanceof LeaseExpiredError) return 'expired';
  if (error instanceof LeaseReleasedError) return 'released';
  return 'other';
}

/**
 * Leader election on a lease (DDIA ch. 8, "The leader and the lock"; Chubby's primary election):
 * every candidate campaigns by waiting to acquire the same lease; the holder leads, renews in the
 * background, and is demoted the moment its lease ends (a refused renewal, expiry, a pause that
 * outlasted it). A demoted leader campaigns again. A paused leader is replaced within about
 * `ttl + retryInterval`; its late actions must be refused at the resource by the fencing token.
 */
export class LeaderElection {
  readonly name: string;
  readonly lease: Lease;
  readonly #identity: PolicyIdentity;
  readonly #onElected: (held: HeldLease) => void;
  readonly #onDemoted: (reason: unknown) => void;
  readonly #keepAlive: KeepAliveOptions | undefined;
  #campaign: AbortController | undefined;
  #running: Promise<void> | undefined;
  #held: HeldLease | undefined;

  constructor(options: LeaderElectionOptions) {
    const owner = 'leaderElection';
    const opts = checkOptions<LeaderElectionOptions>(owner, options);
    if (!(opts.lease instanceof Lease)) {
      throw new TypeError(
        `${owner}: option "lease" must be a Lease (from createLease), received ${formatValue(opts.lease)}`,
      );
    }
    this.lease = opts.lease;
    this.#onElected = optionalFunction(owner, 'onElected', opts.onElected, noop);
    this.#onDemoted = optionalFunction(owner, 'onDemoted', opts.onDemoted, noop);
    this.#keepAlive = checkOptions<KeepAliveOptions>(owner, opts.keepAlive);
    this.#identity = identify(owner, 'leader-election', opts.name);
    this.name = this.#identity.name;
    telemetry.trackState(this, this.#identity, ELECTION_STATES, LeaderElection.#peek);
  }

  /** `'leader'`, `'follower'` (campaigning) or `'stopped'` (not started, or stopped). */
  get state(): LeaderElectionState {
    return LeaderElection.#peek(this);
  }

  static #peek(election: LeaderElection): LeaderElectionState {
    // Never reads the lease's validity: that read may end the lease, and a gauge must not.
    if (election.#held !== undefined) return 'leader';
    return election.#campaign === undefined ? 'stopped' : 'follower';
  }

  /** Whether this candidate leads now (its lease locally valid). */
  get isLeader(): boolean {
    return this.#held?.valid === true;
  }

  /** The lease this candidate leads with, while it leads. */
  get leader(): HeldLease | undefined {
    return this.isLeader ? this.#held : undefined;
  }

  /** Starts campaigning (idempotent). Returns the election. */
  start(): this {
    if (this.#campaign !== undefined) return this;
    const campaign = new AbortController();
    this.#campaign = campaign;
    this.#running = this.#run(campaign.signal);
    return this;
  }

  /**
   * Stops campaigning; a leader releases its lease (demoted with `LeaseReleasedError`) so another
   * candidate takes over at once. Resolves when the campaign has ended.
   */
  async stop(): Promise<void> {
    const campaign = this.#campaign;
    if (campaign === undefined) return;
    this.#campaign = undefined;
    campaign.abort(new Error('leaderElection stopped'));
    await this.#held?.release().catch(noop);
    await this.#running;
  }

  async #run(stopped: AbortSignal): Promise<void> {
    const lease = this.lease;
    while (!stopped.aborted) {
      let held: HeldLease;
      try {
        held = await lease.acquire({ wait: Number.POSITIVE_INFINITY, signal: stopped });
      } catch {
        // A store failure or timeout (reported by the lease), or a grant that came too late.
        if (stopped.aborted) return;
        try {
          await lease.clock.sleep(lease.retryInterval, stopped);
        } catch {
          return;
        }
        continue;
      }
      if (stopped.aborted) {
        await held.release().catch(noop);
        return;
      }
      this.#held = held;
      const ended = new Promise<void>((resolve) => {
        const signal = held.signal;
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      held.keepAlive(this.#keepAlive);
      if (telemetry.hasSubscribers) {
        publishEvent(this.#identity, undefined, 'leader-elected', lease.clock.now());
      }
      this.#call(this.#onElected, held);
      await ended;
      this.#held = undefined;
      const reason: unknown = held.signal.reason;
      if (telemetry.hasSubscribers) {
        publishEvent(this.#identity, undefined, 'leader-demoted', lease.clock.now(), reason, {
          reason: reasonOf(reason),
        });
      }
      this.#call(this.#onDemoted, reason);
    }
  }

  #call<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (error) {
      reportListenerError(error);
    }
  }
}

/** Builds a {@link LeaderElection}; call `start()` to campaign. */
export function leaderElection(options: LeaderElectionOptions): LeaderElection {
  return new LeaderElection(options);
}
