import type { ExecutionContext, Listener, PolicyDescription, Task } from '@faultline/core';
import { invoke } from '@faultline/core';
import type { ChaosFaultEvent } from './chaos-fault-events.js';
import {
  type ChaosFaultOptions,
  type ResolvedChaosFaultOptions,
  resolveChaosFaultOptions,
} from './chaos-fault-options.js';
import { ChaosKindPolicy } from './chaos-kind.js';

/** The fault injection policy; build it with {@link chaosFault}. */
export class ChaosFaultPolicy extends ChaosKindPolicy<ChaosFaultEvent, ResolvedChaosFaultOptions> {
  constructor(options: ChaosFaultOptions) {
    super('chaosFault', 'chaos-fault', resolveChaosFaultOptions(options));
  }

  /** When a call gets the fault. Returns an unsubscribe function. */
  onFault(listener: Listener<ChaosFaultEvent>): () => void {
    return this.subscribe(listener);
  }

  protected inject<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    let fault = this.resolved.fault;
    if (typeof fault === 'function') {
      try {
        fault = (fault as (ctx: ExecutionContext) => unknown)(ctx);
      } catch (error) {
        return Promise.reject(error);
      }
      // The generator chose not to inject this time.
      if (fault === undefined) return Promise.resolve(invoke(fn, ctx));
    }
    this.announce(ctx, { fault, attempt: ctx.attempt }, fault);
    return Promise.reject(fault);
  }

  describe(): PolicyDescription {
    const fault = this.resolved.fault;
    return this.describeKind({
      fault:
        typeof fault === 'function' ? 'custom' : fault instanceof Error ? fault.name : typeof fault,
    });
  }
}

/**
 * Fault injection (Polly's chaos fault strategy): at the injection rate, the call throws `fault`
 * instead of running, so the policies around it (retry, breaker, fallback) can be seen handling
 * it. Put chaos policies innermost in a pipeline.
 *
 * @example
 * ```ts
 * import { chaosFault } from '@faultline/chaos';
 * import { pipeline, seededRandom } from '@faultline/core';
 * import { retry } from '@faultline/retry';
 *
 * const api = pipeline(
 *   retry({ maxAttempts: 3 }),
 *   chaosFault({ fault: new Error('injected'), injectionRate: 0.1, random: seededRandom(7) }),
 * );
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function chaosFault(options: ChaosFaultOptions): ChaosFaultPolicy {
  return new ChaosFaultPolicy(options);
}
