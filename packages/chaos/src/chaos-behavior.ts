import type { ExecutionContext, Listener, PolicyDescription, Task } from '@faultline/core';
import { invoke } from '@faultline/core';
import type { ChaosBehaviorEvent } from './chaos-behavior-events.js';
import {
  type ChaosBehaviorOptions,
  type ResolvedChaosBehaviorOptions,
  resolveChaosBehaviorOptions,
} from './chaos-behavior-options.js';
import { ChaosKindPolicy } from './chaos-kind.js';

/** The behaviour injection policy; build it with {@link chaosBehavior}. */
export class ChaosBehaviorPolicy extends ChaosKindPolicy<
  ChaosBehaviorEvent,
  ResolvedChaosBehaviorOptions
> {
  constructor(options: ChaosBehaviorOptions) {
    super('chaosBehavior', 'chaos-behavior', resolveChaosBehaviorOptions(options));
  }

  /** After an injected side effect ran. Returns an unsubscribe function. */
  onBehavior(listener: Listener<ChaosBehaviorEvent>): () => void {
    return this.subscribe(listener);
  }

  protected async inject<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    await this.resolved.behavior(ctx);
    this.announce(ctx, { attempt: ctx.attempt });
    // Never call fn for a caller that left while the behaviour ran.
    if (ctx.aborted) throw ctx.abortReason;
    return invoke(fn, ctx);
  }

  describe(): PolicyDescription {
    return this.describeKind({ behavior: 'custom' });
  }
}

/**
 * Behaviour injection (Polly's chaos behaviour strategy): at the injection rate, a side effect
 * runs before the call (restart a dependency, drop its connections, fill its disk), then the call
 * runs as usual, so the system's reaction to the disturbance can be watched.
 *
 * @example
 * ```ts
 * import { chaosBehavior } from '@faultline/chaos';
 *
 * let drops = 0;
 * const flakyPool = chaosBehavior({ behavior: () => void drops++, injectionRate: 0.01 });
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function chaosBehavior(options: ChaosBehaviorOptions): ChaosBehaviorPolicy {
  return new ChaosBehaviorPolicy(options);
}
