import {
  EventChannel,
  type ExecutionContext,
  invoke,
  type Listener,
  type PolicyDescription,
  type Task,
} from '@faultline/core';
import type { ChaosBehaviorEvent } from './chaos-behavior-events.js';
import {
  type ChaosBehaviorFunction,
  type ChaosBehaviorOptions,
  resolveChaosBehaviorOptions,
} from './chaos-behavior-options.js';
import { ChaosPolicy } from './chaos-policy.js';

/** The behaviour injection policy; build it with {@link chaosBehavior}. */
export class ChaosBehaviorPolicy extends ChaosPolicy {
  readonly #behavior: ChaosBehaviorFunction;
  readonly #onBehavior = new EventChannel<ChaosBehaviorEvent>();

  constructor(options: ChaosBehaviorOptions) {
    const resolved = resolveChaosBehaviorOptions(options);
    super('chaosBehavior', resolved);
    this.#behavior = resolved.behavior;
  }

  /** After an injected side effect ran. Returns an unsubscribe function. */
  onBehavior(listener: Listener<ChaosBehaviorEvent>): () => void {
    return this.#onBehavior.subscribe(listener);
  }

  protected async inject<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    await this.#behavior(ctx);
    if (this.#onBehavior.hasListeners) this.#onBehavior.emit({ attempt: ctx.attempt });
    this.publishInjection(ctx, 'chaos-behavior');
    // Never call fn for a caller that left while the behaviour ran.
    if (ctx.aborted) throw ctx.abortReason;
    return invoke(fn, ctx);
  }

  describe(): PolicyDescription {
    return { name: 'chaos-behavior', options: { ...this.describeCommon(), behavior: 'custom' } };
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
