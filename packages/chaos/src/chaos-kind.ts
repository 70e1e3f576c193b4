import {
  EventChannel,
  type ExecutionContext,
  type Listener,
  type PolicyDescription,
  type TelemetryAttributes,
} from '@faultline/core';
import type { ResolvedChaosOptions } from './chaos-options.js';
import { ChaosPolicy } from './chaos-policy.js';

/** The chaos kinds: each one's `describe()` name and telemetry event. */
export type ChaosKind = 'chaos-behavior' | 'chaos-fault' | 'chaos-latency' | 'chaos-outcome';

/**
 * What every chaos kind (fault, latency, behaviour, outcome) adds to {@link ChaosPolicy} in the
 * same way: its resolved options, its one event channel (`onFault`, `onLatency`, …) and the
 * announcement of an injection on that channel and on core's telemetry stream.
 * @internal
 */
export abstract class ChaosKindPolicy<
  E,
  R extends ResolvedChaosOptions = ResolvedChaosOptions,
> extends ChaosPolicy {
  /** The kind's options, validated and complete. */
  protected readonly resolved: R;
  readonly #kind: ChaosKind;
  readonly #events = new EventChannel<E>();

  protected constructor(owner: string, kind: ChaosKind, resolved: R) {
    super(owner, resolved);
    this.resolved = resolved;
    this.#kind = kind;
  }

  /** Subscribes to the kind's event. Returns an unsubscribe function. */
  protected subscribe(listener: Listener<E>): () => void {
    return this.#events.subscribe(listener);
  }

  /** An injection happened: emits `event` to the kind's listeners, then publishes it. */
  protected announce(
    ctx: ExecutionContext,
    event: E,
    error?: unknown,
    attributes?: TelemetryAttributes,
  ): void {
    if (this.#events.hasListeners) this.#events.emit(event);
    this.publishInjection(ctx, this.#kind, error, attributes);
  }

  /** `describe()`: the kind's name, the shared options and the kind's own. */
  protected describeKind(options: Record<string, unknown>): PolicyDescription {
    return { name: this.#kind, options: { ...this.describeCommon(), ...options } };
  }
}
