/** Emitted (`onBehavior`) after an injected side effect ran, before the call runs. Plain data. */
export interface ChaosBehaviorEvent {
  /** The call's attempt number (`ctx.attempt`). */
  readonly attempt: number;
}
