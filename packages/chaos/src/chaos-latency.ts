import type { ExecutionContext, Listener, PolicyDescription, Task } from '@faultline/core';
import { checkNumber, invoke } from '@faultline/core';
import { ChaosKindPolicy } from './chaos-kind.js';
import type { ChaosLatencyEvent } from './chaos-latency-events.js';
import {
  type ChaosLatencyOptions,
  type ResolvedChaosLatencyOptions,
  resolveChaosLatencyOptions,
} from './chaos-latency-options.js';

const OWNER = 'chaosLatency';

/** The latency injection policy; build it with {@link chaosLatency}. */
export class ChaosLatencyPolicy extends ChaosKindPolicy<
  ChaosLatencyEvent,
  ResolvedChaosLatencyOptions
> {
  constructor(options: ChaosLatencyOptions) {
    super(OWNER, 'chaos-latency', resolveChaosLatencyOptions(options));
  }

  /** When an injected call starts its wait. Returns an unsubscribe function. */
  onLatency(listener: Listener<ChaosLatencyEvent>): () => void {
    return this.subscribe(listener);
  }

  protected async inject<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const latency = this.resolved.latency;
    const ms =
      typeof latency === 'number'
        ? latency
        : checkNumber(OWNER, 'latency(ctx) result', latency(ctx), { min: 0, allowInfinity: true });
    if (ms > 0) {
      this.announce(ctx, { latency: ms, attempt: ctx.attempt }, undefined, { latency: ms });
      await this.#wait(ms, ctx);
      // Never call fn for a caller that left during the wait.
      if (ctx.aborted) throw ctx.abortReason;
    }
    return invoke(fn, ctx);
  }

  /**
   * Waits `ms` on the clock, rejecting at once with the abort reason when `ctx` aborts (the caller,
   * or an enclosing timeout): watched with `ctx.onAbort`, so no AbortSignal is created and no
   * timer or listener is left behind either way.
   */
  #wait(ms: number, ctx: ExecutionContext): Promise<void> {
    if (ctx.aborted) return Promise.reject(ctx.abortReason);
    return new Promise<void>((resolve, reject) => {
      let cancel: (() => void) | undefined;
      const unsubscribe = ctx.onAbort(() => {
        if (cancel !== undefined) cancel();
        reject(ctx.abortReason);
      });
      // An infinite wait (a hang) sets no timer: only the abort ends it.
      if (ms === Number.POSITIVE_INFINITY) return;
      cancel = this.clock.setTimer(ms, () => {
        if (unsubscribe !== undefined) unsubscribe();
        resolve();
      });
    });
  }

  describe(): PolicyDescription {
    const latency = this.resolved.latency;
    return this.describeKind({ latency: typeof latency === 'number' ? latency : 'custom' });
  }
}

/**
 * Latency injection (Polly's chaos latency strategy; Envoy's fault filter `delay`): at the
 * injection rate, the call waits `latency` ms on the clock before it runs, so that timeouts,
 * hedges and adaptive timeouts around it can be seen reacting. The wait ends at once when the
 * caller or an enclosing timeout gives up, and leaves no timer.
 *
 * @example
 * ```ts
 * import { chaosLatency } from '@faultline/chaos';
 * import { pipeline } from '@faultline/core';
 * import { timeout } from '@faultline/timeout';
 *
 * const api = pipeline(timeout(500), chaosLatency({ latency: 2_000, injectionRate: 0.05 }));
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function chaosLatency(options: ChaosLatencyOptions): ChaosLatencyPolicy {
  return new ChaosLatencyPolicy(options);
}
