import {
  EventChannel,
  type ExecutionContext,
  type Listener,
  type PolicyDescription,
  type Task,
} from '@faultline/core';
import type { ChaosOutcomeEvent } from './chaos-outcome-events.js';
import {
  type ChaosOutcomeFunction,
  type ChaosOutcomeOptions,
  resolveChaosOutcomeOptions,
} from './chaos-outcome-options.js';
import { ChaosPolicy } from './chaos-policy.js';

/**
 * The outcome injection policy; build it with {@link chaosOutcome}. The substitute's type `R` is
 * not tied to each call's `T` (a policy is built once and reused): return what callers expect.
 */
export class ChaosOutcomePolicy<R = unknown> extends ChaosPolicy {
  readonly #outcome: ChaosOutcomeFunction<R>;
  readonly #onOutcome = new EventChannel<ChaosOutcomeEvent>();

  constructor(options: ChaosOutcomeOptions<R>) {
    const resolved = resolveChaosOutcomeOptions<R>(options);
    super('chaosOutcome', resolved);
    this.#outcome = resolved.outcome;
  }

  /** When a call gets the substitute result. Returns an unsubscribe function. */
  onOutcome(listener: Listener<ChaosOutcomeEvent>): () => void {
    return this.#onOutcome.subscribe(listener);
  }

  protected async inject<T>(_fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const outcome = await this.#outcome(ctx);
    if (this.#onOutcome.hasListeners) this.#onOutcome.emit({ outcome, attempt: ctx.attempt });
    this.publishInjection(ctx, 'chaos-outcome');
    return outcome as unknown as T;
  }

  describe(): PolicyDescription {
    return { name: 'chaos-outcome', options: { ...this.describeCommon(), outcome: 'custom' } };
  }
}

/**
 * Outcome injection (Polly's chaos outcome strategy; Envoy's fault filter `abort` with an HTTP
 * status): at the injection rate, the call returns `outcome(ctx)` instead of running, e.g. a 503
 * `Response`, so that a `shouldHandle` classifying results can be seen at work.
 *
 * @example
 * ```ts
 * import { chaosOutcome } from '@faultline/chaos';
 *
 * const unavailable = chaosOutcome({
 *   outcome: () => new Response('injected', { status: 503 }),
 *   injectionRate: 0.02,
 * });
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function chaosOutcome<R = unknown>(options: ChaosOutcomeOptions<R>): ChaosOutcomePolicy<R> {
  return new ChaosOutcomePolicy<R>(options);
}
